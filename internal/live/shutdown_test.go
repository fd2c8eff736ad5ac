package live

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/mitstem/stembox/internal/store"
)

// accepted keeps every connection its listener accepted, so that a test
// can drop them all at once, as the end of the process does.
type accepted struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *accepted) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *accepted) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}

// When the box shuts down, after a session ended or while one runs, every
// websocket gets a close frame with 1001 before Sessions.Run returns:
// once it has, the process exits and a socket without its frame is lost
// (the tester saw 1006 on up to 162 of 300).
func TestShutdownSendsEveryCloseFrame(t *testing.T) {
	const students, screens = 150, 50
	path := filepath.Join(t.TempDir(), "box.db")
	db, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var ln *accepted
	h := startHarness(t, db, db, path, func(l net.Listener) net.Listener { ln = &accepted{Listener: l}; return ln })
	ended := h.create(Options{}, questions(t)[:1])
	running := h.create(Options{}, questions(t)[:1])
	var clients []*client
	for i := range students {
		s := running
		if i%2 == 0 {
			s = ended
		}
		j := h.join(s.Code, fmt.Sprintf("S%d", i))
		clients = append(clients, h.dial(s.Code, RoleStudent, j.Token))
	}
	for i := range screens {
		s := running
		if i%2 == 0 {
			s = ended
		}
		clients = append(clients, h.dial(s.Code, RoleScreen, ""))
	}
	for _, c := range clients {
		c.expect("state")
	}
	teacher := h.dial(ended.Code, RoleTeacher, ended.Token)
	teacher.expect("state")
	command(t, teacher, "end", "ended")

	h.cancel()
	<-h.done
	ln.dropAll() // the process exits
	counts := map[int]int{}
	for _, c := range append(clients, teacher) {
		<-c.closed
		counts[int(c.code.Load())]++
	}
	if got, want := counts[websocket.CloseGoingAway], len(clients)+1; got != want {
		t.Errorf("close codes %v: want %d sockets closed with 1001", counts, want)
	}
}
