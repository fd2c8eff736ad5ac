// Command stembox-hubload measures the hub as the programme will run it:
// on PostgreSQL, with hundreds of boxes syncing at once, over a country's
// history of events. It is part of `make bench`.
//
// It needs a PostgreSQL database: STEMBOX_BENCH_POSTGRES (or else
// STEMBOX_TEST_POSTGRES) names it; without either it says so and exits 0.
// It works in a schema of its own, dropped at the end (--keep keeps it).
//
//  1. It starts a real hub process (stembox hub serve) on that database,
//     and enrolls --boxes simulated boxes (through the hub's store: the
//     enrollment endpoint is rate-limited per address, and every box here
//     comes from 127.0.0.1).
//  2. Every box pushes --push events of a school's day (a roster, answers,
//     lessons, live answers; upstreamtest.Gen) over HTTP at once, in
//     batches of the box's size (upstream.DefaultBatchSize), gzip'd as a
//     box sends them: ingest events/s, and each batch's latency (p50, p99).
//  3. The rest of each box's --events of history (a few days of answers)
//     is loaded straight into PostgreSQL (INSERT … SELECT generate_series),
//     with the report rows and summaries the hub keeps, spread over
//     regions, schools, classes, genders, packs, items and days.
//  4. The report pages (region × gender, and by school, grade, subject and
//     pack; and a report for a period, which counts every answer in it)
//     are timed over HTTP, signed in as an operator.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/mitstem/stembox/internal/upstream"
)

type config struct {
	stembox       string
	boxes         int
	push, events  int
	batch         int
	regions       int
	rounds        int
	keep          bool
	schema        string
	reportTimeout time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.stembox, "stembox", "./stembox", "the stembox binary whose hub is measured")
	flag.IntVar(&c.boxes, "boxes", 300, "simulated boxes, syncing at once")
	flag.IntVar(&c.push, "push", 4000, "events each box pushes over HTTP")
	flag.IntVar(&c.events, "events", 50000, "events of each box's history in all (the rest is loaded straight into the database)")
	flag.IntVar(&c.batch, "batch", upstream.DefaultBatchSize, "events a batch, as a box sends them")
	flag.IntVar(&c.regions, "regions", 5, "regions the schools are in")
	flag.IntVar(&c.rounds, "rounds", 5, "times each report page is fetched (the median and the slowest are reported)")
	flag.BoolVar(&c.keep, "keep", false, "keep the schema with the data at the end (to look at it, or time more reports)")
	flag.StringVar(&c.schema, "schema", "", "time the reports only, on the data a run with --keep left in this schema")
	flag.DurationVar(&c.reportTimeout, "report-timeout", 5*time.Minute, "give up on a report page after this long")
	flag.Parse()
	dsn := os.Getenv("STEMBOX_BENCH_POSTGRES")
	if dsn == "" {
		dsn = os.Getenv("STEMBOX_TEST_POSTGRES")
	}
	if dsn == "" {
		fmt.Println("stembox-hubload: skipped: set STEMBOX_BENCH_POSTGRES (or STEMBOX_TEST_POSTGRES) to a PostgreSQL database URL to measure the hub on PostgreSQL")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, dsn); err != nil {
		fmt.Fprintln(os.Stderr, "stembox-hubload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, base string) error {
	if c.push > c.events {
		c.push = c.events
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	b := make([]byte, 4)
	rand.Read(b)
	schema := "hubload_" + hex.EncodeToString(b)
	if c.schema != "" {
		schema, c.keep = c.schema, true
	} else if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if c.keep {
		defer fmt.Printf("kept schema %s (DROP SCHEMA %s CASCADE when done)\n", schema, schema)
	} else {
		defer admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn := u.String()

	data, err := os.MkdirTemp("", "stembox-hubload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	hub, err := startHub(ctx, c.stembox, data, dsn)
	if err != nil {
		return err
	}
	defer hub.stop()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(4)

	if c.schema != "" {
		return timeReports(ctx, hub, c)
	}
	fmt.Printf("hub on PostgreSQL: %d boxes, %d events each (%d pushed over HTTP in batches of %d, the rest loaded), %d regions\n",
		c.boxes, c.events, c.push, c.batch, c.regions)
	boxes, err := enrollBoxes(ctx, dsn, data, c)
	if err != nil {
		return err
	}
	if err := pushAll(ctx, hub.url, boxes, c); err != nil {
		return err
	}
	if err := bulkLoad(ctx, db, c); err != nil {
		return err
	}
	return timeReports(ctx, hub, c)
}
