package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// server is a running `stembox serve`.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts stembox serve on a loopback port and waits until it is
// ready (GET /readyz answers 200).
func startServer(ctx context.Context, bin, data, packs string, logFile *os.File, timeout time.Duration) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", data, "--dev-packs", packs,
		"--log-level", "warn", "--snapshot-every", "0", "--lang", "en")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("stembox exited while starting (%v); see %s", cmd.ProcessState, logFile.Name())
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		default:
		}
		if resp, err := client.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.kill()
	return nil, fmt.Errorf("stembox was not ready within %s; see %s", timeout, logFile.Name())
}

// kill pulls the plug: SIGKILL, as a power cut would.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop asks the server to stop, as systemctl stop does.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.kill()
	}
}

func runKills(ctx context.Context, c config) error {
	bin, err := filepath.Abs(c.stembox)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%w (make build first)", err)
	}
	dir, err := os.MkdirTemp("", "stembox-durability-")
	if err != nil {
		return err
	}
	defer func() {
		if c.keep {
			fmt.Println("data kept in", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	data := filepath.Join(dir, "data")
	logFile, err := os.Create(filepath.Join(dir, "stembox.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	rng := rand.New(rand.NewPCG(uint64(c.seed), 1))
	fmt.Printf("durability: %d kills with SIGKILL, %d clients, load %s–%s before each, seed %d\n",
		c.kills, c.clients, c.minRun, c.maxRun, c.seed)

	// The first start builds and installs the sample packs; then the items
	// to answer are read from the installed packs.
	first, err := startServer(ctx, bin, data, c.packs, logFile, 5*time.Minute)
	if err != nil {
		return err
	}
	first.stop()
	targets, err := findTargets(data)
	if err != nil {
		return err
	}
	dbFile := filepath.Join(data, "stembox.db")

	clients := make([]*client, c.clients)
	for i := range clients {
		clients[i] = newClient()
	}
	var (
		mu       sync.Mutex
		acked    []ack
		stored   map[string]int64 // in-flight answers found stored after the last kill
		inflight int
		durable  int // in-flight answers that were stored though not acknowledged
		resent   int
		loadTime time.Duration
	)
	for k := 1; k <= c.kills; k++ {
		restartAt := time.Now()
		srv, err := startServer(ctx, bin, data, c.packs, logFile, time.Minute)
		if err != nil {
			return fmt.Errorf("restart %d: %w", k, err)
		}
		restart := time.Since(restartAt)

		// Answers in flight at the last kill are sent again with their ids.
		for _, cl := range clients {
			if cl.pending == nil {
				continue
			}
			a, err := cl.send(ctx, srv.base, cl.pending)
			if err != nil {
				srv.kill()
				return fmt.Errorf("restart %d: resending answer %s: %w", k, cl.pending.ID, err)
			}
			if seq, ok := stored[a.ID]; ok && seq != a.Seq {
				srv.kill()
				return fmt.Errorf("restart %d: resent answer %s was stored at seq %d, the resend answered seq %d", k, a.ID, seq, a.Seq)
			}
			acked = append(acked, a)
			cl.pending = nil
			resent++
		}

		// Full speed from every client, then the plug is pulled mid-flight.
		before := len(acked)
		loadCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var refusal error
		for i, cl := range clients {
			crng := rand.New(rand.NewPCG(uint64(c.seed), uint64(k*1000+i)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					a := cl.newAnswer(targets[crng.IntN(len(targets))])
					got, err := cl.send(loadCtx, srv.base, a)
					if err == nil {
						mu.Lock()
						acked = append(acked, got)
						mu.Unlock()
						continue
					}
					if errors.Is(err, errRefused) {
						mu.Lock()
						refusal = err
						mu.Unlock()
					}
					cl.pending = a // unknown: the server may have stored it before dying
					cl.closeIdle()
					return
				}
			}()
		}
		runFor := c.minRun
		if c.maxRun > c.minRun {
			runFor += time.Duration(rng.Int64N(int64(c.maxRun - c.minRun)))
		}
		time.Sleep(runFor)
		srv.kill()
		cancel()
		wg.Wait()
		loadTime += runFor
		if refusal != nil {
			return fmt.Errorf("kill %d: the box refused an answer: %w", k, refusal)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}

		var maybe []string
		for _, cl := range clients {
			if cl.pending != nil {
				maybe = append(maybe, cl.pending.ID)
			}
		}
		st, err := verify(ctx, dbFile, acked, maybe)
		if err != nil {
			return fmt.Errorf("after kill %d: %w (data in %s)", k, err, keepOnFailure(dir, &c))
		}
		stored = st.Stored
		inflight += len(maybe)
		durable += len(st.Stored)
		fmt.Printf("kill %2d: restart %4dms, %5d answers acknowledged in %4dms, %d in flight (%d of them stored), %6d events, no gaps, integrity ok\n",
			k, restart.Milliseconds(), len(acked)-before, runFor.Milliseconds(), len(maybe), len(st.Stored), st.Events)
	}

	// A last start: the box comes up on what the kills left, and the final
	// resends are applied once.
	srv, err := startServer(ctx, bin, data, c.packs, logFile, time.Minute)
	if err != nil {
		return fmt.Errorf("final restart: %w", err)
	}
	for _, cl := range clients {
		if cl.pending != nil {
			a, err := cl.send(ctx, srv.base, cl.pending)
			if err != nil {
				srv.kill()
				return fmt.Errorf("final resend: %w", err)
			}
			acked = append(acked, a)
			resent++
		}
	}
	srv.stop()
	st, err := verify(ctx, dbFile, acked, nil)
	if err != nil {
		return fmt.Errorf("at the end: %w (data in %s)", err, keepOnFailure(dir, &c))
	}
	fmt.Printf("PASS: %d kills; %d answers acknowledged (%.0f/s under load), all present; %d were in flight at a kill (%d stored anyway), %d resent and stored once; %d events, gap-free, integrity ok\n",
		c.kills, len(acked), float64(len(acked)-resent)/loadTime.Seconds(), inflight, durable, resent, st.Events)
	return nil
}

// keepOnFailure keeps the data directory of a failed run for inspection.
func keepOnFailure(dir string, c *config) string {
	c.keep = true
	return dir
}
