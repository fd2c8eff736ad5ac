// Command stembox is the offline classroom server: run on a school's box it
// serves lessons and exercises from signed content packs over the LAN.
//
//	stembox serve      the school box (the default)
//	stembox pack       build | sign | verify | inspect | keygen | install content packs
//	stembox sync       status | enroll | export | import: the box's link to the hub
//	stembox hub        the central server: enrollment, ingest, reports, packs
//	stembox version
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
		return runPack(args, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args, stdout, stderr)
	case "discover":
		return runDiscover(ctx, args, stdout, stderr)
	case "peer":
		return runPeer(ctx, args, stdout, stderr)
	case "sync":
		return runSync(ctx, args, stdout, stderr)
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

// newFlagSet returns a flag set whose flags default to STEMBOX_* environment
// variables; call applyEnv after defining the flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// applyEnv sets every flag not given on the command line from its
// environment variable (--data-dir from STEMBOX_DATA_DIR), then parses args.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
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

func envName(flagName string) string {
	b := []byte("STEMBOX_")
	for _, c := range []byte(flagName) {
		switch {
		case c == '-':
			b = append(b, '_')
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// listFlag is a repeatable flag; an environment variable gives a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return fmt.Sprint([]string(*l)) }

func (l *listFlag) Set(v string) error {
	for _, s := range splitComma(v) {
		*l = append(*l, s)
	}
	return nil
}

func splitComma(v string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ',' {
			if s := v[start:i]; s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	return out
}
