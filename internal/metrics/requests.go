package metrics

import (
	"bufio"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxRoutes bounds how many route labels Requests keeps; more (a bug: routes
// are patterns, not paths) are counted as "other".
const maxRoutes = 200

// Requests counts HTTP requests by route pattern (as ServeMux matched it,
// "GET /packs/{pack}") and status code, with a latency histogram per route.
// Observe takes no lock and allocates nothing once a route has been seen.
type Requests struct {
	routes atomic.Pointer[map[string]*routeStats] // replaced, never changed, when a route is added
	mu     sync.Mutex                             // serialises adding routes
	bounds []float64
}

type routeStats struct {
	codes   [500]atomic.Uint64 // by status code - 100
	latency *Histogram
}

// Requests registers stembox_http_requests_total and
// stembox_http_request_duration_seconds and returns what feeds them.
func (r *Registry) Requests() *Requests {
	q := &Requests{bounds: DefaultBuckets}
	m := map[string]*routeStats{}
	q.routes.Store(&m)
	r.register("stembox_http_requests_total", &requestCounts{q})
	r.register("stembox_http_request_duration_seconds", &requestLatency{q})
	return q
}

// Observe counts one request to route (a ServeMux pattern; "" for none)
// answered with status after d.
func (q *Requests) Observe(route string, status int, d time.Duration) {
	rs := (*q.routes.Load())[route]
	if rs == nil {
		rs = q.add(route)
	}
	if status == 0 {
		status = 200 // net/http's default when a handler writes nothing
	}
	if status >= 100 && status < 600 {
		rs.codes[status-100].Add(1)
	}
	rs.latency.Observe(d)
}

func (q *Requests) add(route string) *routeStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	old := *q.routes.Load()
	if rs, ok := old[route]; ok {
		return rs
	}
	if len(old) >= maxRoutes {
		route = "other"
		if rs, ok := old[route]; ok {
			return rs
		}
	}
	m := make(map[string]*routeStats, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	rs := &routeStats{latency: newHistogram("", q.bounds)}
	m[route] = rs
	q.routes.Store(&m)
	return rs
}

// Total returns how many requests were counted, over every route and status.
func (q *Requests) Total() uint64 {
	var n uint64
	for _, rs := range *q.routes.Load() {
		for i := range rs.codes {
			n += rs.codes[i].Load()
		}
	}
	return n
}

func (q *Requests) sorted() ([]string, map[string]*routeStats) {
	m := *q.routes.Load()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, m
}

func routeLabel(route string) string {
	if route == "" {
		route = "unmatched"
	}
	return `route="` + escapeLabel(route) + `"`
}

type requestCounts struct{ q *Requests }

func (m *requestCounts) help() string {
	return "HTTP requests answered, by route pattern and status code."
}
func (m *requestCounts) kind() string { return "counter" }
func (m *requestCounts) write(w *bufio.Writer, name string) {
	names, routes := m.q.sorted()
	for _, n := range names {
		rs := routes[n]
		for i := range rs.codes {
			if v := rs.codes[i].Load(); v > 0 {
				sample(w, name, routeLabel(n)+`,code="`+strconv.Itoa(i+100)+`"`, float64(v))
			}
		}
	}
}

type requestLatency struct{ q *Requests }

func (m *requestLatency) help() string {
	return "Time to answer HTTP requests, by route pattern."
}
func (m *requestLatency) kind() string { return "histogram" }
func (m *requestLatency) write(w *bufio.Writer, name string) {
	names, routes := m.q.sorted()
	for _, n := range names {
		routes[n].latency.writeLabeled(w, name, routeLabel(n))
	}
}
