package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/store"
)

// runBench measures answers per second over HTTP with synchronous=FULL (the
// box's setting: every acknowledged answer is on disk) and OFF (no fsync:
// the ceiling), in alternating rounds on fresh databases, and prints the
// medians and their ratio.
func runBench(ctx context.Context, c config) error {
	dir, err := os.MkdirTemp("", "stembox-bench-answers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Build and install the packs once; each round copies them into a data
	// directory with a fresh database.
	template := filepath.Join(dir, "template")
	b, err := box.Open(ctx, box.Config{Addr: "127.0.0.1:0", DataDir: template, DevPacks: c.packs, Snapshots: box.SnapshotConfig{Every: -1}}, logger)
	if err != nil {
		return err
	}
	b.Close()
	for _, f := range []string{"stembox.db", "stembox.db-wal", "stembox.db-shm"} {
		os.Remove(filepath.Join(template, f))
	}
	targets, err := findTargets(template)
	if err != nil {
		return err
	}

	fmt.Printf("answers over HTTP: %d clients, %s per run, %d rounds, GOMAXPROCS %d\n", c.clients, c.duration, c.rounds, numCPU())
	results := map[string][]float64{}
	perCommit := map[string][]float64{}
	for r := 0; r < c.rounds; r++ {
		for _, mode := range []string{"FULL", "OFF"} {
			data := filepath.Join(dir, fmt.Sprintf("%s-%d", mode, r))
			if out, err := exec.Command("cp", "-a", template, data).CombinedOutput(); err != nil {
				return fmt.Errorf("copy data: %v: %s", err, out)
			}
			rate, batch, err := benchOnce(ctx, data, mode, targets, c)
			if err != nil {
				return fmt.Errorf("synchronous=%s: %w", mode, err)
			}
			results[mode] = append(results[mode], rate)
			perCommit[mode] = append(perCommit[mode], batch)
			fmt.Printf("  round %d synchronous=%-4s %7.0f answers/s (%.1f answers per commit)\n", r+1, mode, rate, batch)
			os.RemoveAll(data)
		}
	}
	full, off := median(results["FULL"]), median(results["OFF"])
	fmt.Printf("\nsynchronous=FULL: %.0f answers/s (%.1f per commit); synchronous=OFF: %.0f answers/s; FULL/OFF = %.2f\n",
		full, median(perCommit["FULL"]), off, full/off)
	if full < 3000 {
		fmt.Printf("note: below the target of 3,000 answers/s with synchronous=FULL on this machine\n")
	}
	return nil
}

func benchOnce(ctx context.Context, data, mode string, targets []target, c config) (rate, perCommit float64, err error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := box.Open(ctx, box.Config{Addr: "127.0.0.1:0", DataDir: data, Store: store.Options{Synchronous: mode}, Snapshots: box.SnapshotConfig{Every: -1}}, logger)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	defer func() {
		cancel()
		if rerr := <-done; err == nil {
			err = rerr
		}
	}()

	var n atomic.Int64
	var failure atomic.Pointer[error]
	stop := time.Now().Add(c.duration)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := dialLean(b.Addr().String())
			if err != nil {
				failure.Store(&err)
				return
			}
			defer cl.close()
			rng := rand.New(rand.NewPCG(uint64(c.seed), uint64(i)))
			for time.Now().Before(stop) {
				if _, err := cl.send(targets[rng.IntN(len(targets))]); err != nil {
					failure.Store(&err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := failure.Load(); e != nil {
		return 0, 0, *e
	}
	st := b.DB().WriteStats()
	if st.Batches > 0 {
		perCommit = float64(st.Writes) / float64(st.Batches)
	}
	return float64(n.Load()) / elapsed.Seconds(), perCommit, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func numCPU() int { return runtime.GOMAXPROCS(0) }
