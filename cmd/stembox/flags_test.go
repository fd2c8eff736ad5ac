package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// Each subcommand takes its own flags only: a flag of another subcommand
// of the same group is refused with a usage message naming the subcommand.
func TestFlagsBelongToTheirSubcommand(t *testing.T) {
	data := "--data-dir=" + t.TempDir()
	hubData := "--data=" + t.TempDir()
	for _, tc := range []struct {
		args  []string
		flag  string // the flag refused, another subcommand's
		other string // a flag of that other subcommand, missing from this one's usage
	}{
		{[]string{"sync", "status", data, "--token", "x"}, "token", "-out"},
		{[]string{"sync", "export", data, "--json"}, "json", "-token"},
		{[]string{"admin", "create-class", data, "--username", "x"}, "username", "-password-file"},
		{[]string{"admin", "export-results", data, "--teacher", "x"}, "teacher", "-grade"},
		{[]string{"admin", "backup", data, "--class", "ABCDE"}, "class", "-teacher"},
		{[]string{"hub", "add-operator", hubData, "--region", "Sughd"}, "region", "-ttl"},
		{[]string{"hub", "schools", hubData, "--by", "school"}, "by", "-require"},
		{[]string{"hub", "import", hubData, "--require", "all"}, "require", "-token"},
		{[]string{"pack", "keygen", "--key", "k"}, "key", "-trust"},
		{[]string{"pack", "inspect", "--trust", "k.pub"}, "trust", "-allow-downgrade"},
		{[]string{"peer", "list", "--data-dir", "d"}, "data-dir", "-stall-timeout"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		name := "stembox " + tc.args[0] + " " + tc.args[1]
		if err == nil || exitCode(err) != 2 {
			t.Errorf("%s: err = %v (exit %d), want a usage error (exit 2)", strings.Join(tc.args, " "), err, exitCode(err))
			continue
		}
		if got := err.Error(); !strings.HasPrefix(got, name+": ") || !strings.Contains(got, "-"+tc.flag) {
			t.Errorf("%s: err = %q, want it to name %q and the flag -%s", strings.Join(tc.args, " "), got, name, tc.flag)
		}
		usage := errOut.String()
		if !strings.Contains(usage, "Usage: "+name+" ") || listsFlag(usage, tc.other) {
			t.Errorf("%s: usage lists another subcommand's flag %s or does not name %q:\n%s", strings.Join(tc.args, " "), tc.other, name, usage)
		}
	}
}

// -h on a subcommand lists its flags and no one else's.
func TestSubcommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		has, lacks []string
	}{
		{[]string{"hub", "add-school", "-h"}, []string{"-name", "-region", "-ttl", "-data", "-db"}, []string{"-by", "-token", "-require", "-out"}},
		{[]string{"admin", "import-roster", "-h"}, []string{"-class", "-data-dir"}, []string{"-username", "-grade", "-out"}},
		{[]string{"sync", "enroll", "-h"}, []string{"-hub", "-token", "-file"}, []string{"-json", "-out", "-trust"}},
		{[]string{"pack", "install", "-h"}, []string{"-data-dir", "-trust", "-allow-downgrade"}, []string{"-key", "-out"}},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: err = %v, want flag.ErrHelp", tc.args, err)
		}
		help := errOut.String()
		lists := func(f string) bool { return listsFlag(help, f) }
		for _, f := range tc.has {
			if !lists(f) {
				t.Errorf("%v: the help lacks %s:\n%s", tc.args, f, help)
			}
		}
		for _, f := range tc.lacks {
			if lists(f) {
				t.Errorf("%v: the help lists %s, another subcommand's flag:\n%s", tc.args, f, help)
			}
		}
	}
}

// listsFlag says whether a flag set's usage lists the flag f ("-name").
func listsFlag(usage, f string) bool {
	return regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(f) + `( |$)`).MatchString(usage)
}
