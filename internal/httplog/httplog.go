// Package httplog is the outer middleware both of stembox's HTTP servers
// (the box and the hub) wrap their routes in: a handler's panic becomes a
// logged 500, and a request is logged by how it went — failures and slow
// requests at info or error level, the rest only at debug level, so that an
// access log of every page read does not wear out a box's SD card.
package httplog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"syscall"
	"time"
)

// Recover is middleware that answers a handler's panic with a plain 500 and
// logs it with its stack. http.ErrAbortHandler, the way to abort a response
// on purpose, goes on up to net/http.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					http.Error(w, "internal error", http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// Requests says how requests are logged.
type Requests struct {
	Log *slog.Logger
	// Slow is the duration above which a successful request is logged at
	// info level.
	Slow time.Duration
	// Attrs, when set, adds attributes to a request's log line.
	Attrs func(r *http.Request) []any
	// Headers, when set, is called once with the response's headers just
	// before they are sent.
	Headers func(http.Header)
	// Done, when set, is called after each request, e.g. for metrics.
	Done func(r *http.Request, rec *Recorder, start time.Time, d time.Duration)
}

// Wrap is middleware that logs the requests next serves. The handlers inside see a *Recorder
// as their http.ResponseWriter.
func (q Requests) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &Recorder{ResponseWriter: w, headers: q.Headers}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		if q.Done != nil {
			q.Done(r, rec, start, d)
		}
		level := slog.LevelDebug
		if rec.Status >= 500 {
			level = slog.LevelError
		} else if rec.Status >= 400 || d > q.Slow {
			level = slog.LevelInfo
		}
		if q.Log.Enabled(r.Context(), level) {
			args := []any{"method", r.Method, "path", r.URL.Path, "status", rec.Status, "duration", d}
			if q.Attrs != nil {
				args = append(args, q.Attrs(r)...)
			}
			q.Log.Log(r.Context(), level, "request", args...)
		}
	})
}

// Recorder remembers a response's status (and, where a handler sets it, the
// route that served it) for the log and the metrics.
type Recorder struct {
	http.ResponseWriter
	Status  int    // 0 until the headers are sent
	Pattern string // the route ServeMux matched, where something records it

	headers func(http.Header)
}

func (w *Recorder) sent(status int) {
	w.Status = status
	if w.headers != nil {
		w.headers(w.ResponseWriter.Header())
	}
}

func (w *Recorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.sent(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Recorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.sent(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ReadFrom keeps the connection's sendfile path for files (http.ServeContent
// copies with io.Copy, which looks for io.ReaderFrom).
func (w *Recorder) ReadFrom(r io.Reader) (int64, error) {
	if w.Status == 0 {
		w.sent(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

// StatusClientClosed is the status logged for a request whose client went
// away before it was answered (nginx's 499): no answer reaches anyone, and
// it is no fault of the server, so it is never logged as a 500.
const StatusClientClosed = 499

// ClientGone reports whether err, met while serving r, means that the
// client went away: it cut the request's body short, or closed the
// connection (a phone that left the Wi-Fi, a box whose request timed out).
func ClientGone(r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return r.Context().Err() != nil && errors.Is(err, context.Canceled)
}

// ClientWentAway logs a request whose client went away (see ClientGone) at
// info level, as what it is, and answers StatusClientClosed, which the
// request log records (should anyone still be listening, they get a
// failure, never an empty success).
func ClientWentAway(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	log.Info("client went away before the answer", "method", r.Method, "path", r.URL.Path, "err", err)
	w.WriteHeader(StatusClientClosed)
}
