// Command stembox is the offline classroom server: run on a school's box it
// serves lessons and exercises from signed content packs over the LAN.
//
//	stembox serve      the school box (the default)            serve.go
//	stembox pack       keygen | build | sign | verify | …       pack.go
//	stembox admin      backup | restore | accounts | rosters    admin.go, accounts.go
//	stembox discover   the boxes on the LAN                     discover.go
//	stembox peer       list | fetch packs from another box      peer.go
//	stembox sync       status | enroll | export | import        sync.go
//	stembox hub        the central server and its operator      hub.go, hubtools.go
//	stembox version
//
// This package only wires: each subcommand parses its own flags (with
// their STEMBOX_* environment variables, flags.go) and calls internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // every time zone, for --time-zone on a box without /usr/share/zoneinfo
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "stembox:", err)
		}
		os.Exit(exitCode(err))
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `stembox — the offline classroom server

Usage:
  stembox [serve] [flags]     run the school box (stembox serve -h for flags)
  stembox pack COMMAND …      keygen | build | sign | verify | inspect | install
  stembox admin COMMAND …     backup | restore | snapshots | create-teacher | … (stembox admin for all)
  stembox discover [--json]   list the stembox boxes on the LAN
  stembox peer list|fetch …   copy packs from another box on the LAN
  stembox sync COMMAND …      status | enroll | export | import: the box's link to the hub
  stembox hub [COMMAND] …     run the central server, or add-school | publish | import | report …
  stembox version             print the version

Every flag can also be set with an environment variable: --data-dir is
STEMBOX_DATA_DIR, and so on.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stderr)
	case "pack":
		return packCommands.run(ctx, "pack", packUsage, args, stdout, stderr)
	case "admin":
		return adminCommands().run(ctx, "admin", adminUsage+accountsUsage, args, stdout, stderr)
	case "discover":
		return runDiscover(ctx, args, stdout, stderr)
	case "peer":
		return peerCommands.run(ctx, "peer", peerUsage, args, stdout, stderr)
	case "sync":
		return syncCommands.run(ctx, "sync", syncUsage, args, stdout, stderr)
	case "hub":
		return runHub(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "stembox", version)
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
