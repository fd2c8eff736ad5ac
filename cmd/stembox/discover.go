package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/discovery"
)

// addLANFlags defines serve's flags for finding the box on the LAN.
func addLANFlags(fs *flag.FlagSet, cfg *box.Config, console io.Writer) {
	cfg.MDNS = true
	cfg.Console = console
	cfg.Version = version
	fs.Var(notFlag{&cfg.MDNS}, "no-mdns", "do not advertise the box on the LAN or look for other boxes (mDNS)")
	fs.StringVar(&cfg.MDNSName, "mdns-name", discovery.DefaultName, "the box's name on the LAN, e.g. the school and room")
	cfg.MDNSHost = discovery.DefaultHost
	fs.Var(hostFlag{&cfg.MDNSHost}, "mdns-host", "host name the box answers to under .local")
	fs.Var((*listFlag)(&cfg.MDNSInterfaces), "mdns-interfaces", "network interfaces to advertise on, comma-separated (default: every up, non-loopback, multicast one)")
}

// notFlag is a boolean flag that clears *p when set (--no-mdns).
type notFlag struct{ p *bool }

func (f notFlag) IsBoolFlag() bool { return true }

func (f notFlag) String() string {
	if f.p == nil {
		return "false"
	}
	return strconv.FormatBool(!*f.p)
}

func (f notFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*f.p = !v
	return nil
}

// hostFlag is a host name under .local, checked when set.
type hostFlag struct{ p *string }

func (f hostFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

func (f hostFlag) Set(s string) error {
	h, err := discovery.CheckHost(s)
	if err != nil {
		return err
	}
	*f.p = h
	return nil
}

func runDiscover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox discover", "[--timeout 3s] [--json] [--mdns-interfaces IFACE,…]", stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to listen for boxes")
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	var ifaces listFlag
	fs.Var(&ifaces, "mdns-interfaces", "network interfaces to look on, comma-separated (default: every up, non-loopback, multicast one)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *timeout <= 0 || *timeout > 10*time.Minute {
		return usageError{fmt.Sprintf("--timeout %s: choose between 1s and 10m", *timeout)}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	boxes, err := discovery.Discover(ctx, *timeout, ifaces, logger)
	if err != nil {
		return err
	}
	if *asJSON {
		if boxes == nil {
			boxes = []discovery.Box{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(boxes)
	}
	if len(boxes) == 0 {
		fmt.Fprintf(stdout, "no stembox found within %s (are this computer and the box on the same network?)\n", *timeout)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tVERSION\tBOX ID")
	for _, b := range boxes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Name, b.URL(), b.Version, b.ID)
		for _, u := range b.URLs {
			if u != b.URL() {
				fmt.Fprintf(tw, "\t%s\t\t\n", u)
			}
		}
	}
	return tw.Flush()
}
