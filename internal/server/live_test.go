package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/live"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
)

// mustRunLiveServer is mustRunServer with live sessions running.
func mustRunLiveServer(tb testing.TB) *testBox {
	tb.Helper()
	return mustRunLiveServerWith(tb)
}

// mustRunLiveServerWith is mustRunLiveServer with more of the box's parts.
func mustRunLiveServerWith(tb testing.TB, opts ...server.Option) *testBox {
	tb.Helper()
	db, lib, _ := openParts(tb, false)
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sessions := live.NewSessions(db, logger)
	if err := sessions.Restore(context.Background()); err != nil {
		tb.Fatal(err)
	}
	srv := newServer(tb, server.Config{}, logger, db, lib, append(opts, server.WithLive(sessions))...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sessions.Run(ctx); close(done) }()
	ts := httptest.NewServer(srv)
	tb.Cleanup(func() {
		cancel()
		<-done
		ts.Close()
	})
	return &testBox{Server: ts, db: db, lib: lib, logs: logs}
}

// adhocForm is the teacher's form with three typed questions.
func adhocForm() url.Values {
	return url.Values{
		"title": {"Повторение"}, "source": {"adhoc"}, "timer": {"20"}, "points": {"1"}, "on_devices": {"1"},
		"q1_kind": {"choice"}, "q1_prompt": {"2+2?"}, "q1_choices": {"3\n*4\n5"},
		"q2_kind": {"numeric"}, "q2_prompt": {"g?"}, "q2_number": {"9.8"}, "q2_tolerance": {"0.1"}, "q2_unit": {"m/s²"},
		"q3_kind": {"text"}, "q3_prompt": {""}, // left empty: skipped
	}
}

// teacher returns a device signed in as a teacher (sessions need one).
func (b *testBox) teacher(t *testing.T, lang string) *device {
	t.Helper()
	name := "live-teacher-" + strings.ToLower(store.NewCode(6))
	if _, err := b.db.CreateUser(context.Background(), "", school.RoleTeacher, name, "", auth.Hash(password)); err != nil {
		t.Fatal(err)
	}
	d := b.device(t, lang)
	d.signIn(name, password)
	return d
}

// postLive posts the new-session form with the device's CSRF token.
func postLive(t *testing.T, teacher *device, form url.Values) response {
	t.Helper()
	f := url.Values{"csrf": {teacher.csrf("/live/new")}}
	for k, v := range form {
		f[k] = v
	}
	return teacher.postForm("/live/new", f)
}

// createLive makes a session as the teacher's device and returns its code.
func createLive(t *testing.T, teacher *device, form url.Values) string {
	t.Helper()
	r := postLive(t, teacher, form)
	wantStatus(t, r, http.StatusSeeOther)
	loc, _ := url.Parse(r.Header.Get("Location"))
	parts := strings.Split(strings.Trim(loc.Path, "/"), "/")
	if len(parts) != 3 || parts[2] != "control" || loc.Query().Get("k") == "" {
		t.Fatalf("after creating: redirected to %s, want /live/CODE/control?k=…", loc)
	}
	// Opening the control link keeps the secret in a cookie and drops it
	// from the address.
	r = teacher.get(loc.RequestURI())
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/live/"+parts[1]+"/control" {
		t.Errorf("control link redirects to %s", got)
	}
	return parts[1]
}

