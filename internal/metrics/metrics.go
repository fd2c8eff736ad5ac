// Package metrics counts what a box does and writes it in the Prometheus
// text exposition format (version 0.0.4), by hand: a box needs a few
// counters, gauges and histograms, not a client library.
//
// Counting is cheap enough for every request: atomic adds on values made
// once, no locks and no allocation. Values that are expensive to know (disk
// free, database size) are read by functions only when /metrics is scraped.
//
// Any feature may register its own metrics on the box's Registry, at start
// or later (a live session registers its gauge when it starts to exist).
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds a box's metrics, by name.
type Registry struct {
	mu      sync.Mutex
	metrics map[string]metric
}

// metric is one metric family: it writes its samples.
type metric interface {
	write(w *bufio.Writer, name string)
	help() string
	kind() string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{metrics: map[string]metric{}} }

// register adds m under name, or returns the metric already there if it has
// the same kind (so that registering twice, as a component that restarts
// does, is harmless).
func (r *Registry) register(name string, m metric) metric {
	if !validName(name) {
		panic(fmt.Sprintf("metrics: invalid name %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.metrics[name]; ok {
		if old.kind() != m.kind() {
			panic(fmt.Sprintf("metrics: %s registered as a %s and as a %s", name, old.kind(), m.kind()))
		}
		if _, isFunc := m.(*funcMetric); isFunc {
			r.metrics[name] = m // a function is replaced by the newer one
			return m
		}
		return old
	}
	r.metrics[name] = m
	return m
}

// Unregister removes the metric called name, if any.
func (r *Registry) Unregister(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.metrics, name)
}

// Counter is a number that only goes up.
type Counter struct {
	h string
	v atomic.Uint64
}

// Counter returns the counter called name, making it if needed.
func (r *Registry) Counter(name, help string) *Counter {
	return r.register(name, &Counter{h: help}).(*Counter)
}

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

func (c *Counter) help() string { return c.h }
func (c *Counter) kind() string { return "counter" }
func (c *Counter) write(w *bufio.Writer, name string) {
	sample(w, name, "", float64(c.v.Load()))
}

// Gauge is a number that goes up and down, such as open connections.
type Gauge struct {
	h string
	v atomic.Int64
}

// Gauge returns the gauge called name, making it if needed.
func (r *Registry) Gauge(name, help string) *Gauge {
	return r.register(name, &Gauge{h: help}).(*Gauge)
}

// Add adds n (which may be negative).
func (g *Gauge) Add(n int64) { g.v.Add(n) }

// Set sets the value.
func (g *Gauge) Set(n int64) { g.v.Store(n) }

// Value returns the value.
func (g *Gauge) Value() int64 { return g.v.Load() }

func (g *Gauge) help() string { return g.h }
func (g *Gauge) kind() string { return "gauge" }
func (g *Gauge) write(w *bufio.Writer, name string) {
	sample(w, name, "", float64(g.v.Load()))
}

// funcMetric is a gauge or counter whose value a function gives when
// scraped.
type funcMetric struct {
	h, k string
	f    func() float64
}

func (m *funcMetric) help() string { return m.h }
func (m *funcMetric) kind() string { return m.k }
func (m *funcMetric) write(w *bufio.Writer, name string) {
	v := m.f()
	if math.IsNaN(v) {
		return // unknown now: no sample
	}
	sample(w, name, "", v)
}

// GaugeFunc registers a gauge whose value f gives at each scrape; f returns
// NaN when the value is unknown. Registering a name again replaces f.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.register(name, &funcMetric{h: help, k: "gauge", f: f})
}

// CounterFunc registers a counter whose value f gives at each scrape.
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	r.register(name, &funcMetric{h: help, k: "counter", f: f})
}

