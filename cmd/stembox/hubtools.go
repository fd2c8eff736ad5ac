package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// hubCommands are the operator's commands; they work on the hub's database
// directly, beside a running hub (SQLite and PostgreSQL both allow it).
var hubCommands = commands{
	"add-school":   hubAddSchool,
	"add-token":    hubAddToken,
	"enroll-file":  hubEnrollFile,
	"add-operator": hubAddOperator,
	"revoke":       hubRevoke,
	"publish":      hubPublishCmd,
	"import":       hubImportCmd,
	"schools":      hubSchools,
	"boxes":        hubBoxes,
	"report":       hubReport,
	"keys":         hubKeys,
}

// hubTarget is where an operator's command finds the hub's data: --data
// and --db, which every one of them takes.
type hubTarget struct{ dataDir, db string }

func newHubCommand(cmd, synopsis string, stderr io.Writer) (*flag.FlagSet, *hubTarget) {
	fs := newCommand("stembox hub "+cmd, synopsis+" [--data DIR] [--db postgres://…]", stderr)
	var t hubTarget
	fs.StringVar(&t.dataDir, "data", hub.DefaultDataDir, "the hub's data directory")
	fs.StringVar(&t.db, "db", "", "a postgres:// URL, if the hub keeps its data in PostgreSQL")
	return fs, &t
}

// do runs f on the hub's store.
func (t *hubTarget) do(ctx context.Context, f func(*hub.Store) error) error {
	st, err := hub.OpenStore(ctx, t.db, t.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

func ttlFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("ttl", hub.DefaultTokenTTL, "how long an enrollment token lasts")
}

func hubAddSchool(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("add-school", "--name NAME --region REGION [--ttl 168h]", stderr)
	name := fs.String("name", "", "name of the school")
	region := fs.String("region", "", "the school's region")
	ttl := ttlFlag(fs)
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *region == "" {
		return usageError{"add-school: --name and --region are required"}
	}
	return target.do(ctx, func(st *hub.Store) error {
		tok, err := st.CreateSchool(ctx, *name, *region, *ttl)
		if err != nil {
			return err
		}
		printToken(stdout, tok)
		return nil
	})
}

func hubAddToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("add-token", "--school ID [--ttl 168h]", stderr)
	school := fs.String("school", "", "the school's id")
	ttl := ttlFlag(fs)
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if *school == "" {
		return usageError{"add-token: --school is required"}
	}
	return target.do(ctx, func(st *hub.Store) error {
		tok, err := st.NewToken(ctx, *school, *ttl)
		if err != nil {
			return err
		}
		printToken(stdout, tok)
		return nil
	})
}

func hubEnrollFile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("enroll-file", "--token TOKEN --out FILE [--hub-url URL]", stderr)
	token := fs.String("token", "", "an enrollment token")
	out := fs.String("out", "", "the credential file to write")
	hubURL := fs.String("hub-url", "", "the hub's address, written into a credential file (leave empty for a box that syncs by USB only)")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if *token == "" || *out == "" {
		return usageError{"enroll-file: --token and --out are required"}
	}
	return target.do(ctx, func(st *hub.Store) error {
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
	})
}

func hubAddOperator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("add-operator", "--name NAME", stderr)
	name := fs.String("name", "", "name of the operator")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageError{"add-operator: --name is required"}
	}
	return target.do(ctx, func(st *hub.Store) error {
		t, err := st.CreateOperator(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, t)
		return nil
	})
}

func hubRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("revoke", "CREDENTIAL-ID", stderr)
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"revoke: give one credential id (stembox hub boxes lists them)"}
	}
	return target.do(ctx, func(st *hub.Store) error {
		if err := st.RevokeCredential(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
		return nil
	})
}

func hubPublishCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("publish", "[--trust KEY.pub …] [--require all|region:NAME|school:ID …] PACK.stempack …", stderr)
	trusted := trustFlag(fs, "public key file of a trusted pack signer (repeatable; also DATA/trusted-keys/*.pub)")
	var require listFlag
	fs.Var(&require, "require", "make the pack required for all, region:NAME or school:ID (repeatable)")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"publish: give one or more .stempack files"}
	}
	return target.do(ctx, func(st *hub.Store) error {
		return hubPublish(ctx, st, target.dataDir, *trusted, require, fs.Args(), stdout)
	})
}

func hubImportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("import", "[--out DIR] BUNDLE"+wire.BundleExt+" …", stderr)
	out := fs.String("out", "", "the folder to write the acknowledgements and packs to (default each bundle's)")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"import: give one or more " + wire.BundleExt + " files"}
	}
	return target.do(ctx, func(st *hub.Store) error {
		return hubImport(ctx, st, *out, fs.Args(), stdout)
	})
}

func hubSchools(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("schools", "", stderr)
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	return target.do(ctx, func(st *hub.Store) error {
		schools, err := st.Schools(ctx)
		if err != nil {
			return err
		}
		for _, s := range schools {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", s.ID, s.Region, s.Name)
		}
		return nil
	})
}

func hubBoxes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("boxes", "", stderr)
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	return target.do(ctx, func(st *hub.Store) error {
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
	})
}

func hubReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("report", "[--by region|school|grade|subject|pack] [--region R] [--school ID] [--from 2026-03-01] [--to 2026-03-31] [--out FILE.csv]", stderr)
	by := fs.String("by", "region", "group by region, school, grade, subject or pack")
	region := fs.String("region", "", "only this region")
	school := fs.String("school", "", "only this school (its id)")
	from := fs.String("from", "", "first day, 2026-03-01")
	to := fs.String("to", "", "last day, 2026-03-31")
	out := fs.String("out", "", "output file (default standard output)")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	q := hub.ReportQuery{By: *by, Region: *region, School: *school}
	var err error
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
	return target.do(ctx, func(st *hub.Store) error {
		rep, err := st.Report(ctx, q)
		if err != nil {
			return err
		}
		return writeOutput(*out, stdout, rep.WriteCSV)
	})
}

func printToken(w io.Writer, t hub.Token) {
	fmt.Fprintf(w, "school %s: %s (%s)\n", t.School.ID, t.School.Name, t.School.Region)
	fmt.Fprintf(w, "enrollment token (works once, until %s):\n\n  %s\n\n", t.Expires.UTC().Format("2006-01-02 15:04 UTC"), t.Token)
	fmt.Fprintln(w, "on the school's box: stembox serve --hub URL --enroll-token TOKEN")
}

func hubPublish(ctx context.Context, st *hub.Store, dataDir string, trusted, require []string, files []string, stdout io.Writer) error {
	kr, err := hub.Keyring(dataDir, trusted)
	if err != nil {
		return err
	}
	if _, lerr := st.KeyList(ctx); len(kr.IDs()) == 0 && lerr != nil {
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
		if res.Diverged != nil {
			fmt.Fprintf(stdout, "  stored in part: %v\n  carry the acknowledgement back: the box goes on under a new epoch, and its next bundle carries the rest\n", res.Diverged)
		}
		fmt.Fprintf(stdout, "  acknowledgement: %s\n", res.AckPath)
		if res.KeyListPath != "" {
			fmt.Fprintf(stdout, "  key list: %s\n", res.KeyListPath)
		}
		for _, pp := range res.PackPaths {
			fmt.Fprintf(stdout, "  pack for the box: %s\n", pp)
		}
		for _, c := range res.Contributions {
			state := "new"
			if c.Known {
				state = "held already"
			}
			fmt.Fprintf(stdout, "  contribution %s %s: %s (see the Contributions page)\n", c.ID, c.Version, state)
		}
		for _, p := range res.ContribProblems {
			fmt.Fprintf(stdout, "  contribution refused: %s\n", p)
		}
	}
	return nil
}