func TestLivePages(t *testing.T) {
	b := mustRunLiveServer(t)
	teacher := b.teacher(t, "en")
	form := adhocForm()
	code := createLive(t, teacher, form)

	r := teacher.get("/live/" + code + "/control")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "Повторение", code, `data-role="teacher"`, "/live/"+code+"/screen", "control?k=", `charset="utf-8"`)
	wantLacks(t, r, "<script>") // the CSP allows no inline script

	// Anyone else: no control page, no results.
	other := b.device(t, "en")
	wantStatus(t, other.get("/live/"+code+"/control"), http.StatusForbidden)
	wantStatus(t, other.get("/live/"+code+"/control?k=guess"), http.StatusForbidden)
	wantStatus(t, other.get("/live/"+code+"/results.csv"), http.StatusForbidden)

	// The projector needs nothing, and gets the code, the link and the QR.
	r = other.get("/live/" + code + "/screen")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, code, "/live/"+code+"/qr.svg", b.URL+"/live/"+code)
	r = other.get("/live/" + code + "/qr.svg")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "image/svg+xml" || !strings.HasPrefix(r.body, "<svg") || !strings.Contains(r.body, `d="M`) {
		t.Errorf("qr.svg: %s %.100s", ct, r.body)
	}

	// Students: the code page joins, a taken nickname is refused in their
	// language, and a joined device goes straight on.
	ali := b.device(t, "ru")
	r = ali.get("/live/" + strings.ToLower(code))
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "Повторение", `value="`+code+`"`)
	wantStatus(t, ali.get("/live/"+code+"/play"), http.StatusSeeOther) // not joined yet
	r = ali.postForm("/live/join", url.Values{"code": {strings.ToLower(code)}, "nickname": {"Ali"}})
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/live/"+code+"/play" {
		t.Fatalf("join redirects to %s", got)
	}
	r = ali.get("/live/" + code + "/play")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, `data-role="student"`, "Ali", `data-i18n="{`)
	if r := ali.get("/live/" + code); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the code page for a joined device: status %d, want a redirect to play", r.StatusCode)
	}
	bo := b.device(t, "ru")
	r = bo.postForm("/live/join", url.Values{"code": {code}, "nickname": {"ALI"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "Такое имя уже есть")
	r = bo.postForm("/live/join", url.Values{"code": {code}, "nickname": {""}, "suggest": {"1"}})
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, `name="nickname" value=""`) {
		t.Error("suggest did not fill in a nickname")
	}
	r = bo.postForm("/live/join", url.Values{"code": {"XXXXXX"}, "nickname": {"Bo"}})
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r, "Сессии с таким кодом нет")
	wantStatus(t, bo.get("/live/ZZZZZZ/screen"), http.StatusNotFound)

	// The websocket, through all the middleware, with the device's cookie.
	ws := dialLive(t, b, ali, code, "student")
	var st map[string]any
	if err := ws.ReadJSON(&st); err != nil || st["type"] != "state" || st["me"].(map[string]any)["nickname"] != "Ali" {
		t.Fatalf("first message %v (%v), want Ali's state", st, err)
	}
	tws := dialLive(t, b, teacher, code, "teacher")
	tws.ReadJSON(&st)
	tws.WriteJSON(map[string]any{"type": "start", "q": -1})
	for st["type"] != "question" {
		if err := ws.ReadJSON(&st); err != nil {
			t.Fatal(err)
		}
	}
	ws.WriteJSON(map[string]any{"type": "answer", "session": code, "q": 0, "id": "01JAAAAAAAAAAAAAAAAAAAA777", "choices": []int{1}})
	for st["type"] != "ack" {
		if err := ws.ReadJSON(&st); err != nil {
			t.Fatal(err)
		}
	}
	// A page of another site may not open the socket.
	h := http.Header{"Origin": {"http://evil.example"}}
	u := "ws" + strings.TrimPrefix(b.URL, "http") + "/live/" + code + "/ws?role=screen"
	if _, resp, err := websocket.DefaultDialer.Dial(u, h); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site websocket: %v, want 403", err)
	}

	// Results, as a page and as CSV.
	r = teacher.get("/live/" + code + "/results")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "Ali", "B 4", "results.csv")
	r = teacher.get("/live/" + code + "/results.csv")
	wantStatus(t, r, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv %q (%v), want a header and Ali's row", r.body, err)
	}
	if rows[1][0] != "Ali" || rows[1][2] != "B 4" || rows[1][3] != "1" || rows[1][len(rows[1])-2] != "1" {
		t.Errorf("Ali's row %q", rows[1])
	}
}

