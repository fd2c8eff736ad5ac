package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/ops"
)

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("stembox serve", stderr)
	var cfg box.Config
	var trusted listFlag
	var logFormat, logLevel string
	fs.StringVar(&cfg.Addr, "addr", box.DefaultAddr, "address to serve on")
	fs.StringVar(&cfg.DataDir, "data-dir", box.DefaultDataDir, "directory of the database, packs and keys")
	fs.StringVar(&cfg.DevPacks, "dev-packs", box.DefaultDevPacks, "build and install the pack sources in this folder at start, signed with the box's own key (\"\" for none)")
	fs.Var(&trusted, "trust", "public key file of a trusted pack signer (repeatable)")
	fs.StringVar(&cfg.Lang, "lang", box.DefaultLang, "default UI language: tg, ru or en")
	fs.StringVar(&cfg.TimeZone, "time-zone", "", "time zone of the times pages and CSV files show, e.g. Asia/Dushanbe (\"\" for the system's)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	addLANFlags(fs, &cfg, stderr)
	addSyncFlags(fs, &cfg)
	var snapshotMB int64
	fs.DurationVar(&cfg.Snapshots.Every, "snapshot-every", box.DefaultSnapshotEvery, "how often to snapshot the database into DATA_DIR/backups (0 for never)")
	fs.IntVar(&cfg.Snapshots.Keep, "snapshot-keep", box.DefaultSnapshotKeep, "how many automatic snapshots to keep")
	fs.Int64Var(&snapshotMB, "snapshot-max-mb", box.DefaultSnapshotMaxBytes>>20, "total size of the kept snapshots, in MB (the newest is always kept)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if !i18n.Supported(cfg.Lang) {
		return usageError{fmt.Sprintf("--lang %q: choose tg, ru or en", cfg.Lang)}
	}
	cfg.TrustedKeys = trusted
	cfg.Version = version
	cfg.Snapshots.MaxBytes = snapshotMB << 20
	if cfg.Snapshots.Every == 0 {
		cfg.Snapshots.Every = -1 // never
	}
	logger, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	logger.Debug("garbage collection", "policy", ops.ApplyGCPolicy().String())
	b, err := box.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer b.Close()
	logger.Info("stembox is serving", "version", version, "addr", b.Addr().String(), "packs", len(b.Library().Packs()), "data", cfg.DataDir)
	fmt.Fprintf(stderr, "\n  Open http://localhost:%d/ on this computer.\n\n", port(b.Addr().String()))
	return b.Run(ctx)
}

func port(addr string) int {
	var p int
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		fmt.Sscan(addr[i+1:], &p)
	}
	return p
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: choose debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: ops.Redact} // no personal data in logs
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: choose text or json", format)}
}
