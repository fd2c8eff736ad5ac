package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/peer"
	"github.com/mitstem/stembox/internal/term"
)

const peerUsage = `Usage:
  stembox peer list [URL]                     list the packs of a box (of every box found on the LAN without URL)
  stembox peer fetch [--data-dir DIR] [--trust FILE.pub…] URL PACK…
                                              copy packs from another box and install them on this one
                                              (checked as any pack is; an interrupted copy resumes)
`

var peerCommands = commands{"list": peerList, "fetch": peerFetch}

func peerList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox peer list", "[--timeout 3s] [URL]", stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "without URL: how long to look for boxes")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError{"peer list: name at most one box"}
	}
	urls := fs.Args()
	if len(urls) == 0 {
		var err error
		if urls, err = discoverURLs(ctx, *timeout, stderr); err != nil {
			return err
		}
	}
	client := peer.NewClient("stembox/" + version)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BOX\tPACK\tVERSION\tTITLE")
	var failed error
	for _, u := range urls {
		packs, err := client.Packs(ctx, u)
		if err != nil {
			failed = err
			fmt.Fprintf(stderr, "%v\n", err)
			continue
		}
		base, _ := peer.BaseURL(u)
		for _, p := range packs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", base, p.ID, p.Version, title(p))
		}
	}
	tw.Flush()
	return failed
}

// discoverURLs is the address of every box found on the LAN within timeout.
func discoverURLs(ctx context.Context, timeout time.Duration, stderr io.Writer) ([]string, error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	boxes, err := discovery.Discover(ctx, timeout, nil, logger)
	if err != nil {
		return nil, err
	}
	if len(boxes) == 0 {
		return nil, fmt.Errorf("no stembox found on the LAN within %s; name one by its URL", timeout)
	}
	var urls []string
	for _, b := range boxes {
		urls = append(urls, b.URL())
	}
	return urls, nil
}

func peerFetch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox peer fetch", "[--data-dir DIR] [--trust FILE.pub…] [--stall-timeout 1m] URL PACK…", stderr)
	client := peer.NewClient("stembox/" + version)
	dataDir := dataDirFlag(fs)
	trusted := trustFlag(fs, "public key file of a signer this box is to trust from now on (copied into DATA/trusted-keys; repeatable)")
	fs.DurationVar(&client.Stall, "stall-timeout", peer.DefaultStall, "give up (and resume later) when the other box sends nothing for this long")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageError{"peer fetch: name a box's URL and at least one pack"}
	}
	base, err := peer.BaseURL(fs.Arg(0))
	if err != nil {
		return usageError{err.Error()}
	}
	lib, err := openTrusting(*dataDir, *trusted, stdout)
	if err != nil {
		return err
	}
	for _, id := range fs.Args()[1:] {
		bar := newProgressBar(stderr, id)
		res, err := peer.Fetch(ctx, client, lib, box.DownloadsDir(*dataDir), base, id, bar.update)
		bar.finish()
		if err != nil {
			return err
		}
		printInstalled(stdout, res, base)
	}
	return nil
}

func title(p peer.RemotePack) string {
	for _, l := range []string{"en", "ru", "tg"} {
		if t := p.Title[l]; t != "" {
			return t
		}
	}
	return ""
}

// progressBar draws a download's progress on a terminal, at most five
// times a second; elsewhere (a log, a pipe) it stays quiet.
type progressBar struct {
	w     io.Writer
	name  string
	tty   bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, name string) *progressBar {
	return &progressBar{w: w, name: name, tty: term.IsTerminal(w), start: time.Now()}
}

func (b *progressBar) update(p peer.Progress) {
	if !b.tty {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 200*time.Millisecond && (p.Total < 0 || p.Done < p.Total) {
		return
	}
	b.last = now
	b.drawn = true
	fmt.Fprint(b.w, "\r"+progressLine(b.name, p, now.Sub(b.start)))
}

func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// progressLine is one line of a progress bar: name, bar, percentage, bytes
// and speed.
func progressLine(name string, p peer.Progress, elapsed time.Duration) string {
	const width = 30
	speed := ""
	if s := elapsed.Seconds(); s > 0.5 {
		speed = "  " + humanBytes(int64(float64(p.Done-p.Resumed)/s)) + "/s"
	}
	if p.Total <= 0 {
		return fmt.Sprintf("%s  %s%s ", name, humanBytes(p.Done), speed)
	}
	filled := int(p.Done * width / p.Total)
	return fmt.Sprintf("%s  [%s%s] %3d%%  %s / %s%s ", name, strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		p.Done*100/p.Total, humanBytes(p.Done), humanBytes(p.Total), speed)
}
