package upstream_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
)

// The fault-injection harness: a hub run as a separate process (so that it
// can be killed for real, SIGKILL, mid-transaction) behind an HTTP proxy
// that misbehaves the ways a 2G link and a busy hub do.

// childEnv makes the test binary run a hub instead of the tests:
// "DATADIR|TARGET|ADDR".
const childEnv = "STEMBOX_TEST_HUB_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChildHub(spec))
	}
	os.Exit(m.Run())
}

// runChildHub runs a hub until SIGTERM (or until it is killed), printing
// "listening ADDR" once it listens.
func runChildHub(spec string) int {
	parts := strings.SplitN(spec, "|", 3)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The parent holds our standard input open: if it dies, so do we.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := hub.Open(ctx, hub.Config{DataDir: parts[0], DB: parts[1], Addr: parts[2], Limits: hub.Limits{IngestEvery: time.Millisecond, IngestBurst: 1000}}, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child hub:", err)
		return 1
	}
	fmt.Printf("listening %s\n", h.Addr())
	err = h.Run(ctx)
	h.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child hub:", err)
		return 1
	}
	return 0
}

// hubProcess is a hub in a child process.
type hubProcess struct {
	t       testing.TB
	dataDir string
	target  string
	cmd     *exec.Cmd
	exited  chan struct{}

	mu   sync.Mutex
	addr string // fixed across restarts once known
}

func startHubProcess(t testing.TB, dataDir, target string) *hubProcess {
	p := &hubProcess{t: t, dataDir: dataDir, target: target, addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *hubProcess) start() {
	p.t.Helper()
	p.mu.Lock()
	addr := p.addr
	p.mu.Unlock()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+p.dataDir+"|"+p.target+"|"+addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := cmd.StdinPipe(); err != nil {
		p.t.Fatal(err)
	}
	// The port of the first start is kept, so the proxy's target does not
	// change; the kernel frees it as soon as a process dies.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err = cmd.Start(); err != nil {
			p.t.Fatal(err)
		}
		line, rerr := bufio.NewReader(out).ReadString('\n')
		if got, ok := strings.CutPrefix(strings.TrimSpace(line), "listening "); ok && rerr == nil {
			p.mu.Lock()
			p.addr = got
			p.mu.Unlock()
			break
		}
		cmd.Wait()
		if time.Now().After(deadline) {
			p.t.Fatalf("the hub process did not start: %q %v", line, rerr)
		}
		time.Sleep(100 * time.Millisecond)
		cmd = exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+p.dataDir+"|"+p.target+"|"+addr)
		cmd.Stderr = os.Stderr
		if out, err = cmd.StdoutPipe(); err != nil {
			p.t.Fatal(err)
		}
		if _, err := cmd.StdinPipe(); err != nil {
			p.t.Fatal(err)
		}
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func() {
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(p.exited)
	}()
}

// kill ends the hub at once, as a power cut or the OOM killer would.
func (p *hubProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop ends the hub gracefully.
func (p *hubProcess) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

func (p *hubProcess) url() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addr
}

// Faults a proxy injects.
type fault int

const (
	passThrough   fault = iota
	resetRequest        // the connection is cut while the request is being sent: the hub sees nothing
	dropResponse        // the hub stores the batch, the answer is lost
	duplicate           // the request reaches the hub twice, at once
	stallRequest        // the request is held longer than the box waits, then delivered late
	stallResponse       // the hub answers, the answer is held longer than the box waits
	cutResponse         // the answer is cut half way
	numFaults
)

var faultNames = [...]string{"pass", "reset request", "drop response", "duplicate", "stall request", "stall response", "cut response"}

// faultProxy forwards requests to a hub, injecting faults at random.
type faultProxy struct {
	*httptest.Server
	target  func() string
	stall   time.Duration
	weights [numFaults]int
	filter  func(*http.Request) bool // which requests may be harmed; nil: all

	mu     sync.Mutex
	rnd    *rand.Rand
	counts [numFaults]int
	client *http.Client
}

func newFaultProxy(t testing.TB, seed uint64, target func() string, stall time.Duration, weights [numFaults]int) *faultProxy {
	p := &faultProxy{target: target, stall: stall, weights: weights, rnd: rand.New(rand.NewPCG(seed, 7)),
		client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	p.Server = httptest.NewServer(p)
	t.Cleanup(p.Server.Close) // waits for late deliveries
	return p
}

func (p *faultProxy) pick(r *http.Request) fault {
	if p.filter != nil && !p.filter(r) {
		return passThrough
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for _, w := range p.weights {
		total += w
	}
	n := p.rnd.IntN(total)
	for f, w := range p.weights {
		if n < w {
			p.counts[f]++
			return fault(f)
		}
		n -= w
	}
	return passThrough
}

// cutAt is where a cut answer ends: anywhere in it.
func (p *faultProxy) cutAt(n int) int {
	if n == 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.IntN(n)
}

func (p *faultProxy) stats() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for f, n := range p.counts {
		parts = append(parts, fmt.Sprintf("%s %d", faultNames[f], n))
	}
	return strings.Join(parts, ", ")
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

func (p *faultProxy) forward(r *http.Request, body []byte) (*recorded, error) {
	req, err := http.NewRequest(r.Method, p.target()+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &recorded{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.pick(r)
	if f == resetRequest {
		io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	var rec *recorded
	switch f {
	case stallRequest:
		time.Sleep(p.stall)
		// The box has given up; the request still arrives, late.
		rec, err = p.forward(r, body)
	case duplicate:
		var wg sync.WaitGroup
		var recs [2]*recorded
		var errs [2]error
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs[i], errs[i] = p.forward(r, body)
			}()
		}
		wg.Wait()
		rec, err = recs[1], errs[1]
		if err != nil || rec.status >= 500 {
			rec, err = recs[0], errs[0]
		}
	default:
		rec, err = p.forward(r, body)
	}
	if err != nil {
		http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
		return
	}
	switch f {
	case dropResponse:
		panic(http.ErrAbortHandler)
	case stallResponse:
		time.Sleep(p.stall)
	case cutResponse:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(rec.body)))
		w.WriteHeader(rec.status)
		w.Write(rec.body[:p.cutAt(len(rec.body))])
		panic(http.ErrAbortHandler)
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body)
}
