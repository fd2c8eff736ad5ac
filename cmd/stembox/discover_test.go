package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/peer"
)

func TestLANUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"discover", "extra"},
		{"discover", "--timeout", "0s"},
		{"peer"},
		{"peer", "frobnicate"},
		{"peer", "fetch", "http://192.0.2.1:8080"},
		{"peer", "fetch", "ftp://x", "mini"},
		{"peer", "list", "a", "b"},
		{"serve", "--mdns-host", "my box"},
		{"serve", "--no-mdns=maybe"},
	} {
		_, err := runCLI(t, args...)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("stembox %v: err = %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}

func parseLANFlags(t *testing.T, args ...string) box.Config {
	t.Helper()
	fs := newFlagSet("test", io.Discard)
	var cfg box.Config
	addLANFlags(fs, &cfg, io.Discard)
	if err := parseWithEnv(fs, args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return cfg
}

func TestLANFlags(t *testing.T) {
	cfg := parseLANFlags(t)
	if !cfg.MDNS || cfg.MDNSName != "stembox" || cfg.MDNSHost != "stembox" || cfg.MDNSInterfaces != nil || cfg.Console == nil || cfg.Version != version {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg = parseLANFlags(t, "--no-mdns", "--mdns-name", "Room 5", "--mdns-host", "Room5.local", "--mdns-interfaces", "wlan0,eth0")
	if cfg.MDNS || cfg.MDNSName != "Room 5" || cfg.MDNSHost != "room5" || !slices.Equal(cfg.MDNSInterfaces, []string{"wlan0", "eth0"}) {
		t.Errorf("flags: %+v", cfg)
	}
	if cfg := parseLANFlags(t, "--no-mdns=false"); !cfg.MDNS {
		t.Error("--no-mdns=false turned mDNS off")
	}
	t.Setenv("STEMBOX_NO_MDNS", "true")
	t.Setenv("STEMBOX_MDNS_INTERFACES", "wlan0")
	if cfg := parseLANFlags(t); cfg.MDNS || !slices.Equal(cfg.MDNSInterfaces, []string{"wlan0"}) {
		t.Errorf("STEMBOX_NO_MDNS=true, STEMBOX_MDNS_INTERFACES=wlan0: %+v", cfg)
	}
	t.Setenv("STEMBOX_NO_MDNS", "0")
	if cfg := parseLANFlags(t); !cfg.MDNS {
		t.Error("STEMBOX_NO_MDNS=0 turned mDNS off")
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		p       peer.Progress
		elapsed time.Duration
		want    string
	}{
		{peer.Progress{Done: 512 << 10, Total: 2 << 20}, 2 * time.Second, "mini  [#######-----------------------]  25%  512.0 KB / 2.0 MB  256.0 KB/s "},
		{peer.Progress{Done: 2 << 20, Total: 2 << 20, Resumed: 1 << 20}, time.Second, "mini  [##############################] 100%  2.0 MB / 2.0 MB  1.0 MB/s "},
		{peer.Progress{Done: 300, Total: -1}, 0, "mini  300 bytes "},
	} {
		got := progressLine("mini", tc.p, tc.elapsed)
		if got != tc.want {
			t.Errorf("progressLine(%+v) =\n%q, want\n%q", tc.p, got, tc.want)
		}
	}
	// Not a terminal: nothing is drawn.
	var b strings.Builder
	bar := newProgressBar(&b, "mini")
	bar.update(peer.Progress{Done: 1, Total: 2})
	bar.finish()
	if b.Len() != 0 {
		t.Errorf("a progress bar was drawn into a non-terminal: %q", b.String())
	}
}
