package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/httplog"
	"github.com/mitstem/stembox/internal/upstream/wire"
	"github.com/mitstem/stembox/web"
)

// The hub's HTTP: a JSON API for boxes (a box credential) and for
// operators' tools (an operator token), and server-rendered pages for
// operators (a session, signed in with the token). A box credential opens
// only the box endpoints: never reports, publishing or other schools.

const sessionCookie = "stembox_hub_session"

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	// Boxes.
	mux.HandleFunc("POST /api/v1/enroll", h.handleEnroll)
	mux.HandleFunc("POST /api/v1/events", h.boxOnly(h.handleEvents))
	mux.HandleFunc("POST /api/v1/status", h.boxOnly(h.handleStatus))
	mux.HandleFunc("GET /api/v1/catalogue", h.boxOnly(h.handleCatalogue))
	mux.HandleFunc("GET /api/v1/packs/{id}/{version}/{part}", h.boxOrOperator(h.handlePackPart))
	mux.HandleFunc("GET /api/v1/files/{sha}", h.boxOrOperator(h.handleFile))
	mux.HandleFunc("GET /api/v1/keys", h.boxOrOperator(h.handleKeys))
	// Operators' tools.
	mux.HandleFunc("POST /api/v1/schools", h.operatorAPI(h.handleAPICreateSchool))
	mux.HandleFunc("POST /api/v1/schools/{id}/tokens", h.operatorAPI(h.handleAPINewToken))
	mux.HandleFunc("POST /api/v1/credentials/{id}/revoke", h.operatorAPI(h.handleAPIRevoke))
	mux.HandleFunc("GET /api/v1/boxes", h.operatorAPI(h.handleAPIBoxes))
	mux.HandleFunc("GET /api/v1/fleet", h.operatorAPI(h.handleAPIFleet))
	mux.HandleFunc("GET /api/v1/reports", h.operatorAPI(h.handleAPIReport))
	mux.HandleFunc("POST /api/v1/packs", h.operatorAPI(h.handleAPIPublish))
	mux.HandleFunc("POST /api/v1/bundles", h.operatorAPI(h.handleAPIImport))
	// Operators' pages.
	h.pageRoutes(mux)
	// Teachers' packs boxes send: the box endpoint and the operator's pages.
	h.contributionRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /static/app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, web.Static, "static/app.css")
	})
	mux.HandleFunc("GET /static/hub.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write([]byte(hubCSS))
	})
	return httplog.Recover(h.log)(h.logRequests(securityHeaders(sameOrigin(mux))))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses state-changing requests sent from another site's
// page. Boxes and tools send no Origin and authenticate with a bearer
// credential, which no browser sends by itself.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			o := r.Header.Get("Origin")
			if o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
				o = "" // Chromium's Origin for a same-origin form post under Referrer-Policy: no-referrer
			}
			if r.Header.Get("Sec-Fetch-Site") == "cross-site" || (o != "" && o != "http://"+r.Host && o != "https://"+r.Host) {
				writeJSONError(w, http.StatusForbidden, "cross-site request refused", failure.Unauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests logs failed and slow requests; the rest at debug level.
func (h *Hub) logRequests(next http.Handler) http.Handler {
	remote := func(r *http.Request) []any { return []any{"remote", h.clientAddr(r)} }
	return httplog.Requests{Log: h.log, Slow: 5 * time.Second, Attrs: remote}.Wrap(next)
}

// statusOf maps an error to an HTTP status (failure.HTTPStatus).
func statusOf(err error) int { return failure.HTTPStatus(err) }

// message is what a caller is told about err, and its code.
func message(err error) (string, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Sprintf("the request is larger than the %d bytes allowed; send smaller batches", mbe.Limit), string(failure.TooLarge)
	}
	return failure.Message(err), string(failure.KindOf(err))
}

// failJSON answers an API request with {"error": …, "code": …}.
func (h *Hub) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	if failure.KindOf(err) == failure.Internal && httplog.ClientGone(r, err) {
		httplog.ClientWentAway(w, r, h.log, err)
		return
	}
	status := statusOf(err)
	msg, code := message(err)
	if status >= 500 {
		h.log.Error("api error", "path", r.URL.Path, "err", err)
	}
	failure.SetRetryAfter(w.Header(), err)
	if status == http.StatusForbidden && errors.Is(err, errUnauthorized) {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="stembox hub"`)
	}
	var de *DivergedError
	if errors.As(err, &de) {
		writeJSON(w, status, wire.ErrorBody{Error: msg, Code: code, DivergedAt: de.Seq, Held: de.Held})
		return
	}
	writeJSONError(w, status, msg, failure.Kind(code))
}

func writeJSONError(w http.ResponseWriter, status int, msg string, kind failure.Kind) {
	writeJSON(w, status, map[string]string{"error": msg, "code": string(kind)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(a, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

type boxKey struct{}
type operatorKey struct{}

func boxOf(r *http.Request) BoxIdentity {
	id, _ := r.Context().Value(boxKey{}).(BoxIdentity)
	return id
}

// boxOnly admits requests with a valid box credential.
func (h *Hub) boxOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := h.store.AuthBox(r.Context(), bearer(r))
		if err != nil {
			h.failJSON(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), boxKey{}, id)))
	}
}

// boxOrOperator admits a box credential, or an operator's token or
// signed-in session (packs and files are not secret from either).
func (h *Hub) boxOrOperator(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := bearer(r)
		if strings.HasPrefix(t, wire.OperatorPrefix+".") || t == "" {
			h.operatorAPI(next)(w, r)
			return
		}
		h.boxOnly(next)(w, r)
	}
}

// operatorAPI admits requests with an operator token (or an operator's
// signed-in session, for downloads from the pages).
func (h *Hub) operatorAPI(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var op Operator
		var err error
		if t := bearer(r); t != "" {
			op, err = h.store.AuthOperator(r.Context(), t)
		} else if s, ok := h.session(r); ok && r.Method == http.MethodGet {
			op = s.Operator
		} else {
			err = errUnauthorized
		}
		if err != nil {
			h.failJSON(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, op)))
	}
}

// session returns the operator's session from the cookie, if any.
func (h *Hub) session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return Session{}, false
	}
	s, err := h.store.SessionByToken(r.Context(), c.Value)
	if err != nil {
		if failure.KindOf(err) == failure.Internal {
			h.log.Error("load session", "err", err)
		}
		return Session{}, false
	}
	return s, true
}

// hubCSS is the little the operator's pages need beyond the box's
// stylesheet: room for wide report tables.
const hubCSS = `main.wide{max-width:90rem}
.top nav a{color:#fff}
.card{margin:.75rem 0}
td,th{vertical-align:top}
.attention{color:#9a3412}
.attention ul{margin:.25rem 0 0 1rem;padding:0}
.flag{display:inline-block;margin:0 .25rem .25rem 0;padding:0 .4rem;border-radius:.25rem;background:#fde68a;color:#78350f;font-size:.85em}
.fleet nav a[aria-current]{font-weight:bold}
iframe.preview{width:100%;height:70vh;border:1px solid #ddd;border-radius:.25rem;background:#fff}
`
