package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// student is one simulated student: a websocket whose reader notes when
// each question and each acknowledgement arrived.
type student struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	got  []atomic.Int64 // per question: when it arrived (unix ns), 0 before
	acks sync.Map       // answer id → unix ns of its ack
	// onQuestion, if set, is called (in the reader) when a question arrives.
	onQuestion func(q int)
	errs       atomic.Int64
}

const maxQuestions = 100

func newStudent(ws *websocket.Conn) *student {
	s := &student{ws: ws, got: make([]atomic.Int64, maxQuestions)}
	go s.read()
	return s
}

func (s *student) read() {
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		var m struct {
			Type string `json:"type"`
			Q    int    `json:"q"`
			ID   string `json:"id"`
		}
		// Every message is small; the question has to be parsed anyway.
		if err := json.Unmarshal(data, &m); err != nil {
			continue
		}
		switch m.Type {
		case "question":
			if m.Q >= 0 && m.Q < maxQuestions {
				s.got[m.Q].CompareAndSwap(0, now)
				if s.onQuestion != nil {
					s.onQuestion(m.Q)
				}
			}
		case "ack":
			s.acks.LoadOrStore(m.ID, now)
		case "error":
			if s.errs.Add(1) <= 3 {
				fmt.Printf("error from the server: %s\n", data)
			}
		}
	}
}

func (s *student) write(v any) error {
	b, _ := json.Marshal(v)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.ws.WriteMessage(websocket.TextMessage, b)
}

// dialAll connects cfg.students students, cfg.dialers at a time.
func dialAll(ctx context.Context, cfg config, target func(i int) (string, http.Header)) ([]*student, error) {
	out := make([]*student, cfg.students)
	sem := make(chan struct{}, cfg.dialers)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	for i := range out {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			u, h := target(i)
			var ws *websocket.Conn
			var err error
			for try := 0; try < 5; try++ {
				if ws, _, err = d.DialContext(ctx, u, h); err == nil {
					break
				}
				time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("student %d: %w", i, err))
				return
			}
			out[i] = newStudent(ws)
		}(i)
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		closeAll(out)
		return nil, err
	}
	return out, nil
}

func closeAll(students []*student) {
	for _, s := range students {
		if s != nil {
			s.ws.Close()
		}
	}
}

// fanout sends the teacher's command (send) and waits until every student
// has question q, returning each student's delay.
func fanout(ctx context.Context, cfg config, students []*student, q int, send func() error) ([]time.Duration, error) {
	t0 := time.Now()
	if err := send(); err != nil {
		return nil, err
	}
	deadline := t0.Add(cfg.timeout)
	for {
		missing := 0
		for _, s := range students {
			if s.got[q].Load() == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("question %d: %d of %d students did not get it within %v", q, missing, len(students), cfg.timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	out := make([]time.Duration, len(students))
	for i, s := range students {
		out[i] = time.Duration(s.got[q].Load() - t0.UnixNano())
	}
	return out, nil
}

type pct struct{ p50, p99, max time.Duration }

func percentiles(ds []time.Duration) pct {
	if len(ds) == 0 {
		return pct{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(p float64) time.Duration {
		return s[min(len(s)-1, int(p*float64(len(s))))].Round(10 * time.Microsecond)
	}
	return pct{p50: at(0.50), p99: at(0.99), max: s[len(s)-1].Round(10 * time.Microsecond)}
}

// server is a server process: this program run with a subcommand.
type server struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	logs *os.File
}

// startServer runs this program with args on a free loopback port and waits
// until it serves.
func startServer(ctx context.Context, args ...string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "stembox-loadtest-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir}
	if s.logs, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		return nil, err
	}
	full := append(append([]string{}, args...), s.addr, filepath.Join(dir, "data"))
	s.cmd = exec.CommandContext(ctx, self, full...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s did not start within 60 s; its log is %s", args[0], s.logs.Name())
		}
	}
}

// stop ends the server (SIGTERM, then SIGKILL) and removes its directory.
func (s *server) stop() {
	s.terminate()
	if os.Getenv("STEMBOX_LOADTEST_KEEP") != "" {
		fmt.Printf("kept %s\n", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

func (s *server) terminate() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.logs.Close()
}

func (s *server) rss() int64     { return procStatus(s.cmd.Process.Pid, "VmRSS") }
func (s *server) peakRSS() int64 { return procStatus(s.cmd.Process.Pid, "VmHWM") }

// procStatus reads a memory figure (kB) of a process from /proc, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// freePort finds a free port on loopback (the program never listens
// anywhere else).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
