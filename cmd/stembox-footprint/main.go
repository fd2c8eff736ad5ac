// Command stembox-footprint measures what a box costs the machine it runs
// on: the binary's size for each architecture, the cold start with all the
// sample packs, the memory it holds when idle, and the memory it holds with
// 200 students connected — 200 keep-alive HTTP clients, each with its own
// cookie, reading the catalogue, a pack, lessons, exercises and the
// stylesheet about once a second and answering now and then.
//
// Live sessions' websockets are not part of the load: each student is one
// keep-alive connection polling pages.
//
//	go run ./cmd/stembox-footprint --stembox ./stembox   (make footprint)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/learn"
)

// Targets from the issue: on this machine, idle memory under 40 MB and a
// start under a second.
const (
	targetIdleRSS = 40 << 20
	targetStart   = time.Second
)

func main() {
	var (
		stembox  = flag.String("stembox", "./stembox", "the stembox binary to measure")
		packs    = flag.String("packs", "content-packs", "the sample pack sources")
		dist     = flag.String("dist", "dist", "where make release put the binaries of every architecture")
		students = flag.Int("students", 200, "students connected at once")
		duration = flag.Duration("duration", 20*time.Second, "how long the students stay")
		strict   = flag.Bool("strict", false, "exit 1 if a target is missed")
	)
	flag.Parse()
	ok, err := run(*stembox, *packs, *dist, *students, *duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stembox-footprint:", err)
		os.Exit(1)
	}
	if *strict && !ok {
		os.Exit(1)
	}
}

