package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mitstem/stembox/internal/store"
)

// harness runs live Sessions over a real database file behind a real HTTP server.
type harness struct {
	t        *testing.T
	db       *store.DB
	path     string
	sessions *Sessions
	srv      *httptest.Server
	cancel   context.CancelFunc
	done     chan struct{}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "box.db")
	db, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return startHarness(t, db, db, path, nil)
}

// startHarness runs live Sessions over st; listen, if set, wraps the server's
// listener.
func startHarness(t *testing.T, db *store.DB, st Store, path string, listen func(net.Listener) net.Listener) *harness {
	t.Helper()
	h := &harness{t: t, db: db, path: path, done: make(chan struct{})}
	var logw io.Writer = io.Discard
	if os.Getenv("LIVE_TEST_LOG") != "" {
		logw = os.Stderr
	}
	h.sessions = NewSessions(st, slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := h.sessions.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/{code}", func(w http.ResponseWriter, r *http.Request) {
		h.sessions.ServeWS(w, r, r.PathValue("code"), Role(r.URL.Query().Get("role")), r.URL.Query().Get("secret"))
	})
	h.srv = httptest.NewUnstartedServer(mux)
	if listen != nil {
		h.srv.Listener = listen(h.srv.Listener)
	}
	h.srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.sessions.Run(ctx)
	}()
	t.Cleanup(h.stop)
	return h
}

// stop stops the Sessions and the server, waiting for the Sessions.
func (h *harness) stop() {
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Error("the live sessions did not stop within 10 s")
	}
	h.srv.Close()
}

func (h *harness) create(opts Options, qs []Question) Created {
	h.t.Helper()
	c, err := h.sessions.Create(context.Background(), Spec{Title: "Quiz", Lang: "en", Opts: opts, Questions: qs})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// asking makes a session of qs, has a student "Ali" join and the teacher
// start it, and returns the session, Ali's join, and the teacher's and
// Ali's connections, with the first question open on Ali's (its state
// read).
func (h *harness) asking(opts Options, qs []Question) (s Created, ali Joined, teacher, c *client) {
	h.t.Helper()
	s = h.create(opts, qs)
	ali = h.join(s.Code, "Ali")
	teacher = h.dial(s.Code, RoleTeacher, s.Token)
	teacher.send(map[string]any{"type": "start"})
	teacher.expect("question")
	c = h.dial(s.Code, RoleStudent, ali.Token)
	c.expect("state")
	return s, ali, teacher, c
}

func (h *harness) join(code, nick string) Joined {
	h.t.Helper()
	j, err := h.sessions.Join(context.Background(), code, JoinRequest{Learner: "guest:" + nick, Nickname: nick, Lang: "en"})
	if err != nil {
		h.t.Fatalf("join as %s: %v", nick, err)
	}
	return j
}

// client is a websocket client that reads every message into a channel.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	msgs   chan msg
	closed chan struct{}
	code   atomic.Int64 // close code received
	reason atomic.Value
}

type msg map[string]any

func (h *harness) dial(code string, role Role, secret string) *client {
	h.t.Helper()
	c, err := h.tryDial(code, role, secret, nil)
	if err != nil {
		h.t.Fatalf("dial %s as %s: %v", code, role, err)
	}
	return c
}

// connect dials and reads the state the box sends first.
func (h *harness) connect(code string, role Role, secret string) *client {
	h.t.Helper()
	c := h.dial(code, role, secret)
	c.expect("state")
	return c
}

func (h *harness) tryDial(code string, role Role, secret string, d *websocket.Dialer) (*client, error) {
	return dialURL(h.t, h.srv.URL, code, role, secret, d)
}

// dialURL connects to the websocket of session code of the server at base.
func dialURL(t *testing.T, base, code string, role Role, secret string, d *websocket.Dialer) (*client, error) {
	if d == nil {
		d = websocket.DefaultDialer
	}
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/" + code + "?role=" + string(role) + "&secret=" + secret
	ws, _, err := d.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	c := &client{t: t, ws: ws, msgs: make(chan msg, 1024), closed: make(chan struct{})}
	c.reason.Store("")
	go func() {
		defer close(c.closed)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if ok := asClose(err, &ce); ok {
					c.code.Store(int64(ce.Code))
					c.reason.Store(ce.Text)
				}
				return
			}
			var m msg
			if err := json.Unmarshal(data, &m); err != nil {
				t.Errorf("server sent non-JSON %q", data)
				return
			}
			select {
			case c.msgs <- m:
			default:
				t.Errorf("test client's queue is full")
				return
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c, nil
}

func asClose(err error, ce **websocket.CloseError) bool {
	e, ok := err.(*websocket.CloseError)
	if ok {
		*ce = e
	}
	return ok
}

func (c *client) send(v any) {
	c.t.Helper()
	var data []byte
	if s, ok := v.(string); ok {
		data = []byte(s)
	} else {
		data, _ = json.Marshal(v)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// expect returns the next message of type typ, skipping others.
func (c *client) expect(typ string) msg {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if m["type"] == typ {
				return m
			}
		case <-c.closed:
			// Drain what arrived before the close.
			for {
				select {
				case m := <-c.msgs:
					if m["type"] == typ {
						return m
					}
					continue
				default:
				}
				break
			}
			c.t.Fatalf("connection closed (%d %q) before a %q message", c.code.Load(), c.reason.Load(), typ)
		case <-deadline:
			c.t.Fatalf("no %q message within 5 s", typ)
		}
	}
}

// expectError returns the next error message and checks its code.
func (c *client) expectError(code string) msg {
	c.t.Helper()
	m := c.expect("error")
	if m["code"] != code {
		c.t.Fatalf("error %v, want code %q", m, code)
	}
	return m
}

// expectClose waits for the server to close the connection with code.
func (c *client) expectClose(code int) {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		c.t.Fatalf("not closed within 5 s (want %d)", code)
	}
	if got := c.code.Load(); got != int64(code) {
		c.t.Fatalf("closed with %d %q, want %d", got, c.reason.Load(), code)
	}
}

var answerN atomic.Int64

// newAnswerID makes a client answer id, as the browser does.
func newAnswerID() string {
	return fmt.Sprintf("01J%023d", answerN.Add(1))
}

func answerMsg(code string, q int, id string, choices ...int) map[string]any {
	return map[string]any{"type": "answer", "session": code, "q": q, "id": id, "choices": choices}
}

func num(m msg, key string) int {
	f, _ := m[key].(float64)
	return int(f)
}
