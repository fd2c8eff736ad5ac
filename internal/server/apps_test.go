package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
)

// bigAppSize is the size of the single-file app of the tests: a PhET sim.
const bigAppSize = 5 << 20

// runAppBox serves a box with the mini pack carrying the 5 MB single-file
// app "big", embedded in the lesson "speed".
func runAppBox(t *testing.T) *testBox {
	t.Helper()
	src, _ := contenttest.BigAppSource(t, bigAppSize)
	s := contenttest.Signer(t)
	archive := contenttest.Build(t, src, s)
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "box.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lib, err := content.OpenLibrary(filepath.Join(dir, "packs"), content.NewKeyring(s.Public()), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err != nil {
		t.Fatalf("install a pack with a 5 MB app: %v", err)
	}
	logs := &logtest.Buffer{}
	ts := httptest.NewServer(newServer(t, server.Config{}, slog.New(slog.NewTextHandler(logs, nil)), db, lib))
	t.Cleanup(ts.Close)
	return &testBox{Server: ts, db: db, lib: lib, logs: logs}
}

// TestAppFiles serves a 5 MB single-file app: in its sandbox, with
// ranges and ETags, and embedded in its lesson.
func TestAppFiles(t *testing.T) {
	b := runAppBox(t)
	p, _ := b.lib.Pack("mini")
	entry := "/files/mini/" + p.Name + "/apps/big.html"
	d := b.device(t, "en")

	lesson := d.get("/packs/mini/lessons/speed")
	if want := `<iframe src="` + entry + `#lang=en" sandbox="allow-scripts" title="App big" data-app="big">`; !strings.Contains(lesson.body, want) {
		t.Errorf("the lesson does not embed the app as %s:\n%s", want, lesson.body)
	}
	if !strings.Contains(lesson.body, `href="/packs/mini/apps/big"`) {
		t.Error("the lesson does not link the app's full-screen page")
	}
	if pack := d.get("/packs/mini"); !strings.Contains(pack.body, `<a href="/packs/mini/apps/big" lang="en">App big</a>`) {
		t.Errorf("the pack page does not list the app:\n%s", pack.body)
	}
	if page := d.get("/packs/mini/apps/big"); page.StatusCode != 200 || !strings.Contains(page.body, `sandbox="allow-scripts"`) {
		t.Errorf("the app's page: %d\n%s", page.StatusCode, page.body)
	}
	if nope := d.get("/packs/mini/apps/nothing"); nope.StatusCode != 404 {
		t.Errorf("an app the pack lacks: %d", nope.StatusCode)
	}

	full := d.get(entry)
	if full.StatusCode != 200 || len(full.body) < bigAppSize-300 {
		t.Fatalf("GET the app: %d, %d bytes", full.StatusCode, len(full.body))
	}
	csp := full.Header.Get("Content-Security-Policy")
	base := b.URL + "/files/mini/" + p.Name + "/apps/big.html"
	for _, want := range []string{"sandbox allow-scripts;", "default-src 'none'", "connect-src " + base + ";", "form-action 'none'", "frame-ancestors 'self'", "script-src " + base + " 'unsafe-inline'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("the app's policy %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"allow-same-origin", "allow-top-navigation", "allow-popups", "allow-forms", "'self';"} {
		if strings.Contains(strings.TrimSuffix(csp, "frame-ancestors 'self'"), bad) {
			t.Errorf("the app's policy %q holds %q", csp, bad)
		}
	}
	if got := full.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want * (the app's opaque origin reads its own files)", got)
	}
	etag := full.Header.Get("Etag")
	if etag == "" || !strings.Contains(full.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("ETag %q, Cache-Control %q", etag, full.Header.Get("Cache-Control"))
	}

	req, _ := http.NewRequest("GET", b.URL+entry, nil)
	req.Header.Set("Range", "bytes=1000000-1000099")
	part := d.do(req)
	if part.StatusCode != http.StatusPartialContent || part.body != full.body[1000000:1000100] {
		t.Errorf("a range of the app: %d, %q", part.StatusCode, part.body)
	}
	if !strings.Contains(part.Header.Get("Content-Security-Policy"), "sandbox allow-scripts") {
		t.Error("a range of the app is served without its sandbox")
	}
	req, _ = http.NewRequest("GET", b.URL+entry, nil)
	req.Header.Set("If-None-Match", etag)
	if again := d.do(req); again.StatusCode != http.StatusNotModified {
		t.Errorf("a revalidation of the app: %d, want 304", again.StatusCode)
	}
	// Other pack files keep the box's own policy; no other file of the
	// pack is an app's.
	for _, u := range []string{"/files/mini/" + p.Name + "/media/graph.svg"} {
		if r := d.get(u); strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s is served with %q", u, r.Header.Get("Content-Security-Policy"))
		}
	}
}

