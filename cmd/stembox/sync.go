package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
)

const syncUsage = `stembox sync — the box's link to the hub

  stembox sync status [--data-dir DIR] [--json]
      Backlog, last success, last error, bytes sent, a download under way.
  stembox sync enroll --hub URL --token TOKEN [--data-dir DIR]
  stembox sync enroll --file BOX.credential [--data-dir DIR]
      Enroll the box with a hub (or with a credential file made by
      stembox hub enroll-file, for a box that never reaches the hub).
  stembox sync export --out DIR [--data-dir DIR]
      Write the events the hub has not acknowledged to a signed bundle in
      DIR (a USB stick), for stembox hub import.
  stembox sync import [--data-dir DIR] [--trust KEY.pub …] FILE|DIR …
      Apply what came back from the hub: acknowledgements (.stemack) move
      the cursor, the hub's key list (keys.stemkeys) is taken if a key the
      box trusts signed it, packs (.stempack) are installed (never an older
      version).
      --trust makes the box trust KEY from now on, as pack install --trust.
      Twice changes nothing.

They work beside a running box.
`

// addSyncFlags adds the flags of upstream sync to stembox serve.
func addSyncFlags(fs *flag.FlagSet, cfg *box.Config) {
	fs.StringVar(&cfg.Upstream.HubURL, "hub", "", "the hub's address, to enroll with --enroll-token at start (https://hub.example.org)")
	fs.StringVar(&cfg.Upstream.EnrollToken, "enroll-token", "", "a one-time enrollment token from the hub's operator (used once; ignored once enrolled)")
	fs.DurationVar(&cfg.Upstream.Every, "sync-every", upstream.DefaultEvery, "sync with the hub this often when nothing happens (new answers sync sooner)")
	fs.DurationVar(&cfg.Upstream.MaxBackoff, "sync-max-backoff", upstream.DefaultMaxBackoff, "the longest wait between tries while the hub cannot be reached")
}

var syncCommands = commands{"status": syncStatus, "enroll": syncEnroll, "export": syncExport, "import": syncImport}

func syncStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox sync status", "[--data-dir DIR] [--json]", stderr)
	dataDir := dataDirFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	return withBox(ctx, *dataDir, func(db *store.DB) error {
		st, err := upstream.ReadStatus(ctx, db)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		}
		printSyncStatus(stdout, st)
		return nil
	})
}

func syncEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox sync enroll", "--hub URL --token TOKEN | --file BOX.credential [--data-dir DIR]", stderr)
	dataDir := dataDirFlag(fs)
	hubURL := fs.String("hub", "", "the hub's address")
	token := fs.String("token", "", "the enrollment token")
	file := fs.String("file", "", "a credential file made by stembox hub enroll-file")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *file == "" && (*hubURL == "" || *token == "") {
		return usageError{"enroll: give --hub and --token, or --file"}
	}
	return withBox(ctx, *dataDir, func(db *store.DB) error {
		var link store.UpstreamLink
		var err error
		if *file != "" {
			link, err = upstream.EnrollFile(ctx, db, *file)
		} else {
			link, err = upstream.Enroll(ctx, db, &http.Client{Timeout: 2 * time.Minute}, *hubURL, *token, "", version)
		}
		if err != nil {
			return err
		}
		where := link.HubURL
		if where == "" {
			where = "the hub (by USB stick)"
		}
		fmt.Fprintf(stdout, "enrolled with %s for %s (%s)\n", where, link.SchoolName, link.Region)
		return nil
	})
}

func syncExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox sync export", "--out DIR [--data-dir DIR]", stderr)
	dataDir := dataDirFlag(fs)
	out := fs.String("out", "", "the folder to write the bundle to (a USB stick)")
	trusted := trustFlag(fs, "public key file of a trusted pack signer (repeatable)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"export: --out DIR is required"}
	}
	db, lib, err := openBoxAndLibrary(ctx, *dataDir, *trusted)
	if err != nil {
		return err
	}
	defer db.Close()
	contrib, err := box.Contributions(*dataDir)
	if err != nil {
		contrib = upstream.Contributions{} // a box that never started has made nothing
	}
	res, err := upstream.ExportWith(ctx, db, lib, *out, contrib)
	if err != nil {
		return err
	}
	if n := len(res.Contributions); n > 0 {
		fmt.Fprintf(stdout, "wrote %d of this box's teachers' packs beside it, for the hub\n", n)
	}
	if res.Events == 0 {
		fmt.Fprintf(stdout, "no events wait for the hub; wrote %s anyway (it asks for pack updates)\n", res.Path)
		return nil
	}
	fmt.Fprintf(stdout, "wrote %d events (%d to %d, %d bytes) to %s\n", res.Events, res.FirstSeq, res.LastSeq, res.Bytes, res.Path)
	fmt.Fprintln(stdout, "take it to the hub (stembox hub import, or its import page), and bring back the acknowledgement")
	return nil
}

func syncImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox sync import", "[--data-dir DIR] [--trust KEY.pub …] FILE|DIR …", stderr)
	dataDir := dataDirFlag(fs)
	trusted := trustFlag(fs, "public key file of a signer this box is to trust from now on (copied into DATA/trusted-keys; repeatable)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"import: give the acknowledgement or pack files, or the folder holding them"}
	}
	db, err := openBox(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	lib, err := openTrusting(*dataDir, *trusted, stdout) // as pack install: the running box trusts them too
	if err != nil {
		return err
	}
	for _, path := range fs.Args() {
		contrib, cerr := box.Contributions(*dataDir)
		if cerr != nil {
			contrib = upstream.Contributions{}
		}
		res, err := upstream.ImportWith(ctx, db, lib, path, contrib)
		if err != nil {
			return err
		}
		printImported(stdout, res)
	}
	return nil
}

// openBoxAndLibrary opens a box's database and its pack library.
func openBoxAndLibrary(ctx context.Context, dataDir string, trusted []string) (*store.DB, *content.Library, error) {
	db, err := openBox(ctx, dataDir)
	if err != nil {
		return nil, nil, err
	}
	lib, err := box.OpenLibrary(dataDir, trusted)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, lib, nil
}

func printImported(w io.Writer, res upstream.ImportResult) {
	if res.Acks > 0 {
		if res.Moved {
			fmt.Fprintf(w, "the hub holds this box's events up to %d\n", res.AckedSeq)
		} else {
			fmt.Fprintf(w, "acknowledgement applied before: nothing changed (the hub holds events up to %d)\n", res.AckedSeq)
		}
	}
	if k := res.KeyList; k != nil {
		switch {
		case k.Unchanged:
			fmt.Fprintf(w, "key list %d held already: nothing changed\n", k.Serial)
		default:
			fmt.Fprintf(w, "took key list %d: trusts %d more keys, revoked %d\n", k.Serial, len(k.Added), len(k.Revoked))
			for _, id := range k.Revoked {
				fmt.Fprintf(w, "  key %s revoked: packs signed only by it are no longer served\n", id)
			}
		}
	}
	if res.Epoch != "" {
		fmt.Fprintf(w, "the hub holds other events than this box's (it was restored from a backup): its newer events go up under a new epoch, %s; export again to carry them\n", res.Epoch)
	}
	for _, p := range res.Installed {
		fmt.Fprintln(w, "installed", p)
	}
	for _, p := range res.Unchanged {
		fmt.Fprintln(w, "already installed", p)
	}
	for _, p := range res.Kept {
		fmt.Fprintln(w, "not installed:", p)
	}
}

func printSyncStatus(w io.Writer, st upstream.Status) {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04:05") + " (" + time.Since(t).Round(time.Second).String() + " ago)"
	}
	fmt.Fprintf(w, "box:            %s\n", st.BoxID)
	switch {
	case !st.Enrolled:
		fmt.Fprintln(w, "hub:            not enrolled (stembox sync enroll, or serve --hub URL --enroll-token TOKEN)")
	case st.HubURL == "":
		fmt.Fprintf(w, "hub:            by USB stick only, for %s (%s)\n", st.SchoolName, st.Region)
	default:
		fmt.Fprintf(w, "hub:            %s, for %s (%s), credential %s\n", st.HubURL, st.SchoolName, st.Region, st.CredentialID)
	}
	fmt.Fprintf(w, "events:         %d on the box, %d acknowledged, %d waiting\n", st.LastSeq, st.AckedSeq, st.Backlog)
	if st.Salvaged > 0 {
		fmt.Fprintf(w, "kept:           %d events of a database a restore replaced, waiting for the hub\n", st.Salvaged)
	}
	if st.Epoch != "" {
		fmt.Fprintf(w, "epoch:          %s (the box was restored from a backup; docs/sync-protocol.md)\n", st.Epoch)
	}
	fmt.Fprintf(w, "last success:   %s\n", when(st.LastSuccess))
	fmt.Fprintf(w, "last attempt:   %s\n", when(st.LastAttempt))
	if st.LastError != "" {
		fmt.Fprintf(w, "last error:     %s: %s\n", when(st.LastErrorAt), strings.TrimSpace(st.LastError))
	}
	fmt.Fprintf(w, "sent:           %d bytes (%d events); received %d bytes\n", st.BytesSent, st.EventsSent, st.BytesRecv)
	if d := st.Download; d != nil {
		fmt.Fprintf(w, "downloading:    %s %s: %d of %d bytes, %d of %d files\n", d.Pack, d.Version, d.Done, d.Total, d.FilesDone, d.Files)
	}
}
