package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/gradebook"
)

func runAcc(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runAccounts(context.Background(), args[0], args[1:], strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestAccountCommands(t *testing.T) {
	data := t.TempDir()
	d := "--data-dir=" + data
	if _, err := runAcc(t, "short\n", "create-admin", d, "--username", "boss"); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Errorf("a short password: err = %v", err)
	}
	if out, err := runAcc(t, "long enough pw\n", "create-admin", d, "--username", "boss", "--name", "The Boss"); err != nil || !strings.Contains(out, "created admin boss") {
		t.Fatalf("create-admin: %v %s", err, out)
	}
	if _, err := runAcc(t, "long enough pw\n", "create-teacher", d, "--username", "BOSS"); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("duplicate username: err = %v", err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from a file 123\n"), 0o600)
	if out, err := runAcc(t, "", "create-teacher", d, "--username", "aziza", "--password-file", pwFile); err != nil {
		t.Fatalf("create-teacher: %v %s", err, out)
	}
	out, err := runAcc(t, "", "create-class", d, "--teacher", "aziza", "--name", "8B", "--grade", "8")
	if err != nil {
		t.Fatalf("create-class: %v", err)
	}
	code := regexp.MustCompile(`code ([A-Z0-9]{5})`).FindStringSubmatch(out)
	if code == nil {
		t.Fatalf("create-class output lacks the code: %s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("name,gender\nAli,robot\n,male\n"), 0o644)
	out, err = runAcc(t, "", "import-roster", d, "--class", code[1], bad)
	if err == nil || !strings.Contains(out, "bad.csv:2: gender") || !strings.Contains(out, "bad.csv:3: the name is empty") {
		t.Errorf("bad roster: %v\n%s", err, out)
	}
	good := filepath.Join(t.TempDir(), "good.csv")
	os.WriteFile(good, []byte("name,gender,pin\nНигина,female,1234\nFarrukh,male,\n"), 0o644)
	if out, err := runAcc(t, "", "import-roster", d, "--class", code[1], good); err != nil || !strings.Contains(out, "imported 2 students") {
		t.Fatalf("import-roster: %v %s", err, out)
	}
	if out, err := runAcc(t, "new password 99\n", "reset-password", d, "--username", "aziza"); err != nil || !strings.Contains(out, "new password set") {
		t.Errorf("reset-password: %v %s", err, out)
	}
	out, err = runAcc(t, "", "export-results", d, "--class", code[1])
	if err != nil || !strings.HasPrefix(out, gradebook.BOM+"class,student,gender") {
		t.Errorf("export-results: %v %q", err, out)
	}
}