func run(bin, packs, dist string, students int, duration time.Duration) (bool, error) {
	bin, _ = filepath.Abs(bin)
	fmt.Println("binary size")
	sizes := []string{bin}
	more, _ := filepath.Glob(filepath.Join(dist, "stembox-linux-*"))
	sizes = append(sizes, more...)
	for _, f := range sizes {
		if st, err := os.Stat(f); err == nil {
			fmt.Printf("  %-40s %6.1f MB\n", f, float64(st.Size())/(1<<20))
		}
	}
	if len(more) == 0 {
		fmt.Println("  (no ARM builds in " + dist + ": make release builds them)")
	}

	dir, err := os.MkdirTemp("", "stembox-footprint-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")

	start := time.Now()
	p, err := startBox(bin, data, packs)
	if err != nil {
		return false, err
	}
	firstBoot := time.Since(start)
	p.stop()
	answers, err := answerBodies(data)
	if err != nil {
		return false, err
	}

	// Cold start: the packs are installed; from exec to the first page.
	var starts []time.Duration
	for range 3 {
		start := time.Now()
		p, err = startBox(bin, data, packs)
		if err != nil {
			return false, err
		}
		starts = append(starts, time.Since(start))
		p.stop()
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	cold := starts[len(starts)/2]

	p, err = startBox(bin, data, packs)
	if err != nil {
		return false, err
	}
	defer p.stop()
	time.Sleep(3 * time.Second)
	idle := rss(p.cmd.Process.Pid)

	fmt.Printf("\nfirst start (builds and installs the %s packs): %s\n", packs, firstBoot.Round(time.Millisecond))
	fmt.Printf("cold start (packs installed, to the first page; median of 3): %s\n", cold.Round(time.Millisecond))
	fmt.Printf("idle RSS: %.1f MB\n", float64(idle)/(1<<20))

	peak, end, stats, err := crowd(p, students, duration, answers)
	if err != nil {
		return false, err
	}
	fmt.Printf("\n%d students for %s (keep-alive HTTP, a page a second each, an answer every ~5 pages; no websockets):\n", students, duration)
	fmt.Printf("  %d requests (%.0f/s), %d failed; latency p50 %s, p95 %s, p99 %s\n", stats.n, float64(stats.n)/duration.Seconds(), stats.failed,
		stats.pct(0.50), stats.pct(0.95), stats.pct(0.99))
	fmt.Printf("  open connections seen by the box: %s\n", stats.conns)
	fmt.Printf("  RSS: peak %.1f MB, at the end %.1f MB\n", float64(peak)/(1<<20), float64(end)/(1<<20))
	time.Sleep(3 * time.Second)
	fmt.Printf("  RSS 3 s after they left: %.1f MB\n", float64(rss(p.cmd.Process.Pid))/(1<<20))

	ok := true
	fmt.Println("\ntargets")
	check := func(name string, pass bool, got, want string) {
		word := "ok"
		if !pass {
			word, ok = "MISSED", false
		}
		fmt.Printf("  %-12s %-8s %s (target %s)\n", name, word, got, want)
	}
	check("idle RSS", idle < targetIdleRSS, fmt.Sprintf("%.1f MB", float64(idle)/(1<<20)), "< 40 MB")
	check("cold start", cold < targetStart, cold.Round(time.Millisecond).String(), "< 1s")
	check("students", stats.failed == 0, fmt.Sprintf("%d failed requests", stats.failed), "none failed")
	return ok, nil
}

type process struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

func (p *process) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func startBox(bin, data, packs string) (*process, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", data, "--dev-packs", packs, "--lang", "en", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, base: "http://" + addr, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("stembox exited: %v", cmd.ProcessState)
		default:
		}
		if resp, err := client.Get(p.base + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("stembox did not serve within 5 minutes")
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

type crowdStats struct {
	n, failed int64
	mu        sync.Mutex
	latencies []time.Duration
	conns     string
}

func (s *crowdStats) pct(p float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	return s.latencies[int(p*float64(len(s.latencies)-1))].Round(100 * time.Microsecond)
}

// answerBodies makes an answer that grades for every item of the packs
// installed in data (read while no box runs on it).
func answerBodies(data string) ([]string, error) {
	lib, err := box.OpenLibrary(data, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range lib.Packs() {
		for setID, set := range p.Sets {
			for _, it := range set.Items {
				resp := `"text":"1"`
				switch it.Kind {
				case learn.Choice, learn.Multi:
					resp = `"choices":[0]`
				case learn.TrueFalse:
					resp = `"text":"true"`
				}
				out = append(out, fmt.Sprintf(`{"pack":%q,"set":%q,"item":%q,%s}`, p.Manifest.ID, setID, it.ID, resp))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no exercise items installed")
	}
	return out, nil
}

// pages lists what students read: the catalogue, each pack, its lessons, the
// first questions of its sets, and the stylesheet.
func pages(base string) ([]string, error) {
	resp, err := http.Get(base + "/")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	home := string(b)
	urls := []string{"/"}
	for _, m := range regexp.MustCompile(`href="(/static/[^"]+\.css)"`).FindAllStringSubmatch(home, -1) {
		urls = append(urls, m[1])
	}
	for _, pack := range uniq(regexp.MustCompile(`href="(/packs/[a-z0-9-]+)"`).FindAllStringSubmatch(home, -1)) {
		urls = append(urls, pack)
		resp, err := http.Get(base + pack)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range uniq(regexp.MustCompile(`href="(/packs/[a-z0-9-]+/(lessons|sets)/[a-z0-9-]+)"`).FindAllStringSubmatch(string(b), -1)) {
			if strings.Contains(l, "/sets/") {
				l += "/1"
			}
			urls = append(urls, l)
		}
	}
	if len(urls) < 5 {
		return nil, fmt.Errorf("the catalogue links to too little: %v", urls)
	}
	return urls, nil
}

func uniq(ms [][]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// crowd connects n students for d and returns the peak and final RSS.
func crowd(p *process, n int, d time.Duration, answers []string) (peak, end int64, stats *crowdStats, err error) {
	urls, err := pages(p.base)
	if err != nil {
		return 0, 0, nil, err
	}
	stats = &crowdStats{}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	var connected atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			// Students arrive over the first seconds, as a class does.
			time.Sleep(time.Duration(rng.Int64N(int64(2 * time.Second))))
			connected.Add(1)
			for k := 0; ctx.Err() == nil; k++ {
				var req *http.Request
				if k%5 == 4 {
					req, _ = http.NewRequestWithContext(ctx, "POST", p.base+"/api/v1/answers", strings.NewReader(answers[rng.IntN(len(answers))]))
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, _ = http.NewRequestWithContext(ctx, "GET", p.base+urls[rng.IntN(len(urls))], nil)
				}
				req.Header.Set("Accept-Language", []string{"tg", "ru", "en"}[i%3])
				req.Header.Set("Accept-Encoding", "gzip")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if ctx.Err() != nil {
					return
				}
				lat := time.Since(t0)
				atomic.AddInt64(&stats.n, 1)
				if err != nil || resp.StatusCode >= 400 {
					atomic.AddInt64(&stats.failed, 1)
				}
				stats.mu.Lock()
				stats.latencies = append(stats.latencies, lat)
				stats.mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second/2 + time.Duration(rng.Int64N(int64(time.Second)))):
				}
			}
		}()
	}
	pid := p.cmd.Process.Pid
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
			if r := rss(pid); r > peak {
				peak = r
			}
			if connected.Load() == int64(n) && stats.conns == "" {
				stats.conns = scrape(p.base, "stembox_http_connections")
			}
		case <-ctx.Done():
		}
	}
	end = rss(pid)
	wg.Wait()
	sort.Slice(stats.latencies, func(i, j int) bool { return stats.latencies[i] < stats.latencies[j] })
	if stats.conns == "" {
		stats.conns = "unknown"
	}
	return peak, end, stats, nil
}

// scrape reads one metric from /metrics.
func scrape(base, name string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "unknown"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return "unknown"
	}
	return string(m[1])
}
