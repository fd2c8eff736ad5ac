package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mitstem/stembox/internal/hub"
)

const hubUsage = `stembox hub — the central server: enrollment, event ingest, reports, packs

  stembox hub [serve] [--addr :8090] [--data DIR] [--db postgres://…] [--trust KEY.pub …]
                      [--signing-key FILE]
      Serve the hub. On first start it writes an operator's token to
      DIR/operator-token: sign in to the pages with it. With --signing-key
      (the programme's key), teachers' contributions are published from the
      Contributions page re-signed with it.
  stembox hub add-school --name NAME --region REGION [--ttl 168h]
      Add a school; prints its one-time enrollment token for the box.
  stembox hub add-token --school ID [--ttl 168h]
      Another one-time token for a school: for its next box, or to enroll a
      box again (that revokes the box's earlier credentials).
  stembox hub enroll-file --token TOKEN --out FILE [--hub-url URL]
      Make the credential file of a box that never reaches the hub (stembox
      sync enroll --file FILE on the box).
  stembox hub add-operator --name NAME               prints a new operator token
  stembox hub revoke CREDENTIAL-ID                   a box's credential stops working
  stembox hub publish [--require all|region:NAME|school:ID …] PACK.stempack …
  stembox hub import [--out DIR] BUNDLE.stembundle …
      Store a USB bundle's events, and the teachers' contributions beside it;
      write the acknowledgement (and the packs the box should get) to DIR for
      the stick.
  stembox hub schools | boxes                        list them
  stembox hub keys list | add | revoke …             the key list of pack signers boxes learn (stembox hub keys help)
  stembox hub report [--by region|school|grade|subject|pack] [--region R] [--school ID]
                     [--from 2026-03-01] [--to 2026-03-31] [--out FILE.csv]

Every flag of the hub reads STEMBOX_HUB_<FLAG> (--db from STEMBOX_HUB_DB, …),
so a box and a hub on one machine do not share settings.
`

func runHub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' || args[0] == "serve" {
		if len(args) > 0 && args[0] == "serve" {
			args = args[1:]
		}
		return runHubServe(ctx, args, stderr)
	}
	return hubCommands.run(ctx, "hub", hubUsage, args, stdout, stderr)
}

func runHubServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("stembox hub serve", stderr)
	var cfg hub.Config
	var trusted listFlag
	var logFormat, logLevel string
	fs.StringVar(&cfg.Addr, "addr", hub.DefaultAddr, "address to serve on")
	fs.StringVar(&cfg.DataDir, "data", hub.DefaultDataDir, "directory of the hub's SQLite database, trusted keys and first operator token")
	fs.StringVar(&cfg.DB, "db", "", "a postgres:// URL to keep the data in PostgreSQL (several hubs may share it); empty for SQLite in --data")
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxy", "address or network of a load balancer whose X-Forwarded-For names the client (repeatable, or comma-separated)")
	fs.Var(&trusted, "trust", "public key file of a pack signer whose packs may be published (repeatable; also DATA/trusted-keys/*.pub)")
	fs.StringVar(&cfg.Lang, "lang", hub.DefaultLang, "default language of the pages: tg, ru or en")
	fs.StringVar(&cfg.SigningKey, "signing-key", "", "the programme's signing key file (stembox pack keygen): publishes teachers' contributions re-signed with it")
	fs.IntVar(&cfg.Limits.MaxBatchEvents, "max-batch-events", hub.DefaultLimits.MaxBatchEvents, "most events a box may send in one batch")
	fs.DurationVar(&cfg.Limits.IngestEvery, "ingest-every", hub.DefaultLimits.IngestEvery, "a box may send a batch this often on average")
	fs.IntVar(&cfg.Limits.IngestBurst, "ingest-burst", hub.DefaultLimits.IngestBurst, "… and this many batches at once")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() { fmt.Fprint(stderr, hubUsage, "\nFlags of stembox hub serve:\n"); fs.PrintDefaults() }
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg.TrustedKeys = trusted
	proxyNets, err := hub.ParseProxies(proxies)
	if err != nil {
		return err
	}
	cfg.TrustedProxies = proxyNets
	logger, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	h, err := hub.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer h.Close()
	logger.Info("the stembox hub is serving", "version", version, "addr", h.Addr().String(), "db", h.Store().DB().Kind(), "data", cfg.DataDir,
		"trusted_pack_keys", len(h.TrustedKeys().IDs()), "programme_key", h.SigningKey())
	return h.Run(ctx)
}