// Value returns the current value of the gauge or counter called name (a
// function's is computed), and whether there is one.
func (r *Registry) Value(name string) (float64, bool) {
	r.mu.Lock()
	m, ok := r.metrics[name]
	r.mu.Unlock()
	if !ok {
		return 0, false
	}
	switch m := m.(type) {
	case *Counter:
		return float64(m.Value()), true
	case *Gauge:
		return float64(m.Value()), true
	case *funcMetric:
		v := m.f()
		return v, !math.IsNaN(v)
	}
	return 0, false
}

// Info registers a gauge of constant value 1 whose labels carry facts, as
// stembox_build_info{version="…"} does.
func (r *Registry) Info(name, help string, labels map[string]string) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, k, escapeLabel(labels[k]))
	}
	r.register(name, &infoMetric{h: help, labels: b.String()})
}

type infoMetric struct{ h, labels string }

func (m *infoMetric) help() string { return m.h }
func (m *infoMetric) kind() string { return "gauge" }
func (m *infoMetric) write(w *bufio.Writer, name string) {
	sample(w, name, m.labels, 1)
}

// DefaultBuckets are latency bounds in seconds, from a cached page (well
// under a millisecond) to a video sent to a slow phone.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Histogram counts observations (durations) into buckets.
type Histogram struct {
	h      string
	bounds []float64       // upper bounds in seconds, ascending
	nanos  []int64         // the same bounds in nanoseconds
	counts []atomic.Uint64 // per bucket (not cumulative); the last is +Inf
	sum    atomic.Int64    // nanoseconds
}

// Histogram returns the histogram called name, making it with the given
// bucket bounds (in seconds; nil for DefaultBuckets) if needed.
func (r *Registry) Histogram(name, help string, bounds []float64) *Histogram {
	return r.register(name, newHistogram(help, bounds)).(*Histogram)
}

func newHistogram(help string, bounds []float64) *Histogram {
	if bounds == nil {
		bounds = DefaultBuckets
	}
	h := &Histogram{h: help, bounds: bounds, nanos: make([]int64, len(bounds)), counts: make([]atomic.Uint64, len(bounds)+1)}
	for i, b := range bounds {
		h.nanos[i] = int64(b * 1e9)
	}
	return h
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	n := int64(d)
	i := 0
	for i < len(h.nanos) && n > h.nanos[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(n)
}

func (h *Histogram) help() string                       { return h.h }
func (h *Histogram) kind() string                       { return "histogram" }
func (h *Histogram) write(w *bufio.Writer, name string) { h.writeLabeled(w, name, "") }

// writeLabeled writes the histogram's samples with extra labels (`k="v"`)
// before le.
func (h *Histogram) writeLabeled(w *bufio.Writer, name, labels string) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i].Load()
		sample(w, name+"_bucket", labels+sep+`le="`+formatFloat(b)+`"`, float64(cum))
	}
	cum += h.counts[len(h.bounds)].Load()
	sample(w, name+"_bucket", labels+sep+`le="+Inf"`, float64(cum))
	sample(w, name+"_sum", labels, float64(h.sum.Load())/1e9)
	sample(w, name+"_count", labels, float64(cum))
}

// WriteText writes every metric in the Prometheus text format, sorted by
// name.
func (r *Registry) WriteText(out io.Writer) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.metrics))
	ms := make(map[string]metric, len(r.metrics))
	for n, m := range r.metrics {
		names = append(names, n)
		ms[n] = m
	}
	r.mu.Unlock()
	sort.Strings(names)
	w := bufio.NewWriter(out)
	for _, n := range names {
		m := ms[n]
		w.WriteString("# HELP " + n + " " + escapeHelp(m.help()) + "\n")
		w.WriteString("# TYPE " + n + " " + m.kind() + "\n")
		m.write(w, n)
	}
	return w.Flush()
}

// ContentType is the media type of WriteText's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

func sample(w *bufio.Writer, name, labels string, v float64) {
	w.WriteString(name)
	if labels != "" {
		w.WriteByte('{')
		w.WriteString(labels)
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}
