package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
)

// runKey shows the box's own key, and the other boxes' keys it trusts.
func runKey(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin key", "[--data-dir DIR]", stderr)
	dataDir := dataDirFlag(fs)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	k, err := box.OwnKey(*dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fingerprint: %s\nkey:         %s\nnamespace:   %s (the ids of the packs this box's teachers make)\n",
		content.Fingerprint(k), k, content.Namespace(k.ID))
	kr := content.NewKeyring()
	if err := kr.LoadBoxKeyDir(box.BoxKeysDir(*dataDir)); err != nil {
		return err
	}
	trusted := kr.BoxKeys()
	if len(trusted) == 0 {
		fmt.Fprintln(stdout, "\nthis box trusts no other box's key")
		return nil
	}
	fmt.Fprintln(stdout, "\nother boxes' keys trusted (each for its own packs only):")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, bk := range trusted {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s…\n", bk.Name, bk.BoxID, content.Fingerprint(bk.Key), bk.Namespace())
	}
	return tw.Flush()
}
