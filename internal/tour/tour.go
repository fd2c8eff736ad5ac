package tour

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/box"
)

// Config says where the tour gets its packs and browser and where it
// writes.
type Config struct {
	Out      string    // screenshots and findings.txt go here; made when missing
	Packs    string    // content packs in source form (content-packs/)
	Chromium string    // the browser; Debian's chromium by default
	Langs    []string  // the UI languages of the screenshots; tg, ru, en by default
	Log      io.Writer // progress, a line a page; nil: none
	Docs     string    // when set, DocShots are copied here (docs/screenshots)
	Scope    string    // audit only the elements in this CSS selector ("" for the whole page)
}

// DocShots are the screenshots the README shows (make tour-docs copies
// them into docs/screenshots, without their step numbers): the projector's
// phases, a phone in the quiz, the heatmap.
var DocShots = []string{
	"live-screen-joined-projector-en", "live-screen-question-projector-en", "live-screen-reveal-q1-projector-en",
	"live-screen-board-projector-en", "live-screen-end-projector-en",
	"live-play-question-phone-tg", "live-play-reveal-q1-phone-tg", "progress-laptop-en",
}

// A Size is a screen the tour looks at every page on.
type Size struct {
	Name          string
	Width, Height int64
	Phone         bool // a touch screen, checked for tap targets
}

// Sizes are the phone, the laptop and the projector of issue 15.
var Sizes = []Size{
	{"phone", 360, 640, true},
	{"laptop", 1280, 800, false},
	{"projector", 1920, 1080, false},
}

// A Report is what one tour saw.
type Report struct {
	Pages    int       // pages visited
	Shots    int       // screenshots written
	Findings []Finding // the audit's, in the order found
	Took     time.Duration
}

// failed is how a step of the lesson gives up: Run recovers it.
type failed struct{ err error }

// Run plays the lesson on a new box on a temporary data directory and
// returns what the audit found. An error means the lesson could not be
// played to its end (the box, the browser, or a page that did not do what
// a user expects); findings are no error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	if cfg.Chromium == "" {
		cfg.Chromium = "/usr/bin/chromium"
	}
	if len(cfg.Langs) == 0 {
		cfg.Langs = []string{"tg", "ru", "en"}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	old, _ := filepath.Glob(filepath.Join(cfg.Out, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	data, err := os.MkdirTemp("", "stembox-tour-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(data)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := box.Open(ctx, box.Config{Addr: "127.0.0.1:0", DataDir: data, DevPacks: cfg.Packs, Lang: "tg"}, logger)
	if err != nil {
		return nil, fmt.Errorf("tour: open the box: %w", err)
	}
	defer b.Close()
	bctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(bctx) }()
	defer func() { stop(); <-done }()

	actx, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(cfg.Chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"), chromedp.Flag("use-mock-keychain", true), chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(filepath.Join(data, "chromium")))
	defer cancel()
	browser, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		return nil, fmt.Errorf("tour: start %s: %w", cfg.Chromium, err)
	}

	t := &tour{cfg: cfg, base: "http://" + b.Addr().String(), browser: browser, box: b, rep: &Report{}}
	err = t.play(t.lesson)
	t.rep.Took = time.Since(start)
	if werr := t.writeFindings(); werr != nil && err == nil {
		err = werr
	}
	if err == nil && cfg.Docs != "" {
		err = copyDocShots(cfg.Out, cfg.Docs)
	}
	return t.rep, err
}

// play runs steps, which end the tour with an error by t.failf.
func (t *tour) play(steps func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failed)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	steps()
	return nil
}

// copyDocShots copies DocShots from out to docs, as NAME.png.
func copyDocShots(out, docs string) error {
	if err := os.MkdirAll(docs, 0o755); err != nil {
		return err
	}
	for _, name := range DocShots {
		found, _ := filepath.Glob(filepath.Join(out, "[0-9][0-9]-"+name+".png"))
		if len(found) != 1 {
			return fmt.Errorf("tour: screenshot %s: found %d, want 1", name, len(found))
		}
		b, err := os.ReadFile(found[0])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(docs, name+".png"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tour is one run's state.
type tour struct {
	cfg     Config
	base    string
	browser context.Context
	box     *box.Box
	rep     *Report
	step    int
}

func (t *tour) failf(format string, args ...any) {
	panic(failed{fmt.Errorf("tour: "+format, args...)})
}

func (t *tour) logf(format string, args ...any) { fmt.Fprintf(t.cfg.Log, format+"\n", args...) }

// writeFindings writes findings.txt in the output folder: each finding on
// a line, then the count per check.
func (t *tour) writeFindings() error {
	var b strings.Builder
	per := map[string]int{}
	for _, f := range t.rep.Findings {
		b.WriteString(f.String() + "\n")
		per[f.Check]++
	}
	var checks []string
	for c := range per {
		checks = append(checks, c)
	}
	sort.Strings(checks)
	fmt.Fprintf(&b, "\n%d findings on %d pages (%d screenshots)", len(t.rep.Findings), t.rep.Pages, t.rep.Shots)
	for _, c := range checks {
		fmt.Fprintf(&b, "; %s %d", c, per[c])
	}
	b.WriteString("\n")
	return os.WriteFile(filepath.Join(t.cfg.Out, "findings.txt"), []byte(b.String()), 0o644)
}

// ErrFindings is what cmd/stembox-tour exits with when the audit found
// anything.
var ErrFindings = errors.New("tour: the audit found faults")
