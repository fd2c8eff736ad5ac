package ops

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Personal data stays out of logs: the box's code logs ids, paths and
// errors, never what a student typed, a name or a cookie. Redact is the net
// under that rule: as the logger's ReplaceAttr it blanks the value of any
// attribute whose key names personal data, whoever logged it.

// personalKeys are attribute keys whose values are personal data or secrets.
var personalKeys = map[string]bool{
	"answer": true, "text": true, "response": true, "body": true, "form": true,
	"name": true, "display_name": true, "displayname": true, "full_name": true, "username": true, "user_name": true,
	"student": true, "learner": true, "actor": true, "gender": true, "email": true, "phone": true,
	"cookie": true, "cookies": true, "set_cookie": true, "session": true, "token": true,
	"password": true, "secret": true, "authorization": true, "query": true,
}

// Redacted replaces the value of a personal attribute.
const Redacted = "[redacted]"

// Redact is a slog.HandlerOptions.ReplaceAttr that blanks attributes whose
// key names personal data ("text", "name", "cookie", …; case and dashes do
// not matter).
func Redact(_ []string, a slog.Attr) slog.Attr {
	if isPersonal(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	return a
}

func isPersonal(key string) bool {
	if personalKeys[key] {
		return true
	}
	k := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	return personalKeys[k]
}

// maxValue bounds each value kept in Recent.
const maxValue = 300

// Record is a warning or error kept for the status page.
type Record struct {
	Time    time.Time
	Level   slog.Level
	Message string
	Attrs   string // key=value pairs, personal ones redacted
}

// Recent keeps the last few warnings and errors in memory.
type Recent struct {
	mu   sync.Mutex
	ring []Record
	next int
	full bool
}

// NewRecent keeps the last n records.
func NewRecent(n int) *Recent { return &Recent{ring: make([]Record, n)} }

func (r *Recent) add(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[r.next] = rec
	r.next = (r.next + 1) % len(r.ring)
	if r.next == 0 {
		r.full = true
	}
}

// Records returns the kept records, newest first.
func (r *Recent) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.ring)
	}
	out := make([]Record, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.ring[(r.next-i+len(r.ring))%len(r.ring)])
	}
	return out
}

// Handler returns a slog.Handler that passes every record to next and keeps
// a copy of warnings and errors in r.
func (r *Recent) Handler(next slog.Handler) slog.Handler {
	return &recentHandler{next: next, recent: r}
}

type recentHandler struct {
	next   slog.Handler
	recent *Recent
	prefix string // attributes from WithAttrs, formatted
	group  string // from WithGroup, with a trailing dot
}

func (h *recentHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *recentHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(h.prefix)
		rec.Attrs(func(a slog.Attr) bool {
			appendAttr(&b, h.group, a)
			return true
		})
		h.recent.add(Record{Time: rec.Time, Level: rec.Level, Message: clip(rec.Message), Attrs: strings.TrimSpace(b.String())})
	}
	if h.next.Enabled(ctx, rec.Level) {
		return h.next.Handle(ctx, rec)
	}
	return nil
}

func (h *recentHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	return &recentHandler{next: h.next.WithAttrs(attrs), recent: h.recent, prefix: b.String(), group: h.group}
}

func (h *recentHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &recentHandler{next: h.next.WithGroup(name), recent: h.recent, prefix: h.prefix, group: h.group + name + "."}
}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			appendAttr(b, g, ga)
		}
		return
	}
	v := a.Value.String()
	if isPersonal(a.Key) {
		v = Redacted
	}
	b.WriteByte(' ')
	b.WriteString(group + a.Key)
	b.WriteByte('=')
	b.WriteString(clip(v))
}

func clip(s string) string {
	if len(s) <= maxValue {
		return s
	}
	cut := maxValue
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
