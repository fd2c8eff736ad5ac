package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// TestDevicesTellTheTime: requests carrying X-Device-Time feed the box's
// time keeping, one vote per device address, a signed-in teacher's
// weighing more; malformed or absurd times are ignored; GET /api/v1/time
// says what the box now knows.
func TestDevicesTellTheTime(t *testing.T) {
	ctx := context.Background()
	_, lib, dir := openParts(t, false)
	clk := clock.NewSim("boot-1", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
	db, err := store.Open(ctx, filepath.Join(dir, "clock.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	keeper, err := timekeeper.Open(ctx, clk, db, quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, server.Config{}, nil, db, lib, server.WithTime(keeper))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if _, err := db.CreateUser(ctx, "", school.RoleTeacher, "aziza", "Aziza", auth.Hash(password)); err != nil {
		t.Fatal(err)
	}
	teacher := (&testBox{Server: ts, db: db, lib: lib}).device(t, "en")
	teacher.signIn("aziza", password)
	u, _ := url.Parse(ts.URL)
	cookies := teacher.client.Jar.Cookies(u)

	truth := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	ask := func(addr string, header []string, signedIn bool) map[string]any {
		t.Helper()
		req := httptest.NewRequest("GET", "/api/v1/time", nil)
		req.RemoteAddr = addr + ":40000"
		for _, h := range header {
			req.Header.Add(server.DeviceTimeHeader, h)
		}
		if signedIn {
			for _, c := range cookies {
				req.AddCookie(c)
			}
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /api/v1/time: %d %s", rec.Code, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(truth.Add(d).UnixMilli(), 10) }
	source := func(out map[string]any) string { s, _ := out["source"].(string); return s }

	if out := ask("10.0.0.1", nil, false); source(out) != "box-clock" || int64(out["true_ms"].(float64)) != clk.Now().Wall.UnixMilli() {
		t.Fatalf("before any device: %v", out)
	}
	// Ignored: not a number, two values, 1970, negative.
	for i, h := range [][]string{{"soon"}, {ms(0), ms(0)}, {"1000"}, {"-5"}, {""}} {
		ask("10.0.1."+strconv.Itoa(i), h, false)
	}
	// One device asking three times is one vote.
	for i := 0; i < 3; i++ {
		ask("10.0.0.2", []string{ms(0)}, false)
	}
	ask("10.0.0.3", []string{ms(0)}, false)
	if out := ask("10.0.0.3", nil, false); source(out) != "box-clock" {
		t.Fatalf("malformed times, or one device several times, set the time: %v", out)
	}
	ask("10.0.0.4", []string{ms(0)}, false)
	ask("10.0.0.5", []string{ms(20 * time.Second)}, false)
	out := ask("10.0.0.9", nil, false)
	if got := time.UnixMilli(int64(out["true_ms"].(float64))); source(out) != "devices" || got.Sub(truth).Abs() > time.Second {
		t.Fatalf("three devices agree, one is 20 s ahead: %v, want %s by the devices", out, truth)
	}
	// The teacher's laptop, 20 s ahead too, tips the weight: 3 against 1+3.
	ask("10.0.0.6", []string{ms(20 * time.Second)}, true)
	out = ask("10.0.0.9", nil, false)
	if got := time.UnixMilli(int64(out["true_ms"].(float64))); got.Sub(truth.Add(20*time.Second)).Abs() > time.Second {
		t.Errorf("after the teacher's device: %s, want %s (a teacher weighs %d)", got, truth.Add(20*time.Second), timekeeper.TeacherWeight)
	}
	if d := int64(out["drift_ms"].(float64)); time.Duration(d)*time.Millisecond < 7*365*24*time.Hour {
		t.Errorf("drift %d ms, want the years between 2019 and 2026", d)
	}
	// The admin's status page says so.
	if _, err := db.CreateUser(ctx, "", school.RoleAdmin, "root", "Root", auth.Hash(password)); err != nil {
		t.Fatal(err)
	}
	admin := (&testBox{Server: ts, db: db, lib: lib}).device(t, "en")
	admin.signIn("root", password)
	page := admin.get("/admin/status")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, "2026-12-04 09:00", "from the class&#39;s devices", "The box&#39;s own clock", "behind")
}

// TestKeptAnswerIsDatedWhenGiven: an answer a device kept while the box was
// away carries X-Answer-Age; the box dates it that much earlier, never
// before its boot began; a malformed age is ignored.
func TestKeptAnswerIsDatedWhenGiven(t *testing.T) {
	ctx := context.Background()
	_, lib, dir := openParts(t, false)
	clk := clock.NewSim("boot-1", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
	db, err := store.Open(ctx, filepath.Join(dir, "clock.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := httptest.NewServer(newServer(t, server.Config{}, nil, db, lib))
	defer ts.Close()
	d := (&testBox{Server: ts, db: db, lib: lib}).device(t, "en")
	clk.Advance(time.Hour)
	for _, c := range []struct {
		age  string
		want time.Duration // the event's time since boot
	}{
		{"600000", 50 * time.Minute},
		{"", time.Hour},
		{"-5", time.Hour},
		{"soon", time.Hour},
		{"7200000", 0}, // given before this boot began: at its start
	} {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/answers", strings.NewReader(`{"pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`))
		req.Header.Set("Content-Type", "application/json")
		if c.age != "" {
			req.Header.Set(server.AnswerAgeHeader, c.age)
		}
		r := d.do(req)
		wantStatus(t, r, http.StatusOK)
		var v struct{ ID string }
		json.Unmarshal([]byte(r.body), &v)
		ev, err := db.Event(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Uptime != c.want || !ev.Wall.Equal(clk.Now().Wall.Add(c.want-time.Hour)) {
			t.Errorf("X-Answer-Age %q: the event is at %s since boot (wall %s), want %s", c.age, ev.Uptime, ev.Wall, c.want)
		}
	}
}