// TestAPIAppResult records an app's result once per id, and refuses one
// outside the contract or of an app the pack lacks.
func TestAPIAppResult(t *testing.T) {
	b := runAppBox(t)
	d := b.device(t, "en")
	d.get("/packs/mini") // a guest id
	id := b.db.NewID()
	post := func(body string) response {
		req, _ := http.NewRequest("POST", b.URL+"/api/v1/app-results", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return d.do(req)
	}
	ok := `{"id":"` + id + `","pack":"mini","app":"big","completed":true,"score":2,"max":3,"summary":"two of three"}`
	for try := 0; try < 2; try++ {
		if r := post(ok); r.StatusCode != 200 {
			t.Fatalf("post a result: %d %s", r.StatusCode, r.body)
		}
	}
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"id":"` + b.db.NewID() + `","pack":"mini","app":"big","score":4,"max":3}`, 400},
		{`{"id":"` + b.db.NewID() + `","pack":"mini","app":"nothing","score":1,"max":3}`, 404},
		{`{"id":"nope","pack":"mini","app":"big"}`, 400},
		{`{"id":"` + b.db.NewID() + `","pack":"mini","app":"big","extra":1}`, 400},
		{`{"id":"` + b.db.NewID() + `","pack":"mini","app":"big","summary":"` + strings.Repeat("x", 5000) + `"}`, 413},
	} {
		if r := post(c.body); r.StatusCode != c.want {
			t.Errorf("post %.80s: %d %s, want %d", c.body, r.StatusCode, r.body, c.want)
		}
	}
	evs, _ := b.db.EventsAfter(context.Background(), 0, 100)
	var got []event.AppResult
	for _, ev := range evs {
		if ev.Kind == event.KindAppResult {
			var a event.AppResult
			json.Unmarshal(ev.Payload, &a)
			got = append(got, a)
		}
	}
	if len(got) != 1 || got[0].Score != 2 || got[0].PackVersion != "1.0.0" || got[0].Lang != "en" {
		t.Errorf("the box holds the results %+v, want the one sent twice", got)
	}
	_ = io.Discard
}

// TestAssignApp: a teacher assigns an app from the class page; the heatmap
// gets its column, which shows a student's best result.
func TestAssignApp(t *testing.T) {
	b := runAppBox(t)
	ctx := context.Background()
	teacher := b.teacher(t, "en")
	users, err := b.db.Users(ctx, school.RoleTeacher)
	if err != nil {
		t.Fatal(err)
	}
	class, err := b.db.CreateClass(ctx, "", "7A", 7, users[len(users)-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	classURL := "/teach/classes/" + class.ID
	page := teacher.get(classURL)
	if !strings.Contains(page.body, `<option value="mini|app|big">Simulation: App big</option>`) {
		t.Fatalf("the class page offers no app to assign:\n%s", page.body)
	}
	r := teacher.postForm(classURL+"/assign", url.Values{"csrf": {teacher.csrf(classURL)}, "what": {"mini|app|big"}})
	wantStatus(t, r, http.StatusSeeOther)
	students, err := b.db.AddStudents(ctx, "", class.ID, []school.NewStudent{{Name: "Nigina"}, {Name: "Sino"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []event.AppResult{
		{Learner: students[0].LearnerID(), Pack: "mini", App: "big", Completed: true, Score: 3, Max: 3},
		{Learner: students[1].LearnerID(), Pack: "mini", App: "big", Completed: false, Score: 1, Max: 4},
	} {
		if _, err := b.db.RecordAppResult(ctx, res); err != nil {
			t.Fatal(err)
		}
	}
	heat := teacher.get(classURL + "/progress")
	for _, want := range []string{"Simulation: App big", `<td class="cell mastered" title="mastered"><span class="ic" aria-hidden="true">✓</span> 100%`, `<td class="cell started" title="started"><span class="ic" aria-hidden="true">◐</span> 25%`} {
		if !strings.Contains(heat.body, want) {
			t.Errorf("the heatmap lacks %s:\n%s", want, heat.body)
		}
	}
}
