package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mitstem/stembox/internal/box"
)

// commands are the subcommands of a verb group (stembox pack, admin, …):
// each parses its own flags and runs.
type commands map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// run runs the subcommand named by args[0]; the group's usage lists them.
func (cs commands) run(ctx context.Context, group, usage string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{group + ": which command?"}
	}
	cmd, args := args[0], args[1:]
	if f, ok := cs[cmd]; ok {
		return f(ctx, args, stdout, stderr)
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("%s: unknown command %q", group, cmd)}
}

// newFlagSet returns an empty flag set that reports to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// newCommand is the flag set of one subcommand, name being the whole
// command ("stembox pack build") and synopsis its arguments: its usage
// lists that command's flags only.
func newCommand(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet(name, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s %s\n", name, synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseWithEnv sets every flag from its environment variable
// (--data-dir from STEMBOX_DATA_DIR), then parses args over them.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	return parseFlags(fs, args, "STEMBOX_")
}

// parseHubFlags is parseWithEnv with the hub's prefix, STEMBOX_HUB_: a box
// and a hub on one machine do not share settings.
func parseHubFlags(fs *flag.FlagSet, args []string) error {
	return parseFlags(fs, args, "STEMBOX_HUB_")
}

func parseFlags(fs *flag.FlagSet, args []string, prefix string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := prefix + strings.TrimPrefix(envName(f.Name), "STEMBOX_")
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{fs.Name() + ": " + err.Error()}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{fs.Name() + ": " + err.Error()}
	}
	return nil
}

// noArgs refuses the arguments of a command that takes none.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments, got %q", fs.Name(), fs.Args())}
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

// dataDirFlag is the --data-dir of the commands that work on a box's data.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", box.DefaultDataDir, "the box's data directory")
}

// trustFlag is the repeatable --trust of a pack signer's public key.
func trustFlag(fs *flag.FlagSet, usage string) *listFlag {
	var l listFlag
	fs.Var(&l, "trust", usage)
	return &l
}

// writeOutput has write write to the file named by an --out flag, or to
// stdout when it is "". The file is complete when it returns nil.
func writeOutput(out string, stdout io.Writer, write func(io.Writer) error) error {
	if out == "" {
		return write(stdout)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
