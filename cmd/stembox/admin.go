package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/store"
)

const adminUsage = `Usage:
  stembox admin backup [--data-dir DIR] [--out FILE]
      Write a consistent copy of the box's database while it runs (default
      FILE: stembox-backup-TIME.db here). Copy it off the box, to a USB stick.
  stembox admin restore [--data-dir DIR] FILE
      Replace the database by a backup, after checking it. Stop the box first
      (systemctl stop stembox). It says what it replaces: the events of the
      replaced database, how many the hub had acknowledged, and how many never
      reached it — those the backup lacks are kept and sent with the next
      sync. The box's new events go up under a new epoch, so they never
      contradict what the hub holds. The replaced database is kept beside it
      as stembox.db.before-restore-TIME.
  stembox admin snapshots [--data-dir DIR]
      List the automatic daily snapshots (restore one like any backup).
  stembox admin key [--data-dir DIR]
      Show the box's own key: its fingerprint (another box's administrator
      compares it before trusting this box's teachers' packs), the key and
      its namespace; and the other boxes' keys this box trusts.
`

// adminCommands are the commands of stembox admin: the box's database
// (this file) and its people (accounts.go).
func adminCommands() commands {
	cs := commands{"backup": runBackup, "restore": runRestore, "snapshots": runSnapshots, "key": runKey}
	for name := range accountCommands {
		cs[name] = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runAccounts(ctx, name, args, os.Stdin, stdout, stderr)
		}
	}
	return cs
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin backup", "[--data-dir DIR] [--out FILE]", stderr)
	dataDir := dataDirFlag(fs)
	out := fs.String("out", "", "the backup file to write (default stembox-backup-TIME.db)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *out == "" {
		*out = "stembox-backup-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	}
	info, err := store.Backup(ctx, box.DBPath(*dataDir), *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %d events (last seq %d), %.1f MB, checked\n", info.Path, info.Events, info.LastSeq, float64(info.Bytes)/(1<<20))
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin restore", "[--data-dir DIR] FILE", stderr)
	dataDir := dataDirFlag(fs)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"restore: name one backup file"}
	}
	res, err := store.Restore(ctx, box.DBPath(*dataDir), fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s: %d events (last seq %d)\n", fs.Arg(0), res.Restored.Events, res.Restored.LastSeq)
	if res.Aside != "" {
		printReplaced(stdout, res)
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", res.Aside)
	}
	if res.Epoch.Name != "" {
		fmt.Fprintf(stdout, "the box's new events go up to the hub under a new epoch, %s, after seq %d; the hub keeps both\n", res.Epoch.Name, res.Epoch.Base)
	}
	fmt.Fprintln(stdout, "start the box again (systemctl start stembox)")
	return nil
}

// printReplaced says what a restore replaced, so the admin knows what the
// backup lacks and what becomes of it.
func printReplaced(w io.Writer, res store.RestoreResult) {
	r := res.Replaced
	if r.Err != nil {
		fmt.Fprintf(w, "WARNING: the database it replaces could not be read (%v): its events are only in the copy kept aside\n", r.Err)
		return
	}
	fmt.Fprintf(w, "it replaces a database of %d events (last seq %d): the hub had acknowledged them up to seq %d; %d never reached the hub\n",
		r.Events, r.LastSeq, r.Acked, r.Unsynced)
	switch {
	case r.OtherBox != "":
		fmt.Fprintf(w, "WARNING: that database is of another box (%s): none of its events are sent from this one; they are only in the copy kept aside\n", r.OtherBox)
	case r.Unsynced > 0:
		fmt.Fprintf(w, "  %d of those are in the backup; %d are not, and are kept to be sent to the hub with the next sync\n", r.InBackup, r.Salvaged)
	}
	if r.Acked > res.Restored.LastSeq {
		fmt.Fprintf(w, "  the hub holds %d events the backup lacks; they stay on the hub and are counted once\n", r.Acked-res.Restored.LastSeq)
	}
}

func runSnapshots(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin snapshots", "[--data-dir DIR]", stderr)
	dataDir := dataDirFlag(fs)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	snaps, err := box.Snapshots(box.SnapshotDir(*dataDir))
	if err != nil {
		return err
	}
	if len(snaps) == 0 {
		fmt.Fprintf(stdout, "no snapshots in %s yet\n", box.SnapshotDir(*dataDir))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tWRITTEN\tLAST SEQ\tMB")
	for _, s := range snaps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\n", s.Path, s.ModTime.Format("2006-01-02 15:04"), s.LastSeq, float64(s.Bytes)/(1<<20))
	}
	return tw.Flush()
}
