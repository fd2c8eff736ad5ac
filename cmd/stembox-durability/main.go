// Command stembox-durability proves that a box loses no acknowledged answer
// when its power goes off, and measures what that durability costs.
//
// In its default mode it runs `stembox serve` on a loopback port, has several
// clients send answers through the JSON API (POST /api/v1/answers) as fast as
// the box takes them, and kills the server with SIGKILL at a random moment —
// again and again (--kills, at least 20 in CI). After each kill it opens the
// database and checks that every answer the server acknowledged is there with
// the sequence number it was given, that the event sequence has no gap, that
// the derived progress agrees with the events, and that PRAGMA
// integrity_check is ok. After each restart the clients resend the answers
// that were in flight when the server died, with the same ids, as a phone
// that lost its connection does: each must be stored exactly once.
//
// With --bench it runs the box in-process with synchronous=FULL and with
// synchronous=OFF, in alternating rounds, drives both with the same load
// over HTTP, and reports answers per second and their ratio.
//
//	go run ./cmd/stembox-durability --stembox ./stembox --kills 20
//	go run ./cmd/stembox-durability --bench
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

type config struct {
	stembox  string
	packs    string
	kills    int
	clients  int
	minRun   time.Duration
	maxRun   time.Duration
	seed     int64
	keep     bool
	bench    bool
	duration time.Duration
	rounds   int
}

func main() {
	var c config
	flag.StringVar(&c.stembox, "stembox", "./stembox", "the stembox binary to kill")
	flag.StringVar(&c.packs, "packs", "content-packs", "sample pack sources the box serves")
	flag.IntVar(&c.kills, "kills", 20, "how many times to kill the server")
	flag.IntVar(&c.clients, "clients", 8, "concurrent clients sending answers (bench: 200)")
	flag.DurationVar(&c.minRun, "min-run", 300*time.Millisecond, "shortest load before a kill")
	flag.DurationVar(&c.maxRun, "max-run", 1500*time.Millisecond, "longest load before a kill")
	flag.Int64Var(&c.seed, "seed", 0, "random seed (0: from the clock; printed, to replay a run)")
	flag.BoolVar(&c.keep, "keep", false, "keep the data directory for inspection")
	flag.BoolVar(&c.bench, "bench", false, "measure answers per second with synchronous=FULL and OFF instead")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "bench: length of each measurement")
	flag.IntVar(&c.rounds, "rounds", 5, "bench: interleaved rounds; the median is reported")
	cpuProfile := flag.String("cpuprofile", "", "bench: write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if c.seed == 0 {
		c.seed = time.Now().UnixNano()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if c.bench {
		if c.clients == 8 {
			// Students pressing "check" together on a busy box. With few
			// clients the count is bound by the disk's sync time, not by the
			// box: each client waits for the group commit it joined.
			c.clients = 200
		}
		err = runBench(ctx, c)
	} else {
		err = runKills(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stembox-durability: FAIL:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
