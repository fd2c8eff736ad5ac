package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

const hubUsage = `stembox hub — the central server: enrollment, event ingest, reports, packs

  stembox hub [serve] [--addr :8090] [--data DIR] [--db postgres://…] [--trust KEY.pub …]
      Serve the hub. On first start it writes an operator's token to
      DIR/operator-token: sign in to the pages with it.
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
      Store a USB bundle's events; write the acknowledgement (and the packs
      the box should get) to DIR for the stick.
  stembox hub schools | boxes                        list them
  stembox hub report [--by region|school|grade|subject|pack] [--region R] [--school ID]
                     [--from 2026-03-01] [--to 2026-03-31] [--out FILE.csv]

Every flag of the hub reads STEMBOX_HUB_<FLAG> (--db from STEMBOX_HUB_DB, …),
so a box and a hub on one machine do not share settings.
`

func runHub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runHubServe(ctx, args, stderr)
	case "add-school", "add-token", "enroll-file", "add-operator", "revoke", "publish", "import", "schools", "boxes", "report":
		return runHubTool(ctx, cmd, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, hubUsage)
		return nil
	}
	fmt.Fprint(stderr, hubUsage)
	return usageError{fmt.Sprintf("unknown hub command %q", cmd)}
}

// parseHubFlags is parseWithEnv with the prefix STEMBOX_HUB_.
func parseHubFlags(fs *flag.FlagSet, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := "STEMBOX_HUB_" + strings.TrimPrefix(envName(f.Name), "STEMBOX_")
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{err.Error()}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func runHubServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("stembox hub", stderr)
	var cfg hub.Config
	var trusted listFlag
	var logFormat, logLevel string
	fs.StringVar(&cfg.Addr, "addr", hub.DefaultAddr, "address to serve on")
	fs.StringVar(&cfg.DataDir, "data", hub.DefaultDataDir, "directory of the hub's SQLite database, trusted keys and first operator token")
	fs.StringVar(&cfg.DB, "db", "", "a postgres:// URL to keep the data in PostgreSQL (several hubs may share it); empty for SQLite in --data")
	fs.Var(&trusted, "trust", "public key file of a pack signer whose packs may be published (repeatable; also DATA/trusted-keys/*.pub)")
	fs.StringVar(&cfg.Lang, "lang", hub.DefaultLang, "default language of the pages: tg, ru or en")
	fs.IntVar(&cfg.Limits.MaxBatchEvents, "max-batch-events", hub.DefaultLimits.MaxBatchEvents, "most events a box may send in one batch")
	fs.DurationVar(&cfg.Limits.IngestEvery, "ingest-every", hub.DefaultLimits.IngestEvery, "a box may send a batch this often on average")
	fs.IntVar(&cfg.Limits.IngestBurst, "ingest-burst", hub.DefaultLimits.IngestBurst, "… and this many batches at once")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() { fmt.Fprint(stderr, hubUsage, "\nFlags of stembox hub serve:\n"); fs.PrintDefaults() }
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("hub takes no arguments, got %q", fs.Args())}
	}
	cfg.TrustedKeys = trusted
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
		"trusted_pack_keys", len(h.TrustedKeys().IDs()))
	return h.Run(ctx)
}

