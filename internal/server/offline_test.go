package server_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/web"
)

// offlineStudent puts a student called name in a class of its own and
// returns a device signed in as them.
func offlineStudent(t *testing.T, box *testBox, name string) *device {
	t.Helper()
	ctx := t.Context()
	teacher, err := box.db.CreateUser(ctx, "", school.RoleTeacher, "t-"+strings.ToLower(name), "T", auth.Hash(password))
	if err != nil {
		t.Fatal(err)
	}
	class, err := box.db.CreateClass(ctx, "", "7A", 7, teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := box.db.AddStudents(ctx, "", class.ID, []school.NewStudent{{Name: name}})
	if err != nil {
		t.Fatal(err)
	}
	d := box.device(t, "en")
	r := d.postForm("/student/"+class.Code, url.Values{"student": {st[0].ID}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/me" {
		t.Fatalf("sign in as %s: %d %s", name, r.StatusCode, r.Header.Get("Location"))
	}
	return d
}

func TestServiceWorkerIsServedAtTheRoot(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	r := d.get("/sw.js")
	wantStatus(t, r, 200)
	if got := r.Header.Get("Service-Worker-Allowed"); got != "/" {
		t.Errorf("Service-Worker-Allowed = %q, want /", got)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache (browsers must look for a new worker)", got)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q, want JavaScript", ct)
	}
	first, _, _ := strings.Cut(r.body, "\n")
	if !strings.HasPrefix(first, "self.STEMBOX_SW = {") {
		t.Fatalf("the worker does not start with its configuration: %q", first)
	}
	var cfg struct {
		Version string
		Shell   []string
		Offline string
		Langs   []string
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(first, "self.STEMBOX_SW = "), ";")), &cfg); err != nil {
		t.Fatalf("configuration %q: %v", first, err)
	}
	if cfg.Version == "" || cfg.Offline != "/offline" || len(cfg.Langs) != 3 {
		t.Errorf("configuration = %+v", cfg)
	}
	for _, u := range cfg.Shell {
		if !strings.HasPrefix(u, "/static/"+cfg.Version+"/") {
			t.Errorf("shell file %s is not under the current static version %s", u, cfg.Version)
		}
		wantStatus(t, d.get(u), 200)
	}
	for _, want := range []string{"/offline.js", "/offline-queue.js", "/offline-sync.js", "/offline-exercise.js", "/offline-packs.js", "/app.css"} {
		if !strings.Contains(strings.Join(cfg.Shell, " "), want) {
			t.Errorf("shell %v lacks %s", cfg.Shell, want)
		}
	}
	// One script: after the configuration, sw.js and its parts in order,
	// inside one function (they share its scope and its "use strict").
	_, rest, _ := strings.Cut(r.body, "\n")
	checkES5(t, "/sw.js", r.body)
	if !strings.HasPrefix(rest, "(function () {\n/* stembox service worker") || !strings.HasSuffix(rest, "\n}());\n") {
		t.Errorf("the worker's parts are not inside one function: %.80q … %q", rest, rest[max(0, len(rest)-20):])
	}
	at := 0
	for _, part := range []string{"sw.js", "sw-packs.js", "sw-versions.js", "sw-messages.js", "sw-fetch.js"} {
		b, err := fs.ReadFile(web.Static, "static/"+part)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(rest[at:], string(b))
		if i < 0 {
			t.Errorf("/sw.js lacks %s (after byte %d)", part, at)
			continue
		}
		at += i + len(b)
	}
	// A browser revalidates the worker on every navigation: that costs a 304.
	etag := r.Header.Get("Etag")
	if again := d.get("/sw.js", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the worker: status %d, want 304", again.StatusCode)
	}
}

