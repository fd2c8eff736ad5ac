package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/store"
)

// The results CSV of a class is one file: what the class page's export
// gives and what stembox admin export-results writes are the same bytes.
func TestExportResultsIsTheWebsExport(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	d := "--data-dir=" + data
	if out, err := runAcc(t, "teacher pw 1234\n", "create-teacher", d, "--username", "aziza"); err != nil {
		t.Fatalf("create-teacher: %v %s", err, out)
	}
	codes := map[string]string{}
	for _, name := range []string{"7A", "=7B"} {
		out, err := runAcc(t, "", "create-class", d, "--teacher", "aziza", "--name", name, "--grade", "7")
		m := regexp.MustCompile(`code ([A-Z0-9]{5})`).FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("create-class %s: %v %s", name, err, out)
		}
		codes[name] = m[1]
		roster := filepath.Join(t.TempDir(), "roster.csv")
		os.WriteFile(roster, []byte("name,gender,external_id\nНигина "+name+",female,-12\n@Farrukh "+name+",male,\n"), 0o644)
		if out, err := runAcc(t, "", "import-roster", d, "--class", m[1], roster); err != nil {
			t.Fatalf("import-roster: %v %s", err, out)
		}
	}

	db, err := store.Open(ctx, box.DBPath(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	classA, _ := db.ClassByCode(ctx, codes["7A"])
	for _, code := range codes {
		c, _ := db.ClassByCode(ctx, code)
		students, _ := db.Students(ctx, c.ID)
		for i, s := range students {
			a := event.Answer{Learner: s.LearnerID(), Pack: "mini", PackVersion: "1.0.0", Set: "speed", Item: "q1", Lang: "tg", Text: "=1+1, \"да\"", Correct: i == 0, Score: 0.5}
			if _, err := db.RecordAnswer(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Close()

	web := webResults(t, data, classA.ID)
	cli, err := runAcc(t, "", "export-results", d, "--class", codes["7A"], "--lang", "en")
	if err != nil {
		t.Fatalf("export-results: %v", err)
	}
	if cli != web {
		t.Errorf("export-results --class 7A:\n%q\nthe class page's export:\n%q\nwant the same bytes", cli, web)
	}
	for _, want := range []string{gradebook.BOM + "class,student,gender,external_id,pack,set,item,question,correct,score,answer,right_answer,time\n",
		"7A,Нигина 7A,female,'-12,mini,speed,q1,,false,0.5,\"'=1+1, \"\"да\"\"\",,", "7A,'@Farrukh 7A,male,,mini,speed,q1,,true,0.5,"} {
		if !strings.Contains(web, want) {
			t.Errorf("the export lacks %q:\n%s", want, web)
		}
	}
	if strings.Contains(web, "7B") {
		t.Errorf("the export of 7A holds 7B's answers:\n%s", web)
	}

	// Every class: the two classes' files, one header.
	out := filepath.Join(t.TempDir(), "all.csv")
	if _, err := runAcc(t, "", "export-results", d, "--out", out); err != nil {
		t.Fatal(err)
	}
	all, _ := os.ReadFile(out)
	if n := strings.Count(string(all), "\n"); n != 5 || !strings.Contains(string(all), "'=7B,Нигина =7B,") {
		t.Errorf("export-results of every class (%d lines):\n%s", n, all)
	}
}

// webResults signs in to a box on dataDir as the teacher and downloads a
// class's results CSV.
func webResults(t *testing.T, dataDir, classID string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := box.Open(ctx, box.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Lang: "en", Snapshots: box.SnapshotConfig{Every: -1}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		b.Close()
	}()
	base := "http://" + b.Addr().String()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {"aziza"}, "password": {"teacher pw 1234"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return httpGet(t, c, base+"/teach/classes/"+classID+"/results.csv", http.StatusOK)
}
