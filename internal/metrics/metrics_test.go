package metrics_test

import (
	"bufio"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/metrics"
)

func text(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Every line is a comment or a sample as Prometheus parses them.
var (
	helpLine   = regexp.MustCompile(`^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$`)
	typeLine   = regexp.MustCompile(`^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram)$`)
	sampleLine = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? (\+Inf|-Inf|NaN|[-+0-9.eE]+)$`)
)

func checkSyntax(t *testing.T, out string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if !helpLine.MatchString(l) && !typeLine.MatchString(l) && !sampleLine.MatchString(l) {
			t.Errorf("not exposition format: %q", l)
		}
	}
}

func TestExposition(t *testing.T) {
	r := metrics.NewRegistry()
	c := r.Counter("stembox_things_total", "Things done.")
	c.Add(3)
	c.Inc()
	g := r.Gauge("stembox_open", "Open things,\nnow.")
	g.Add(5)
	g.Add(-2)
	r.GaugeFunc("stembox_free_bytes", "Free bytes.", func() float64 { return 1.5e9 })
	r.GaugeFunc("stembox_unknown", "Not known now.", func() float64 { return math.NaN() })
	r.Info("stembox_build_info", "Build.", map[string]string{"version": `v1 "x"\y`})
	h := r.Histogram("stembox_wait_seconds", "Waits.", []float64{0.01, 0.1})
	h.Observe(5 * time.Millisecond)
	h.Observe(10 * time.Millisecond) // on the bound: le is inclusive
	h.Observe(50 * time.Millisecond)
	h.Observe(2 * time.Second)
	q := r.Requests()
	q.Observe("GET /packs/{pack}", 200, 3*time.Millisecond)
	q.Observe("GET /packs/{pack}", 404, time.Millisecond)
	q.Observe("GET /packs/{pack}", 0, time.Millisecond)
	q.Observe("", 404, time.Millisecond)

	out := text(t, r)
	checkSyntax(t, out)
	for _, want := range []string{
		"# HELP stembox_things_total Things done.\n# TYPE stembox_things_total counter\nstembox_things_total 4\n",
		"# HELP stembox_open Open things,\\nnow.\n# TYPE stembox_open gauge\nstembox_open 3\n",
		"stembox_free_bytes 1.5e+09\n",
		`stembox_build_info{version="v1 \"x\"\\y"} 1` + "\n",
		"# TYPE stembox_wait_seconds histogram\n" +
			`stembox_wait_seconds_bucket{le="0.01"} 2` + "\n" +
			`stembox_wait_seconds_bucket{le="0.1"} 3` + "\n" +
			`stembox_wait_seconds_bucket{le="+Inf"} 4` + "\n" +
			"stembox_wait_seconds_sum 2.065\nstembox_wait_seconds_count 4\n",
		`stembox_http_requests_total{route="GET /packs/{pack}",code="200"} 2` + "\n",
		`stembox_http_requests_total{route="GET /packs/{pack}",code="404"} 1` + "\n",
		`stembox_http_requests_total{route="unmatched",code="404"} 1` + "\n",
		`stembox_http_request_duration_seconds_bucket{route="GET /packs/{pack}",le="0.001"} 2` + "\n",
		`stembox_http_request_duration_seconds_count{route="GET /packs/{pack}"} 3` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks\n%s\ngot:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nstembox_unknown ") {
		t.Error("a NaN function value was written as a sample")
	}
	if v, ok := r.Value("stembox_open"); !ok || v != 3 {
		t.Errorf("Value(stembox_open) = %v, %v; want 3", v, ok)
	}
	if _, ok := r.Value("stembox_unknown"); ok {
		t.Error("Value of an unknown function value reported ok")
	}
	if q.Total() != 4 {
		t.Errorf("Total = %d, want 4", q.Total())
	}
}

func TestRegisterTwice(t *testing.T) {
	r := metrics.NewRegistry()
	a := r.Gauge("stembox_live_sessions", "Live sessions.")
	b := r.Gauge("stembox_live_sessions", "Live sessions.")
	if a != b {
		t.Error("registering a gauge twice made two gauges")
	}
	r.GaugeFunc("stembox_x", "x", func() float64 { return 1 })
	r.GaugeFunc("stembox_x", "x", func() float64 { return 2 })
	if v, _ := r.Value("stembox_x"); v != 2 {
		t.Errorf("re-registered function gives %v, want the newer one's 2", v)
	}
	r.Unregister("stembox_x")
	if _, ok := r.Value("stembox_x"); ok {
		t.Error("unregistered metric still has a value")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a gauge's name as a counter did not panic")
		}
	}()
	r.Counter("stembox_live_sessions", "oops")
}

// The request hot path allocates nothing once a route has been seen.
func TestObserveDoesNotAllocate(t *testing.T) {
	q := metrics.NewRegistry().Requests()
	route := "GET /packs/{pack}/lessons/{lesson}"
	q.Observe(route, 200, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() { q.Observe(route, 200, time.Millisecond) }); n != 0 {
		t.Errorf("Observe allocates %v times per call, want 0", n)
	}
}

func TestConcurrentObserve(t *testing.T) {
	r := metrics.NewRegistry()
	q := r.Requests()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				q.Observe([]string{"GET /a", "GET /b", "POST /c"}[(w+i)%3], 200+(i%2)*200, time.Duration(i)*time.Microsecond)
			}
		}()
	}
	for range 10 {
		text(t, r)
	}
	wg.Wait()
	if q.Total() != 8000 {
		t.Errorf("Total = %d, want 8000", q.Total())
	}
}

func BenchmarkObserve(b *testing.B) {
	q := metrics.NewRegistry().Requests()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q.Observe("GET /packs/{pack}/lessons/{lesson}", 200, time.Millisecond)
		}
	})
}