func TestPagesLoadTheOfflineScript(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "ru")
	for _, path := range []string{"/", "/packs/mini", "/packs/mini/lessons/speed", "/packs/mini/sets/speed", "/packs/mini/sets/speed/1", "/student"} {
		r := d.get(path)
		wantStatus(t, r, 200)
		// The offline script's parts, in the order they build on each other.
		if !regexp.MustCompile(`<script src="/static/[0-9a-f]+/offline\.js" defer></script>\s*` +
			`<script src="/static/[0-9a-f]+/offline-queue\.js" defer></script>\s*` +
			`<script src="/static/[0-9a-f]+/offline-sync\.js" defer></script>\s*` +
			`<script src="/static/[0-9a-f]+/offline-exercise\.js" defer></script>\s*` +
			`<script src="/static/[0-9a-f]+/offline-packs\.js" defer></script>`).MatchString(r.body) {
			t.Errorf("%s does not load offline.js and its parts, in order", path)
		}
		// The connection state, in the page's language, hidden until the
		// script knows it; no inline script (the CSP forbids it).
		wantContains(t, r, `id="offline-conn"`, `data-m="online">Есть связь с сервером.`, `data-m="waiting">Сохранено на этом устройстве — отправится, когда будет связь (ждут отправки: %d)`)
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(r.body) {
			t.Errorf("%s has an inline script", path)
		}
	}
	// The lesson has the place for "save for offline"; the question has the
	// strings its script shows, and still a plain form.
	wantContains(t, d.get("/packs/mini/lessons/speed"), `data-offline-save="mini"`)
	q := d.get("/packs/mini/sets/speed/1")
	wantContains(t, q, `<form class="exercise" method="post" action="/packs/mini/sets/speed/1"`, `data-m="saved_title">Сохранено на этом устройстве`,
		`data-m="partly">Частично верно: %d%%`)
}

func TestLearnerKeyIsOnlyInPagesMadeForAStudent(t *testing.T) {
	box := mustRunServer(t)
	guest := box.device(t, "en")
	for _, path := range []string{"/packs/mini/lessons/speed", "/packs/mini/sets/speed/1"} {
		wantContains(t, guest.get(path), `data-learner=""`)
	}
	st := offlineStudent(t, box, "Zarina")
	pages := map[string]bool{}
	for _, path := range []string{"/me", "/packs/mini/sets/speed/1", "/packs/mini/lessons/speed"} {
		r := st.get(path)
		wantStatus(t, r, 200)
		m := regexp.MustCompile(`data-learner="([0-9a-f]*)"`).FindStringSubmatch(r.body)
		if m == nil || len(m[1]) != 24 {
			t.Fatalf("%s: learner key %q, want 24 hex digits", path, m)
		}
		pages[m[1]] = true
		if strings.Contains(r.body, "student:") {
			t.Errorf("%s shows the student's id", path)
		}
	}
	if len(pages) != 1 {
		t.Errorf("a student's pages carry different keys: %v", pages)
	}
	// /offline/me says the same.
	r := st.get("/offline/me")
	wantStatus(t, r, 200)
	var me struct{ Learner string }
	json.Unmarshal([]byte(r.body), &me)
	if !pages[me.Learner] {
		t.Errorf("/offline/me = %q, the pages say %v", me.Learner, pages)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/offline/me Cache-Control %q, want no-store", cc)
	}
}

func TestOfflineMeGivesEachDeviceItsOwnKey(t *testing.T) {
	box := mustRunServer(t)
	keyOf := func(d *device) string {
		r := d.get("/offline/me")
		wantStatus(t, r, 200)
		var me struct{ Learner string }
		if err := json.Unmarshal([]byte(r.body), &me); err != nil {
			t.Fatal(err)
		}
		return me.Learner
	}
	a, b := box.device(t, "en"), box.device(t, "en")
	ka := keyOf(a)
	if ka == "" || ka != keyOf(a) {
		t.Errorf("a guest device's key is %q, then %q; want one lasting key", ka, keyOf(a))
	}
	if kb := keyOf(b); kb == ka {
		t.Errorf("two devices share the key %q", ka)
	}
	// The key of a guest is the key the answers it sends are stored under.
	r := a.postJSON("/api/v1/answers", `{"id":"01JDV9Z8M6Q0S4C9X3K7T2B5NA","pack":"mini","set":"speed","item":"num-4","text":"5"}`)
	wantStatus(t, r, 200)
	if k := keyOf(a); k != ka {
		t.Errorf("after answering, the key changed from %q to %q", ka, k)
	}
}

type offlineManifest struct {
	Pack, Name, Version, Lang, Title, Cache string
	TitleLang                               string `json:"title_lang"`
	Bytes                                   int64
	Lessons                                 []struct{ ID, URL, Title, Set string }
	Sets                                    []struct {
		ID, URL, Title string
		Items, Pages   []string
	}
	Pages, Files []string
	UI           map[string]string
}

func getManifest(t *testing.T, d *device) (offlineManifest, response) {
	t.Helper()
	r := d.get("/offline/packs/mini/manifest")
	wantStatus(t, r, 200)
	var m offlineManifest
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, r.body)
	}
	return m, r
}

