// Package hubtest runs hubs for tests: on SQLite in a temporary directory,
// and on PostgreSQL when STEMBOX_TEST_POSTGRES names a database (each test
// gets a schema of its own, dropped at the end).
package hubtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
)

// PostgresEnv names the environment variable with the URL of a PostgreSQL
// database the tests may use, e.g.
// postgres://stembox:stembox@127.0.0.1:5432/stembox_test?sslmode=disable.
const PostgresEnv = "STEMBOX_TEST_POSTGRES"

// Backend is a kind of hub database.
type Backend struct {
	Name string
	// Target returns a fresh, empty database for one test: "" (SQLite in
	// the hub's data directory) or a postgres:// URL.
	Target func(tb testing.TB) string
}

// Backends are SQLite, and PostgreSQL when PostgresEnv is set. Run a suite
// with t.Run(b.Name, …) for each; the PostgreSQL run skips, saying why,
// without the variable.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Target: func(testing.TB) string { return "" }},
		{Name: "postgres", Target: Postgres},
	}
}

// Postgres returns the URL of a fresh schema in the test database, or
// skips the test when PostgresEnv is unset.
func Postgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s to a database URL to run them (CI does)", PostgresEnv)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema in %s: %v", PostgresEnv, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Hub is a hub running for a test.
type Hub struct {
	*hub.Hub
	URL      string
	Operator string // the first operator's token
	DataDir  string
	Target   string
	cancel   context.CancelFunc
	done     chan error
}

// Start opens and runs a hub on dataDir and target, on a free port of the
// loopback interface. Stop it with Stop (a test's cleanup does too).
func Start(tb testing.TB, dataDir, target string, cfg hub.Config) *Hub {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("STEMBOX_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return StartLogging(tb, dataDir, target, cfg, logger)
}

// StartLogging is Start with the hub logging to logger.
func StartLogging(tb testing.TB, dataDir, target string, cfg hub.Config, logger *slog.Logger) *Hub {
	tb.Helper()
	cfg.DataDir, cfg.DB = dataDir, target
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	h, err := hub.Open(context.Background(), cfg, logger)
	if err != nil {
		tb.Fatalf("open hub: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	th := &Hub{Hub: h, URL: "http://" + h.Addr().String(), DataDir: dataDir, Target: target, cancel: cancel, done: make(chan error, 1)}
	if b, err := os.ReadFile(hub.OperatorTokenFile(dataDir)); err == nil {
		th.Operator = strings.TrimSpace(string(b))
	}
	go func() { th.done <- h.Run(ctx) }()
	tb.Cleanup(th.Stop)
	return th
}

// Stop shuts the hub down and closes it; calling it again does nothing.
func (h *Hub) Stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
	}
	h.Close()
}
