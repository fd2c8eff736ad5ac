// Command stembox-tour plays a whole lesson on a new box in headless
// Chromium, writes screenshots of every page it visits at a phone's, a
// laptop's and a projector's size in Tajik, Russian and English, and fails
// when the audit finds anything (internal/tour). make tour runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/mitstem/stembox/internal/tour"
)

func main() {
	out := flag.String("out", "tour-out", "folder for the screenshots and findings.txt")
	packs := flag.String("packs", "content-packs", "the content packs, in source form")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the Chromium to drive")
	docs := flag.String("docs", "", "also copy the README's screenshots into this folder (docs/screenshots)")
	quiet := flag.Bool("q", false, "do not list the pages as they are visited")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, tour.Config{Out: *out, Packs: *packs, Chromium: *chromium, Docs: *docs}, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "stembox-tour:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg tour.Config, quiet bool) error {
	if !quiet {
		cfg.Log = os.Stdout
	}
	rep, err := tour.Run(ctx, cfg)
	if rep != nil {
		for _, f := range rep.Findings {
			fmt.Println(f)
		}
		fmt.Printf("%d pages, %d screenshots in %s, %d findings, in %s\n",
			rep.Pages, rep.Shots, cfg.Out, len(rep.Findings), rep.Took.Round(1e8))
		fmt.Printf("findings: %s\n", filepath.Join(cfg.Out, "findings.txt"))
	}
	if err != nil {
		return err
	}
	if len(rep.Findings) > 0 {
		return fmt.Errorf("%w: %d findings", tour.ErrFindings, len(rep.Findings))
	}
	return nil
}