func TestOfflineManifest(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	m, r := getManifest(t, d)
	p, _ := box.lib.Pack("mini")
	if m.Pack != "mini" || m.Name != p.Name || m.Version != "1.0.0" || m.Lang != "en" || m.Title != "Mini pack" {
		t.Errorf("manifest head = %+v", m)
	}
	if !strings.HasPrefix(m.Cache, "stembox-pack-mini@"+p.Name+"@en@") {
		t.Errorf("cache name %q does not name the pack version and language", m.Cache)
	}
	if len(m.Lessons) != 2 || m.Lessons[0].URL != "/packs/mini/lessons/speed" || m.Lessons[0].Set != "speed" || m.Lessons[0].Title != "Speed" {
		t.Errorf("lessons = %+v", m.Lessons)
	}
	var speed []string
	for _, s := range m.Sets {
		if s.ID == "speed" {
			speed = s.Items
			if len(s.Pages) != 6 || s.Pages[0] != "/packs/mini/sets/speed" || s.Pages[5] != "/packs/mini/sets/speed/5" {
				t.Errorf("pages of set speed = %v", s.Pages)
			}
		}
	}
	if strings.Join(speed, " ") != "choice-1 multi-2 tf-3 num-4 text-5" {
		t.Errorf("items of set speed = %v, want them in order", speed)
	}
	if len(m.Files) != 1 || m.Files[0] != "/files/mini/"+p.Name+"/media/graph.svg" {
		t.Errorf("files = %v", m.Files)
	}
	// Every page and file it lists is served, and the page as a visitor
	// without cookies gets it has no one's name in it.
	anon := box.device(t, "en")
	var real int64
	for _, u := range append(append([]string{}, m.Pages...), m.Files...) {
		got := anon.get(u)
		wantStatus(t, got, 200)
		real += int64(len(got.body))
		if strings.Contains(got.body, `name="csrf"`) {
			t.Errorf("%s as a visitor has a form token", u)
		}
	}
	// The size it announces is close to what a save stores.
	if m.Bytes < real*8/10 || m.Bytes > real*3/2 {
		t.Errorf("manifest says %d bytes; its pages and files are %d", m.Bytes, real)
	}
	t.Logf("manifest: %d pages, %d files, estimate %d bytes, real %d bytes, manifest itself %d bytes", len(m.Pages), len(m.Files), m.Bytes, real, len(r.body))
	for _, k := range []string{"save", "saving", "saved", "storage", "kb", "mb"} {
		if m.UI[k] == "" {
			t.Errorf("manifest lacks the string %q", k)
		}
	}
	// Revalidating costs a 304.
	if again := d.get("/offline/packs/mini/manifest", "If-None-Match", r.Header.Get("Etag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the manifest: status %d, want 304", again.StatusCode)
	}
	// Another language is another copy.
	ru, _ := getManifest(t, box.device(t, "ru"))
	if ru.Lang != "ru" || ru.Cache == m.Cache || ru.Title != "Мини-пакет" || ru.UI["save"] != "Сохранить на устройстве" {
		t.Errorf("Russian manifest = %s %s %s %q", ru.Lang, ru.Cache, ru.Title, ru.UI["save"])
	}
	// Tajik readers get the pack in Russian, and the strings in Tajik.
	tg, _ := getManifest(t, box.device(t, "tg"))
	if tg.Lang != "tg" || tg.TitleLang != "ru" || tg.Title != "Мини-пакет" || tg.UI["save"] != "Дар дастгоҳ захира кардан" {
		t.Errorf("Tajik manifest = %s, titles in %s: %s %q", tg.Lang, tg.TitleLang, tg.Title, tg.UI["save"])
	}
	if r := d.get("/offline/packs/nope/manifest"); r.StatusCode != 404 || !strings.Contains(r.body, `"code":"not_found"`) {
		t.Errorf("manifest of a pack not installed: %d %s", r.StatusCode, r.body)
	}
}

func TestOfflinePage(t *testing.T) {
	box := mustRunServer(t)
	st := offlineStudent(t, box, "Zarina")
	for lang, want := range map[string]string{"en": "Not on this device", "ru": "Этой страницы нет на устройстве", "tg": "Ин саҳифа дар дастгоҳ нест"} {
		r := st.get("/offline?lang=" + lang)
		wantStatus(t, r, 200)
		wantContains(t, r, `<html lang="`+lang+`">`, "<h1>"+want+"</h1>", `data-offline-list`, `data-learner=""`)
		// Made for nobody: the service worker keeps it on shared devices.
		wantLacks(t, r, "Zarina", `name="csrf"`)
		if cc := r.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("offline page Cache-Control %q", cc)
		}
	}
}
