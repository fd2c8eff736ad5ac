package server

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/httplog"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/metrics"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
)

// Names of metrics that other features register on the box's registry and
// that the status page shows (0 while nobody has registered them).
const (
	MetricLiveSessions    = "stembox_live_sessions"    // live sessions running (a gauge the live feature registers)
	MetricLiveConnections = "stembox_live_connections" // websocket connections of live sessions
	MetricHTTPConnections = "stembox_http_connections" // open HTTP connections (the box counts them)
	MetricLastSnapshot    = "stembox_snapshot_last_time_seconds"
	MetricSnapshots       = "stembox_snapshots"
)

// minFreeBytes is the free space below which the box says it is not ready:
// answers may stop being stored any moment.
const minFreeBytes = 4 << 20

// opsState is what the server keeps for /metrics, /readyz and
// /admin/status.
type opsState struct {
	version  string
	started  time.Time
	metrics  *metrics.Registry
	requests *metrics.Requests
	devices  *ops.Devices
	recent   *ops.Recent
}

// initOps fills s.ops from the config and registers the server's metrics.
func (s *Server) initOps() {
	s.ops = opsState{version: s.cfg.Version, started: s.cfg.Started, metrics: s.cfg.Metrics, devices: &ops.Devices{}, recent: s.cfg.Recent}
	if s.ops.version == "" {
		s.ops.version = "dev"
	}
	if s.ops.started.IsZero() {
		s.ops.started = time.Now()
	}
	if s.ops.metrics == nil {
		s.ops.metrics = metrics.NewRegistry()
	}
	if s.ops.recent == nil {
		s.ops.recent = ops.NewRecent(50)
	}
	s.registerMetrics()
}

// Metrics returns the registry /metrics serves, for features that count
// things of their own (a live session registers MetricLiveSessions).
func (s *Server) Metrics() *metrics.Registry { return s.ops.metrics }

// opsRoutes serve readiness, metrics and the status page. (/healthz, the
// liveness check, is in routes.)
func (s *Server) opsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /admin/status", s.requireUser(true, s.handleStatus))
}

// recordPattern keeps the pattern ServeMux matched in the httplog.Recorder, for
// the request metrics: middleware between logRequests and the mux may pass
// on a copy of the request (r.WithContext), whose Pattern logRequests would
// not see.
func recordPattern(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if rec, ok := w.(*httplog.Recorder); ok {
			rec.Pattern = r.Pattern
		}
	})
}

// observe counts a finished request: by route and status, its latency, and
// the device it came from.
func (o *opsState) observe(r *http.Request, rec *httplog.Recorder, start time.Time, d time.Duration) {
	o.requests.Observe(rec.Pattern, rec.Status, d)
	o.devices.Seen(r.RemoteAddr, start.Unix())
}

type check struct {
	Name, Detail string
	OK           bool
	// Warn marks a check that does not keep the box from serving students
	// but needs a person: the hub refuses the box's events.
	Warn  bool
	Since time.Time // a warning's: since when, and why
	Cause string
}

// readiness checks that the box can do its work: the database takes writes,
// the disk has room for them, and there are packs to serve. With a syncer,
// it also says whether the hub refuses the box's events: a warning, since
// the box serves its students all the same.
func (s *Server) readiness(ctx context.Context) []check {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var checks []check
	if err := s.db.Writable(ctx); err != nil {
		checks = append(checks, check{Name: "database", Detail: err.Error()})
	} else {
		checks = append(checks, check{Name: "database", Detail: "writable", OK: true})
	}
	if d, err := ops.DiskUsage(s.dataDir()); err != nil {
		checks = append(checks, check{Name: "disk", Detail: err.Error()})
	} else {
		checks = append(checks, check{Name: "disk", Detail: fmt.Sprintf("%d bytes free", d.Avail), OK: d.Avail >= minFreeBytes})
	}
	n := len(s.lib.Packs())
	detail := fmt.Sprintf("%d served, %d with problems", n, len(s.lib.Problems()))
	unserved := s.lib.Unserved()
	for _, id := range slices.Sorted(maps.Keys(unserved)) {
		// An installed pack no version of which loads: its links answer
		// "not found" until a person (or the next update) fixes it.
		detail += fmt.Sprintf("; %s is installed but not served: %v", id, unserved[id])
	}
	checks = append(checks, check{Name: "packs", Detail: detail, OK: n > 0 && len(unserved) == 0})
	if s.sync != nil {
		if st, err := s.sync.Status(ctx); err == nil {
			checks = append(checks, syncCheck(st))
		}
	}
	return checks
}

// syncCheck says whether the hub refuses the box's events (upstream.Status.Refused).
func syncCheck(st upstream.Status) check {
	switch {
	case st.Refused != "":
		return check{Name: "sync", OK: true, Warn: true, Since: st.RefusedSince, Cause: st.Refused,
			Detail: "refused by the hub since " + st.RefusedSince.UTC().Format("2006-01-02 15:04 UTC") + ": " + st.Refused}
	case !st.Enrolled:
		return check{Name: "sync", OK: true, Detail: "not enrolled with a hub"}
	}
	return check{Name: "sync", OK: true, Detail: "not refused by the hub"}
}

