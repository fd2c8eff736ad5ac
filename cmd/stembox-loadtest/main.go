// Command stembox-loadtest is the load program of live sessions, behind
// `make loadtest`. On loopback only, it starts
//
//	(a) a minimal gorilla/websocket broadcast server (reference.go: one hub
//	    goroutine, a send queue and a writer per client, as in gorilla's chat
//	    example), and
//	(b) a real stembox box (internal/box, with its database on disk),
//
// each in a process of its own (this program run again with a hidden
// subcommand), connects N simulated students to each, and measures:
//
//   - fan-out: from the teacher's "next" until each student has the
//     question (p50, p99, max), for the reference and for stembox, and their
//     ratio;
//   - answers: every student answers each question at a random moment
//     within one second of getting it; answers acknowledged per second, the
//     acknowledgement latency, and answers lost (sent but not acknowledged,
//     or acknowledged but not in the database afterwards: must be 0);
//   - memory: the server's resident memory with everyone connected, per
//     connected student, for both.
//
// Ratios are the result: a shared 2-core machine is noisy. Both servers run
// side by side and the questions alternate between them, so that a noisy
// moment does not fall on one of them only.
//
// For finding out where the box's time and memory go, the environment
// variables STEMBOX_LOADTEST_CPUPROFILE and STEMBOX_LOADTEST_ALLOCPROFILE
// name files for the box's profiles, and STEMBOX_LOADTEST_KEEP keeps the
// servers' directories (their logs; GODEBUG=gctrace=1 goes there too).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 2 {
		switch os.Args[1] {
		case "serve-reference":
			serveReference(os.Args[2])
			return
		case "serve-box":
			serveBox(os.Args[2], os.Args[3])
			return
		}
	}
	var cfg config
	flag.IntVar(&cfg.students, "students", 5000, "simulated students")
	flag.IntVar(&cfg.questions, "questions", 5, "questions asked (fan-out is measured on each)")
	flag.DurationVar(&cfg.window, "answer-window", time.Second, "students answer at random moments within this time (after the reading time)")
	flag.DurationVar(&cfg.reading, "reading-time", 0, "time a student takes to read a question before the answer window starts")
	flag.IntVar(&cfg.dialers, "dialers", 100, "connections opened at once while students join")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "how long to wait for a step before failing")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "stembox-loadtest:", err)
		os.Exit(1)
	}
}

type config struct {
	students, questions, dialers int
	window, timeout, reading     time.Duration
}

func run(ctx context.Context, cfg config) error {
	if err := raiseFileLimit(2*cfg.students + 1000); err != nil {
		return err
	}
	fmt.Printf("stembox-loadtest: %d students, %d questions, answers within %v, on loopback\n\n", cfg.students, cfg.questions, cfg.window)

	// Both servers run side by side, idle but for the one being measured,
	// and the questions alternate between them, so that a noisy moment of
	// the machine does not fall on one of them only.
	ref, bx := &refRun{}, &boxRun{}
	defer ref.finish()
	defer bx.finish()
	if err := ref.setup(ctx, cfg); err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	if err := bx.setup(ctx, cfg); err != nil {
		return fmt.Errorf("stembox: %w", err)
	}
	for q := 0; q < cfg.questions; q++ {
		if err := ref.question(ctx, cfg, q); err != nil {
			return fmt.Errorf("reference: %w", err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := bx.question(ctx, cfg, q); err != nil {
			return fmt.Errorf("stembox: %w", err)
		}
	}
	ref.finish()
	if err := bx.verify(ctx); err != nil {
		return fmt.Errorf("stembox: %w", err)
	}
	box := bx.res
	report(cfg, ref.res, box)
	if box.lost > 0 {
		return fmt.Errorf("%d answers lost", box.lost)
	}
	return nil
}

// result is what one server's run measured.
type result struct {
	fanout       []time.Duration // every student, every question
	ackLatency   []time.Duration
	acksPerSec   float64
	answered     int
	acked        int
	stored       int
	lost         int
	idleRSS      int64 // bytes, before students joined
	connectedRSS int64 // bytes, everyone connected
	peakRSS      int64
	connected    int
}

func report(cfg config, ref, box result) {
	rp, bp := percentiles(ref.fanout), percentiles(box.fanout)
	fmt.Println("fan-out: teacher's \"next\" until each student has the question")
	fmt.Printf("  %-10s p50 %8v  p99 %8v  max %8v  (%d deliveries)\n", "reference", rp.p50, rp.p99, rp.max, len(ref.fanout))
	fmt.Printf("  %-10s p50 %8v  p99 %8v  max %8v  (%d deliveries)\n", "stembox", bp.p50, bp.p99, bp.max, len(box.fanout))
	fmt.Printf("  ratio      p50 %8.2f  p99 %8.2f  max %8.2f  (target: p99 ≤ 1.25)\n\n",
		ratio(bp.p50, rp.p50), ratio(bp.p99, rp.p99), ratio(bp.max, rp.max))
	ap := percentiles(box.ackLatency)
	fmt.Println("answers (stembox): every student answers within the window; acknowledged = stored on disk")
	fmt.Printf("  sent %d, acknowledged %d, in the database %d, lost %d (target: 0)\n", box.answered, box.acked, box.stored, box.lost)
	fmt.Printf("  acknowledged per second %.0f; acknowledgement latency p50 %v p99 %v max %v\n\n", box.acksPerSec, ap.p50, ap.p99, ap.max)
	per := func(r result) float64 {
		if r.connected == 0 {
			return 0
		}
		return float64(r.connectedRSS-r.idleRSS) / float64(r.connected) / 1024
	}
	fmt.Println("server memory (resident)")
	fmt.Printf("  %-10s idle %6.1f MB  %d connected %6.1f MB  peak %6.1f MB  → %5.1f KB per student\n", "reference",
		mb(ref.idleRSS), ref.connected, mb(ref.connectedRSS), mb(ref.peakRSS), per(ref))
	fmt.Printf("  %-10s idle %6.1f MB  %d connected %6.1f MB  peak %6.1f MB  → %5.1f KB per student (target: ≤ 25)\n", "stembox",
		mb(box.idleRSS), box.connected, mb(box.connectedRSS), mb(box.peakRSS), per(box))
	fmt.Printf("  peak stembox per student (peak − idle) %.1f KB\n", float64(box.peakRSS-box.idleRSS)/float64(max(box.connected, 1))/1024)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Println()
	fmt.Printf("targets: fan-out p99 ratio %s; answers lost %s; memory per student %s\n",
		verdict(ratio(bp.p99, rp.p99) <= 1.25), verdict(box.lost == 0 && box.acked == box.answered), verdict(per(box) <= 25))
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// raiseFileLimit lifts the soft limit on open files to the hard one (and the
// hard one, as root, to what n students need). Child processes inherit it.
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("open-file limit: %w", err)
	}
	if lim.Max < uint64(need) {
		lim.Max = uint64(need) // succeeds as root
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		if lim.Cur < uint64(need) {
			return fmt.Errorf("open-file limit is %d, %d students need %d: raise it (ulimit -n)", lim.Cur, need/2, need)
		}
	}
	return nil
}
