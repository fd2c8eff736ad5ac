package server

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// The class's devices tell the box the time (docs/offline.md, "The
// device's time"): any request may carry the header X-Device-Time, the
// device's clock in unix milliseconds, which web/static/devtime.js sends
// once a page is loaded (GET /api/v1/time) and offline.js with every
// answer it sends. The box's time keeping (internal/timekeeper) counts
// each device, told apart by its address, once; a signed-in teacher's
// device weighs more.

// DeviceTimeHeader is the request header that carries a device's time.
const DeviceTimeHeader = "X-Device-Time"

// AnswerAgeHeader is the request header of an answer a device kept while
// the box was away: how many milliseconds ago, by the device's clock, it
// was given. The box dates the answer that much earlier (at most a week,
// and never before the box's current boot began).
const AnswerAgeHeader = "X-Answer-Age"

// answerAge reads a request's X-Answer-Age; 0 without one, or for one that
// is not a non-negative integer.
func answerAge(r *http.Request) time.Duration {
	v := r.Header[AnswerAgeHeader]
	if len(v) != 1 {
		return 0
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || ms < 0 || ms > int64(7*24*time.Hour/time.Millisecond) {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// WithTime gives the server the box's time keeping, which the devices'
// times feed. Without it they are ignored, and GET /api/v1/time answers
// with the box's wall clock.
func WithTime(k *timekeeper.Keeper) Option { return func(s *Server) { s.time = k } }

// deviceTime hands a request's X-Device-Time to the box's time keeping.
// Requests without it (nearly all) pay one header lookup.
func (s *Server) deviceTime(next http.Handler) http.Handler {
	if s.time == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header[DeviceTimeHeader]; len(v) == 1 {
			if ms, err := strconv.ParseInt(v[0], 10, 64); err == nil && ms > 0 {
				host, _, err := net.SplitHostPort(r.RemoteAddr)
				if err != nil {
					host = r.RemoteAddr
				}
				vw := viewerOf(r)
				teacher := vw.isUser() && (vw.User.Role == school.RoleTeacher || vw.User.Role == school.RoleAdmin)
				s.time.Device(host, time.UnixMilli(ms), teacher)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// apiTime is the box's time as it knows it.
type apiTime struct {
	TrueMS  int64  `json:"true_ms"`  // the estimated true time, unix ms
	Source  string `json:"source"`   // hub, devices, saved or box-clock
	ErrMS   int64  `json:"err_ms"`   // how far off it may be; -1 unknown
	DriftMS int64  `json:"drift_ms"` // true minus the box's wall clock
}

// handleAPITime answers GET /api/v1/time: the request's X-Device-Time
// has been taken by deviceTime already.
func (s *Server) handleAPITime(w http.ResponseWriter, r *http.Request) {
	if s.time == nil {
		writeJSON(w, http.StatusOK, apiTime{TrueMS: time.Now().UnixMilli(), Source: string(timekeeper.BoxClock), ErrMS: -1})
		return
	}
	now := s.time.Now()
	t := apiTime{TrueMS: now.True.UnixMilli(), Source: string(now.Source), ErrMS: -1, DriftMS: now.Drift().Milliseconds()}
	if now.Err >= 0 {
		t.ErrMS = now.Err.Milliseconds()
	}
	writeJSON(w, http.StatusOK, t)
}

// timeRows add to the status page the time as the box knows it, where
// from, and how far off its own clock is.
func (s *Server) timeRows(lang string, row func(key, value string, bad bool)) {
	now := s.time.Now()
	at := now.True.Format("2006-01-02 15:04:05")
	secs := func(d time.Duration) string {
		return i18n.T(lang, "status.seconds", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	}
	switch now.Source {
	case timekeeper.Hub:
		row("status.time", i18n.T(lang, "status.time_hub", at, secs(now.Err.Round(100*time.Millisecond))), false)
	case timekeeper.Devices:
		row("status.time", i18n.T(lang, "status.time_devices", at, secs(now.Err.Round(100*time.Millisecond))), false)
	case timekeeper.Saved:
		row("status.time", i18n.T(lang, "status.time_saved", at), true)
	default:
		row("status.time", i18n.T(lang, "status.time_box_clock", at), true)
	}
	if now.Source == timekeeper.BoxClock {
		return // nothing to compare the box's clock with
	}
	drift := now.Drift()
	switch {
	case drift.Abs() < 2*time.Second:
		row("status.clock", i18n.T(lang, "status.clock_right"), false)
	case drift > 0:
		row("status.clock", i18n.T(lang, "status.clock_behind", formatUptime(lang, drift)), false)
	default:
		row("status.clock", i18n.T(lang, "status.clock_ahead", formatUptime(lang, -drift)), false)
	}
}
