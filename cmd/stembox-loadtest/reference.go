package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gorilla/websocket"
)

// The reference: the smallest broadcast server gorilla/websocket supports
// well, after its chat example. One goroutine owns the set of clients; each
// client has a send queue and a writer goroutine; the hub copies each
// message into every queue (dropping a client whose queue is full). A
// message from the teacher ("/ws?teacher=1") is broadcast to every student.
// It stores nothing and checks nothing: a floor, not a competitor.

type refClient struct {
	ws   *websocket.Conn
	send chan []byte
}

type refHub struct {
	register, unregister chan *refClient
	broadcast            chan []byte
}

func (h *refHub) run() {
	clients := map[*refClient]bool{}
	for {
		select {
		case c := <-h.register:
			clients[c] = true
		case c := <-h.unregister:
			if clients[c] {
				delete(clients, c)
				close(c.send)
			}
		case m := <-h.broadcast:
			for c := range clients {
				select {
				case c.send <- m:
				default:
					delete(clients, c)
					close(c.send)
				}
			}
		}
	}
}

func serveReference(addr string) {
	h := &refHub{register: make(chan *refClient), unregister: make(chan *refClient), broadcast: make(chan []byte, 16)}
	go h.run()
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		teacher := r.URL.Query().Get("teacher") != ""
		c := &refClient{ws: ws, send: make(chan []byte, 32)}
		if !teacher {
			h.register <- c
		}
		go func() { // writer
			defer ws.Close()
			for m := range c.send {
				ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if err := ws.WriteMessage(websocket.TextMessage, m); err != nil {
					return
				}
			}
		}()
		go func() { // reader
			defer func() {
				if !teacher {
					h.unregister <- c
				} else {
					close(c.send)
				}
			}()
			ws.SetReadLimit(2048)
			for {
				_, m, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if teacher {
					h.broadcast <- m
				}
			}
		}()
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	http.Serve(ln, mux)
}

// refRun is the reference under load.
type refRun struct {
	srv      *server
	students []*student
	teacher  *websocket.Conn
	res      result
}

// setup starts the reference and connects the students.
func (r *refRun) setup(ctx context.Context, cfg config) error {
	var err error
	if r.srv, err = startServer(ctx, "serve-reference"); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	r.res.idleRSS = r.srv.rss()
	base := "ws://" + r.srv.addr + "/ws"
	if r.students, err = dialAll(ctx, cfg, func(i int) (string, http.Header) { return base, nil }); err != nil {
		return err
	}
	r.res.connected = len(r.students)
	time.Sleep(time.Second) // let the hub register the last ones
	r.res.connectedRSS = r.srv.rss()
	r.teacher, _, err = websocket.DefaultDialer.DialContext(ctx, base+"?teacher=1", nil)
	return err
}

// question broadcasts question q and measures its fan-out.
func (r *refRun) question(ctx context.Context, cfg config, q int) error {
	// The same bytes stembox sends for a question of the run.
	msg := []byte(fmt.Sprintf(`{"type":"question","q":%d,"n":%d,"kind":"choice","prompt":%q,"choices":["3","4","5","22"],"lang":"en","time_ms":30000,"remaining_ms":30000}`,
		q, cfg.questions, questionText(q)))
	lat, err := fanout(ctx, cfg, r.students, q, func() error { return r.teacher.WriteMessage(websocket.TextMessage, msg) })
	if err != nil {
		return err
	}
	r.res.fanout = append(r.res.fanout, lat...)
	return nil
}

func (r *refRun) finish() {
	if r.srv != nil {
		r.res.peakRSS = r.srv.peakRSS()
	}
	closeAll(r.students)
	if r.teacher != nil {
		r.teacher.Close()
	}
	if r.srv != nil {
		r.srv.stop()
	}
}