// handleReady answers 200 when the box is ready to serve students, 503 with
// the reasons when not; a warning (WARN) says what needs a person but
// keeps it 200.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	checks := s.readiness(r.Context())
	status := http.StatusOK
	var b strings.Builder
	for _, c := range checks {
		word := "ok"
		switch {
		case !c.OK:
			word, status = "FAIL", http.StatusServiceUnavailable
		case c.Warn:
			word = "WARN"
		}
		fmt.Fprintf(&b, "%s: %s (%s)\n", c.Name, word, c.Detail)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

type statusRow struct {
	Label, Value string
	Bad, Warn    bool
}

type statusError struct {
	Time, Level, Message, Attrs string
}

type statusPage struct {
	Ready     bool
	ReadyText string
	Checks    []statusRow
	Rows      []statusRow
	Packs     []statusRow
	Problems  []statusRow
	Errors    []statusError
}

// handleStatus shows a signed-in admin how the box is: version, uptime, disk
// and memory, devices, live sessions, packs, sync and recent errors. (Readiness
// and metrics, which hold nothing private, are open: /readyz, /metrics.)
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, _ *viewer) {
	lang := s.lang(r)
	p := statusPage{Ready: true}
	for _, c := range s.readiness(r.Context()) {
		p.Ready = p.Ready && c.OK
		value := i18n.T(lang, "status.ok")
		switch {
		case !c.OK:
			value = c.Detail // why, as the log and /readyz say it
		case c.Warn && c.Name == "sync":
			value = i18n.T(lang, "status.sync_refused", c.Since.Format("2006-01-02 15:04"), c.Cause)
		}
		p.Checks = append(p.Checks, statusRow{Label: i18n.T(lang, "status.check_"+c.Name), Value: value, Bad: !c.OK, Warn: c.Warn})
	}
	p.ReadyText = i18n.T(lang, "status.ready")
	if !p.Ready {
		p.ReadyText = i18n.T(lang, "status.not_ready")
	}
	row := func(key, value string, bad bool) {
		p.Rows = append(p.Rows, statusRow{Label: i18n.T(lang, key), Value: value, Bad: bad})
	}
	row("status.version", s.ops.version, false)
	row("status.uptime", formatUptime(lang, time.Since(s.ops.started)), false)
	if d, err := ops.DiskUsage(s.dataDir()); err == nil {
		row("status.disk", i18n.T(lang, "status.disk_value", i18n.Bytes(lang, d.Avail), i18n.Bytes(lang, d.Total)), d.Avail < minFreeBytes)
	}
	row("status.database", i18n.Bytes(lang, uint64(s.dbSize())), false)
	if st := s.db.WriteStats(); !st.LastFailure.IsZero() {
		row("status.write_failure", st.LastFailure.Format("2006-01-02 15:04:05")+" — "+st.LastFailureError, true)
	}
	snap := i18n.T(lang, "status.never")
	if at, ok := s.ops.metrics.Value(MetricLastSnapshot); ok && at > 0 {
		n, _ := s.ops.metrics.Value(MetricSnapshots)
		snap = i18n.T(lang, "status.snapshot_value", time.Unix(int64(at), 0).Format("2006-01-02 15:04"), int(n))
	}
	row("status.snapshot", snap, false)
	rss, _ := ops.ProcessRSS()
	if m, err := ops.SystemMemory(); err == nil {
		row("status.memory", i18n.T(lang, "status.memory_value", i18n.Bytes(lang, rss), i18n.Bytes(lang, m.Available), i18n.Bytes(lang, m.Total)), false)
	}
	if s.time != nil {
		s.timeRows(lang, row)
	}
	row("status.devices", strconv.Itoa(s.ops.devices.Count(time.Now().Add(-devicesWindow).Unix())), false)
	live, _ := s.ops.metrics.Value(MetricLiveSessions)
	row("status.live_sessions", strconv.Itoa(int(live)), false)
	if sync, err := s.syncState(); err == nil {
		if last, err := s.lastSeq(); err == nil {
			row("status.sync_backlog", strconv.FormatInt(max(last-sync.AckedSeq, 0), 10), false)
		}
		lastSync := i18n.T(lang, "status.never")
		if !sync.LastSuccess.IsZero() {
			lastSync = sync.LastSuccess.Format("2006-01-02 15:04")
		}
		row("status.last_sync", lastSync, false)
		if sync.LastError != "" {
			row("status.sync_error", sync.LastErrorAt.Format("2006-01-02 15:04")+" — "+sync.LastError, true)
		}
	}

	for _, pk := range s.lib.Packs() {
		m := &pk.Manifest
		p.Packs = append(p.Packs, statusRow{Label: m.ID + " " + m.Version, Value: m.Title.In(contentLang(lang, m.Languages), m.Languages[0])})
	}
	problems := s.lib.Problems()
	ids := make([]string, 0, len(problems))
	for id := range problems {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p.Problems = append(p.Problems, statusRow{Label: id, Value: problems[id].Error(), Bad: true})
	}
	for _, rec := range s.ops.recent.Records() {
		level := "warn"
		if rec.Level >= slog.LevelError {
			level = "error"
		}
		p.Errors = append(p.Errors, statusError{Time: rec.Time.Format("2006-01-02 15:04:05"), Level: level, Message: rec.Message, Attrs: rec.Attrs})
	}
	s.render(w, r, http.StatusOK, "status", i18n.T(lang, "status.title"), false, p)
}

// unavailableMessage is what a user is told when a write could not be
// stored: that the disk is full, or that the box cannot do it now.
func unavailableMessage(lang string, err error) string {
	if store.IsDiskFull(err) {
		return i18n.T(lang, "error.disk_full")
	}
	return i18n.T(lang, "error.unavailable")
}

func formatUptime(lang string, d time.Duration) string {
	mins := int(d / time.Minute)
	return i18n.T(lang, "status.uptime_value", mins/(24*60), mins/60%24, mins%60)
}