// runHubTool runs the operator's commands on the hub's database directly
// (beside a running hub: SQLite and PostgreSQL both allow it).
func runHubTool(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stembox hub "+cmd, stderr)
	dataDir := fs.String("data", hub.DefaultDataDir, "the hub's data directory")
	db := fs.String("db", "", "a postgres:// URL, if the hub keeps its data in PostgreSQL")
	name := fs.String("name", "", "name of the school or operator")
	region := fs.String("region", "", "the school's region")
	school := fs.String("school", "", "a school id")
	ttl := fs.Duration("ttl", hub.DefaultTokenTTL, "how long an enrollment token lasts")
	token := fs.String("token", "", "an enrollment token")
	hubURL := fs.String("hub-url", "", "the hub's address, written into a credential file (leave empty for a box that syncs by USB only)")
	out := fs.String("out", "", "output file or folder")
	var trusted, require listFlag
	fs.Var(&trusted, "trust", "public key file of a trusted pack signer (repeatable; also DATA/trusted-keys/*.pub)")
	fs.Var(&require, "require", "publish: make the pack required for all, region:NAME or school:ID (repeatable)")
	by := fs.String("by", "region", "report: group by region, school, grade, subject or pack")
	from := fs.String("from", "", "report: first day, 2026-03-01")
	to := fs.String("to", "", "report: last day, 2026-03-31")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	st, err := hub.OpenStore(ctx, *db, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	switch cmd {
	case "add-school":
		if *name == "" || *region == "" {
			return usageError{"add-school: --name and --region are required"}
		}
		tok, err := st.CreateSchool(ctx, *name, *region, *ttl)
		if err != nil {
			return err
		}
		printToken(stdout, tok)
		return nil
	case "add-token":
		if *school == "" {
			return usageError{"add-token: --school is required"}
		}
		tok, err := st.NewToken(ctx, *school, *ttl)
		if err != nil {
			return err
		}
		printToken(stdout, tok)
		return nil
	case "enroll-file":
		if *token == "" || *out == "" {
			return usageError{"enroll-file: --token and --out are required"}
		}
		resp, err := st.Enroll(ctx, *token, "", "")
		if err != nil {
			return err
		}
		resp.HubURL = *hubURL
		b, _ := json.MarshalIndent(resp, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote the credential of a box of %s (%s) to %s\n", resp.SchoolName, resp.Region, *out)
		fmt.Fprintln(stdout, "on the box: stembox sync enroll --file", filepath.Base(*out))
		return nil
	case "add-operator":
		if *name == "" {
			return usageError{"add-operator: --name is required"}
		}
		t, err := st.CreateOperator(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, t)
		return nil
	case "revoke":
		if fs.NArg() != 1 {
			return usageError{"revoke: give one credential id (stembox hub boxes lists them)"}
		}
		if err := st.RevokeCredential(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
		return nil
	case "publish":
		return hubPublish(ctx, st, *dataDir, trusted, require, fs.Args(), stdout)
	case "import":
		return hubImport(ctx, st, *out, fs.Args(), stdout)
	case "schools":
		schools, err := st.Schools(ctx)
		if err != nil {
			return err
		}
		for _, s := range schools {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", s.ID, s.Region, s.Name)
		}
		return nil
	case "boxes":
		boxes, err := st.Boxes(ctx)
		if err != nil {
			return err
		}
		for _, b := range boxes {
			seen := "never"
			if !b.LastSeen.IsZero() {
				seen = b.LastSeen.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\tevents up to %d\tlast seen %s\n", b.ID, b.Region, b.SchoolName, b.AckedSeq, seen)
			for _, c := range b.Credentials {
				state := "in use"
				if c.Revoked {
					state = "revoked"
				}
				fmt.Fprintf(stdout, "\tcredential %s\t%s\n", c.ID, state)
			}
		}
		return nil
	case "report":
		q := hub.ReportQuery{By: *by, Region: *region, School: *school}
		if *from != "" {
			if q.From, err = time.Parse("2006-01-02", *from); err != nil {
				return usageError{"--from: write a date as 2026-03-01"}
			}
		}
		if *to != "" {
			if q.To, err = time.Parse("2006-01-02", *to); err != nil {
				return usageError{"--to: write a date as 2026-03-31"}
			}
			q.To = q.To.AddDate(0, 0, 1)
		}
		rep, err := st.Report(ctx, q)
		if err != nil {
			return err
		}
		w := stdout
		if *out != "" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		return rep.WriteCSV(w)
	}
	return usageError{"unknown hub command " + cmd}
}

func printToken(w io.Writer, t hub.Token) {
	fmt.Fprintf(w, "school %s: %s (%s)\n", t.School.ID, t.School.Name, t.School.Region)
	fmt.Fprintf(w, "enrollment token (works once, until %s):\n\n  %s\n\n", t.Expires.UTC().Format("2006-01-02 15:04 UTC"), t.Token)
	fmt.Fprintln(w, "on the school's box: stembox serve --hub URL --enroll-token TOKEN")
}

func hubPublish(ctx context.Context, st *hub.Store, dataDir string, trusted, require []string, files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return usageError{"publish: give one or more .stempack files"}
	}
	kr, err := hub.Keyring(dataDir, trusted)
	if err != nil {
		return err
	}
	if len(kr.IDs()) == 0 {
		return fmt.Errorf("the hub trusts no pack signer: put their .pub files in %s or pass --trust", filepath.Join(dataDir, "trusted-keys"))
	}
	var reqs []hub.Requirement
	for _, r := range require {
		rq, err := hub.ParseRequirement(r)
		if err != nil {
			return usageError{"--require: " + err.Error()}
		}
		reqs = append(reqs, rq)
	}
	for _, path := range files {
		res, err := st.PublishFile(ctx, path, kr, reqs)
		if err != nil {
			return err
		}
		state := fmt.Sprintf("published (%d of %d files new, %d bytes)", res.NewFiles, res.Files, res.NewBytes)
		if res.Unchanged {
			state = "was published already"
		}
		fmt.Fprintf(stdout, "%s %s %s\n", res.ID, res.Version, state)
	}
	return nil
}

func hubImport(ctx context.Context, st *hub.Store, out string, files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return usageError{"import: give one or more " + wire.BundleExt + " files"}
	}
	for _, path := range files {
		res, err := st.ImportBundleFile(ctx, path, out)
		if err != nil {
			return err
		}
		note := ""
		if res.Repeat {
			note = " (imported before: nothing changed)"
		}
		fmt.Fprintf(stdout, "%s: box %s, %d new events; the hub holds its events up to %d%s\n", filepath.Base(path), res.Ack.BoxID, res.Ack.Stored, res.Ack.AckedSeq, note)
		fmt.Fprintf(stdout, "  acknowledgement: %s\n", res.AckPath)
		for _, pp := range res.PackPaths {
			fmt.Fprintf(stdout, "  pack for the box: %s\n", pp)
		}
	}
	return nil
}