func dialLive(t *testing.T, b *testBox, d *device, code, role string) *websocket.Conn {
	t.Helper()
	u, _ := url.Parse(b.URL + "/live/" + code + "/ws?role=" + role)
	h := http.Header{"Origin": {b.URL}}
	for _, c := range d.client.Jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(u.String(), "http"), h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s as %s: %v (status %d)", code, role, err, status)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { ws.Close() })
	return ws
}

func TestLiveNewForm(t *testing.T) {
	b := mustRunLiveServer(t)
	teacher := b.teacher(t, "tg")
	r := teacher.get("/live/new")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, `value="mini/speed"`, `name="q1_kind"`, "Сессияро созед")
	// Each set by its own title, under its pack's: four sets of one pack
	// do not read the same on a narrow phone.
	wantContains(t, r, `<optgroup label="Мини-пакет"><option value="mini/speed">Скорость (5)</option><option value="mini/quiz">Викторина (2)</option></optgroup>`)

	// From an exercise set of the pack: its items, in the set's language.
	code := createLive(t, teacher, url.Values{"source": {"set"}, "set": {"mini/speed"}, "timer": {"0"}})
	r = teacher.get("/live/" + code + "/control")
	wantStatus(t, r, http.StatusOK)

	// A typed question that cannot be asked: the form again, in the
	// teacher's language, with what was typed kept.
	form := adhocForm()
	form.Set("q1_choices", "3\n4\n5") // no right choice marked
	r = postLive(t, teacher, form)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "Саволи 1", "маҳз як интихоби дуруст", "2&#43;2?", "Повторение")
	r = postLive(t, teacher, url.Values{"source": {"adhoc"}, "q1_kind": {"choice"}, "q1_prompt": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "Ақаллан як савол")
	r = postLive(t, teacher, url.Values{"source": {"set"}, "set": {"mini/nope"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
}

func TestLiveEndedSession(t *testing.T) {
	b := mustRunLiveServer(t)
	teacher := b.teacher(t, "en")
	code := createLive(t, teacher, adhocForm())
	tws := dialLive(t, b, teacher, code, "teacher")
	var st map[string]any
	tws.ReadJSON(&st)
	tws.WriteJSON(map[string]any{"type": "end"})
	for st["type"] != "ended" {
		if err := tws.ReadJSON(&st); err != nil {
			t.Fatal(err)
		}
	}
	student := b.device(t, "en")
	r := student.get("/live/" + code)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "This session has ended")
	r = student.postForm("/live/join", url.Values{"code": {code}, "nickname": {"Late"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "This session has ended")
	// The results stay the teacher's.
	r = teacher.get("/live/" + code + "/results.csv")
	wantStatus(t, r, http.StatusOK)
	if _, err := io.ReadAll(strings.NewReader(r.body)); err != nil {
		t.Fatal(err)
	}
}

// The join form limits joins by the address they come from: a burst from
// one client is cut to the limit with a message the student can read.
func TestLiveJoinFloodFromOneAddress(t *testing.T) {
	b := mustRunLiveServer(t)
	code := createLive(t, b.teacher(t, "en"), adhocForm())
	const n = 40
	devices := make([]*device, n)
	for i := range devices {
		devices[i] = b.device(t, "en")
	}
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := d.postForm("/live/join", url.Values{"code": {code}, "nickname": {fmt.Sprintf("Flood %d", i)}})
			statuses[i], bodies[i] = r.StatusCode, r.body
		}()
	}
	wg.Wait()
	joined, refused := 0, 0
	for i, s := range statuses {
		switch {
		case s == http.StatusSeeOther:
			joined++
		case s == http.StatusUnprocessableEntity && strings.Contains(bodies[i], "Too many joins"):
			refused++
		default:
			t.Errorf("join %d: status %d", i, s)
		}
	}
	if joined == 0 || joined >= n || joined+refused != n {
		t.Errorf("%d joins at once from one address: %d joined, %d refused; want the limit to cut them", n, joined, refused)
	}
}
