// Package browsertest starts the headless Chromium that browser tests drive
// and keeps their screenshots. Browser tests are slow: they skip under
// -short and where Debian's Chromium is not installed.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/logtest"
)

// Chromium is Debian's Chromium (apt-get install chromium).
const Chromium = "/usr/bin/chromium"

// Need skips t, saying why, under -short or without Chromium.
func Need(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped under -short")
	}
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("browser test skipped: no Chromium at %s (apt-get install chromium)", Chromium)
	}
}

// Browser is one headless Chromium with a fresh profile.
type Browser struct {
	Ctx    context.Context // its first tab, in the default browser context
	Output *logtest.Buffer // Chromium's own stdout and stderr
}

// Start starts Chromium, with extra options after the usual ones; it is
// stopped, and the test's whole browser part bounded, by timeout. When the
// test fails, Chromium's output is logged.
func Start(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	out := &logtest.Buffer{}
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	}, extra...)...)
	t.Cleanup(allocCancel)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v\n%s", Chromium, err, out.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			var keep []string // without the noise of a machine with no D-Bus
			for _, l := range strings.Split(out.String(), "\n") {
				if !strings.Contains(l, "dbus") {
					keep = append(keep, l)
				}
			}
			t.Logf("Chromium's output:\n%s", strings.Join(keep, "\n"))
		}
	})
	return &Browser{Ctx: bctx, Output: out}
}

// Shots saves full-page screenshots, numbered in the order taken, in
// $STEMBOX_ARTIFACTS/<dir> (CI keeps them), else in a temporary directory.
// When the test ends, it logs where they are, also when the test failed
// half-way.
type Shots struct {
	t      *testing.T
	dir    string
	prefix string

	mu    sync.Mutex
	files []string
}

// NewShots keeps t's screenshots in dir, their names starting with prefix.
func NewShots(t *testing.T, dir, prefix string) *Shots {
	if a := os.Getenv("STEMBOX_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		dir = t.TempDir()
	}
	s := &Shots{t: t, dir: dir, prefix: prefix}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Logf("%d screenshots in %s:\n  %s", len(s.files), s.dir, strings.Join(s.files, "\n  "))
	})
	return s
}

// Take saves a screenshot of the page of the tab in ctx.
func (s *Shots) Take(ctx context.Context, name string) error {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		return fmt.Errorf("screenshot %s is not a PNG", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	file := filepath.Join(s.dir, fmt.Sprintf("%s%02d-%s.png", s.prefix, len(s.files)+1, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		return err
	}
	s.files = append(s.files, file)
	return nil
}
