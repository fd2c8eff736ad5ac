// Command stembox-preview-bench is the studio preview's part of `make
// bench`: a real `stembox serve` process, 20 teachers signed in on devices
// of their own, all typing at once. Each types a paragraph of her own with
// three formulas, a few characters at a time, and after every few
// keystrokes (as preview.js does when she pauses) posts the paragraph so
// far to POST /teach/studio/preview and waits for the answer. Since the
// formulas grow as she types, most previews hold a formula the box has not
// rendered before (half-typed ones KaTeX refuses among them).
//
// It reports the latency of the previews (p50, p99, max), the previews per
// second and any failures. Target: p99 ≤ 200 ms on a 2-core machine. It
// reports; it does not fail on a slow p99.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	stembox := flag.String("stembox", "./stembox", "the stembox binary to measure")
	packs := flag.String("packs", "content-packs", "sample pack sources")
	teachers := flag.Int("teachers", 20, "teachers typing at once")
	every := flag.Int("every", 3, "keystrokes between previews")
	pause := flag.Duration("pause", 300*time.Millisecond, "a teacher's time between previews, besides waiting for one (preview.js waits 300 ms after the last keystroke)")
	flag.Parse()
	if err := run(*stembox, *packs, *teachers, *every, *pause); err != nil {
		fmt.Fprintln(os.Stderr, "stembox-preview-bench:", err)
		os.Exit(1)
	}
}

const password = "preview-bench-pw"

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func run(bin, packs string, teachers, every int, pause time.Duration) error {
	tmp, err := os.MkdirTemp("", "stembox-preview-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", filepath.Join(tmp, "data"), "--dev-packs", packs, "--log-level", "warn", "--lang", "en")
	out, err := os.Create(filepath.Join(tmp, "box.log"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	if err := waitUp(base); err != nil {
		return err
	}
	devs, err := signInTeachers(base, teachers)
	if err != nil {
		return err
	}
	fmt.Printf("studio preview: %d teachers typing at once, a preview every %d keystrokes and %v, GOMAXPROCS %d\n",
		teachers, every, pause, runtime.GOMAXPROCS(0))
	var (
		mu    sync.Mutex
		lat   []time.Duration
		fails []string
		wg    sync.WaitGroup
	)
	start := time.Now()
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(int64(i)))
			text := paragraph(i)
			for n := every; ; n += every {
				n = min(n, len(text))
				t0 := time.Now()
				status, body, err := d.preview(text[:n])
				took := time.Since(t0)
				mu.Lock()
				lat = append(lat, took)
				switch {
				case err != nil:
					fails = append(fails, err.Error())
				case status != 200 || !strings.Contains(body, `class="preview"`):
					fails = append(fails, fmt.Sprintf("status %d: %.200s", status, body))
				}
				mu.Unlock()
				if n == len(text) {
					return
				}
				time.Sleep(pause + time.Duration(rnd.Intn(200))*time.Millisecond)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("  previews: %d in %v (%.0f/s), failed %d\n", len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(), len(fails))
	q := percentiles(lat, 50, 90, 99, 100)
	fmt.Printf("  latency: p50 %v, p90 %v, p99 %v, max %v (target p99 ≤ 200ms)\n", q[0], q[1], q[2], q[3])
	for i, f := range fails {
		if i == 5 {
			fmt.Printf("  … and %d more\n", len(fails)-5)
			break
		}
		fmt.Println("  failed:", f)
	}
	if len(fails) > 0 {
		return errors.New("some previews failed")
	}
	return nil
}

// paragraph is teacher i's text: three formulas whose numbers are hers, so
// that teachers do not share formulas (as they would not).
func paragraph(i int) string {
	a, b, c := i+2, 2*i+3, 3*i+5
	return fmt.Sprintf("Қувваи %d Н ба ҷисми массааш %d кг таъсир мекунад. Шитоб $a = \\frac{F}{m} = \\frac{%d}{%d}$ м/с² аст. "+
		"Роҳ пас аз $t = %d$ с: $$s = \\frac{a t^2}{2} = \\frac{%d \\cdot %d^2}{2 \\cdot %d}$$ "+
		"Суръат $v = \\sqrt{2 a s} \\approx %d{,}%d$ м/с.", a, b, a, b, c, a, c, b, a+b, c)
}

type teacher struct {
	base, csrf string
	c          *http.Client
}

func (t *teacher) preview(text string) (int, string, error) {
	resp, err := t.c.PostForm(t.base+"/teach/studio/preview", url.Values{"csrf": {t.csrf}, "text": {text}, "lang": {"tg"}})
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// signInTeachers sets the box up with an admin, who makes the teachers;
// each signs in on a device (a cookie jar and connections) of her own.
func signInTeachers(base string, n int) ([]*teacher, error) {
	admin, err := newDevice(base)
	if err != nil {
		return nil, err
	}
	if _, err := admin.post("/setup", url.Values{"username": {"admin"}, "name": {"Admin"}, "password": {password}, "password2": {password}}); err != nil {
		return nil, err
	}
	var out []*teacher
	for i := range n {
		name := fmt.Sprintf("teacher%02d", i)
		if _, err := admin.post("/admin/teachers", url.Values{"csrf": {admin.csrf}, "username": {name}, "password": {password}, "role": {"teacher"}}); err != nil {
			return nil, err
		}
		d, err := newDevice(base)
		if err != nil {
			return nil, err
		}
		if _, err := d.post("/login", url.Values{"username": {name}, "password": {password}}); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func newDevice(base string) (*teacher, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &teacher{base: base, c: &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{}}}, nil
}

// post posts a form (following the redirect) and keeps the CSRF token of
// the page it lands on.
func (t *teacher) post(path string, form url.Values) (string, error) {
	resp, err := t.c.PostForm(t.base+path, form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	if m := csrfRE.FindSubmatch(b); m != nil {
		t.csrf = string(m[1])
	}
	return string(b), nil
}

// waitUp waits for the box to answer /readyz (packs built and installed).
func waitUp(base string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			return errors.New("the box did not start within a minute")
		}
	}
}

// percentiles returns the ps-th percentiles of xs (100 is the maximum).
func percentiles(xs []time.Duration, ps ...int) []time.Duration {
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		if len(sorted) > 0 {
			out[i] = sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(time.Millisecond)
		}
	}
	return out
}
