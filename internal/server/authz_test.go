package server_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/studio"
)

// Roles of the authorization matrix.
const (
	anon     = "anonymous"
	student  = "student"
	otherT   = "teacher of another class"
	teacherR = "teacher"
	adminR   = "admin"
)

var allRoles = []string{anon, student, otherT, teacherR, adminR}

type route struct {
	pattern string // as registered, to check that every route is covered
	method  string
	path    string
	form    url.Values
	allowed []string
}

// TestAuthorizationMatrix walks every route with every role and checks who
// may use it. A route that this table does not list fails the test, so a new
// route needs a decision here.
func TestAuthorizationMatrix(t *testing.T) {
	s := mustSchool(t)
	c := "/teach/classes/" + s.classA.ID
	sid := s.studentsA[0].ID
	everyone := allRoles
	users := []string{otherT, teacherR, adminR}
	classTeachers := []string{teacherR, adminR}
	admins := []string{adminR}
	// The password-reset route signs its target out; aim it at someone the
	// matrix does not use.
	spare, err := s.db.CreateUser(t.Context(), "", "teacher", "spare", "", "x")
	if err != nil {
		t.Fatal(err)
	}
	trustKey := contenttest.Signer(t).Public().String()
	assignment := func() string {
		as, _ := s.db.Assignments(t.Context(), s.classA.ID)
		return as[0].ID
	}
	draft, err := s.db.CreateDraft(t.Context(), s.teacherA.ID, studio.KindSet, studio.Doc{Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	dp := "/teach/studio/" + draft.ID
	ownerAdmin := []string{teacherR, adminR} // her unpublished draft: hers, and an admin's to see
	routes := []route{
		{"GET /{$}", "GET", "/", nil, everyone},
		{"GET /packs/{pack}", "GET", "/packs/mini", nil, everyone},
		{"GET /packs/{pack}/lessons/{lesson}", "GET", "/packs/mini/lessons/speed", nil, everyone},
		{"POST /packs/{pack}/lessons/{lesson}/done", "POST", "/packs/mini/lessons/speed/done", url.Values{}, everyone},
		{"GET /packs/{pack}/sets/{set}", "GET", "/packs/mini/sets/speed", nil, everyone},
		{"GET /packs/{pack}/sets/{set}/{n}", "GET", "/packs/mini/sets/speed/1", nil, everyone},
		{"POST /packs/{pack}/sets/{set}/{n}", "POST", "/packs/mini/sets/speed/1", url.Values{"choice": {"0"}}, everyone},
		{"GET /files/{pack}/{name}/{path...}", "GET", "", nil, everyone},
		{"GET /static/{hash}/{path...}", "GET", "/static/x/app.css", nil, everyone},
		{"GET /lang/{lang}", "GET", "/lang/ru", nil, everyone},
		{"GET /api/v1/packs", "GET", "/api/v1/packs", nil, everyone},
		{"GET /api/v1/time", "GET", "/api/v1/time", nil, everyone},
		{"POST /api/v1/answers", "POST", "", nil, everyone},
		{"GET /packs/{pack}/apps/{app}", "GET", "", nil, everyone},
		{"POST /api/v1/app-results", "POST", "", nil, everyone},
		{"GET /healthz", "GET", "/healthz", nil, everyone},
		{"GET /readyz", "GET", "/readyz", nil, everyone},
		{"GET /metrics", "GET", "/metrics", nil, everyone}, // tests come from loopback
		{"GET /admin/status", "GET", "/admin/status", nil, admins},
		{"GET /login", "GET", "/login", nil, everyone},
		{"POST /login", "POST", "", nil, everyone},
		{"POST /logout", "POST", "/logout", url.Values{}, everyone},
		{"GET /setup", "GET", "", nil, nil},
		{"POST /setup", "POST", "", nil, nil},
		{"GET /me", "GET", "/me", nil, everyone},
		{"GET /student", "GET", "/student", nil, everyone},
		{"GET /student/{code}", "GET", "/student/" + s.classA.Code, nil, everyone},
		{"POST /student/{code}", "POST", "", nil, everyone},
		{"GET /teach", "GET", "/teach", nil, users},
		{"POST /teach/classes", "POST", "/teach/classes", url.Values{"name": {"new"}, "grade": {"8"}}, users},
		{"GET /teach/classes/{class}", "GET", c, nil, classTeachers},
		{"POST /teach/classes/{class}/settings", "POST", c + "/settings", url.Values{"sign_in": {"name"}, "mastery": {"last:4/5"}}, classTeachers},
		{"POST /teach/classes/{class}/students", "POST", c + "/students", url.Values{"name": {"X"}}, classTeachers},
		{"POST /teach/classes/{class}/roster", "POST", c + "/roster", url.Values{"csv": {"name\nY"}}, classTeachers},
		{"GET /teach/classes/{class}/roster.csv", "GET", c + "/roster.csv", nil, classTeachers},
		{"POST /teach/classes/{class}/assign", "POST", c + "/assign", url.Values{"what": {"mini|lesson|speed"}}, classTeachers},
		{"POST /teach/classes/{class}/unassign", "POST", c + "/unassign", url.Values{"assignment": {"@"}}, classTeachers},
		{"POST /teach/classes/{class}/students/{student}/secret", "POST", c + "/students/" + sid + "/secret", url.Values{}, classTeachers},
		{"POST /teach/classes/{class}/students/{student}/unlock", "POST", c + "/students/" + sid + "/unlock", url.Values{}, classTeachers},
		{"GET /teach/classes/{class}/progress", "GET", c + "/progress", nil, classTeachers},
		{"GET /teach/classes/{class}/sets/{pack}/{set}", "GET", c + "/sets/mini/speed", nil, classTeachers},
		{"GET /teach/classes/{class}/students/{student}", "GET", c + "/students/" + sid, nil, classTeachers},
		{"GET /teach/classes/{class}/report", "GET", c + "/report", nil, classTeachers},
		{"GET /teach/classes/{class}/results.csv", "GET", c + "/results.csv", nil, classTeachers},
		{"GET /teach/classes/{class}/cards", "GET", c + "/cards", nil, classTeachers},
		{"POST /teach/classes/{class}/cards", "POST", c + "/cards", url.Values{"who": {"missing"}}, classTeachers},
		{"GET /admin", "GET", "/admin", nil, admins},
		{"POST /admin/teachers", "POST", "/admin/teachers", url.Values{"username": {"new-teacher"}, "password": {password}}, admins},
		{"POST /admin/teachers/{user}/password", "POST", "/admin/teachers/" + spare.ID + "/password", url.Values{"password": {password}}, admins},
		// Connecting devices and copying packs between boxes (connect.go,
		// peer.go); tested in connect_test.go and over a real network.
		{"GET /connect", "GET", "/connect", nil, everyone},
		{"GET /api/v1/peers", "GET", "/api/v1/peers", nil, everyone},
		{"GET /api/v1/packs/{pack}/archive", "GET", "", nil, everyone},
		{"GET /admin/peers", "GET", "/admin/peers", nil, admins},
		// Installing a pack from a file (packupload.go): the upload is
		// multipart, tested in packupload_test.go.
		{"GET /admin/packs", "GET", "/admin/packs", nil, admins},
		{"POST /admin/packs", "POST", "", nil, admins},
		// The studio's formula preview (studio_preview.go).
		{"POST /teach/studio/preview", "POST", "/teach/studio/preview", url.Values{"text": {"$x$"}}, users},
		// Upstream sync (sync.go); tested in sync_test.go with a fake syncer
		// (here there is none: admins get 503).
		{"GET /admin/sync", "GET", "/admin/sync", nil, admins},
		{"POST /admin/sync", "POST", "/admin/sync", url.Values{}, admins},
		{"POST /admin/sync/enroll", "POST", "/admin/sync/enroll", url.Values{"hub": {"http://192.0.2.1"}, "token": {"x"}}, admins},
		{"POST /admin/peers/fetch", "POST", "", nil, admins},
		// Trusting another box's key (peertrust.go); tested with two real
		// boxes in internal/box (share_test.go).
		{"GET /api/v1/box-key", "GET", "", nil, everyone},
		{"GET /admin/peers/trust", "GET", "", nil, admins},
		{"POST /admin/peers/trust", "POST", "/admin/peers/trust", url.Values{"key": {trustKey}, "box": {"b"}, "name": {"n"}}, admins},
		{"POST /admin/peers/untrust", "POST", "", nil, admins},
		// Working offline (offline.go); tested in offline_test.go and in a browser.
		{"GET /sw.js", "GET", "/sw.js", nil, everyone},
		{"GET /offline", "GET", "/offline", nil, everyone},
		{"GET /offline/me", "GET", "/offline/me", nil, everyone},
		{"GET /offline/packs/{pack}/manifest", "GET", "/offline/packs/mini/manifest", nil, everyone},
		// Live sessions (live.go): what counts is the session's secrets (the
		// control link, the player's cookie), not the account; tested in
		// live_test.go and in a browser (internal/box).
		{"GET /live", "GET", "", nil, everyone},
		{"POST /live/join", "POST", "", nil, everyone},
		{"GET /live/new", "GET", "/live/new", nil, users},
		{"POST /live/new", "POST", "/live/new", url.Values{"source": {"set"}, "set": {"mini/speed"}}, users},
		{"GET /live/{code}", "GET", "", nil, everyone},
		{"GET /live/{code}/play", "GET", "", nil, everyone},
		{"GET /live/{code}/screen", "GET", "", nil, everyone},
		{"GET /live/{code}/control", "GET", "", nil, everyone},
		{"GET /live/{code}/qr.svg", "GET", "", nil, everyone},
		{"GET /live/{code}/results", "GET", "", nil, everyone},
		{"GET /live/{code}/results.csv", "GET", "", nil, everyone},
		{"GET /live/{code}/ws", "GET", "", nil, everyone},
		// The teacher studio (studio*.go): changing a draft is its owner's
		// alone, checked with real sessions in studio_test.go.
		{"GET /teach/studio", "GET", "/teach/studio", nil, users},
		{"POST /teach/studio/preview", "POST", "/teach/studio/preview", url.Values{"text": {"$x^2$"}, "lang": {"en"}}, users},
		{"POST /teach/studio/new", "POST", "/teach/studio/new", url.Values{"kind": {"set"}}, users},
		{"POST /teach/studio/import", "POST", "/teach/studio/import", url.Values{"text": {"::q:: 1+1? {=2 ~3}"}, "lang": {"en"}}, users},
		{"POST /teach/studio/remix", "POST", "", nil, users},
		{"GET /teach/studio/media/{name}", "GET", "", nil, users},
		{"GET /teach/studio/{id}", "GET", dp, nil, ownerAdmin},
		{"GET /teach/studio/preview/{id}", "GET", "/teach/studio/preview/" + draft.ID, nil, ownerAdmin},
		{"POST /teach/studio/{id}/copy", "POST", dp + "/copy", url.Values{}, ownerAdmin},
		{"POST /teach/studio/{id}", "POST", "", nil, []string{teacherR}},
		{"POST /teach/studio/{id}/save", "POST", "", nil, []string{teacherR}},
		{"POST /teach/studio/{id}/undo", "POST", "", nil, []string{teacherR}},
		{"POST /teach/studio/{id}/publish", "POST", "", nil, []string{teacherR}},
		{"POST /teach/studio/{id}/media", "POST", "", nil, []string{teacherR}},
		{"POST /teach/studio/{id}/delete", "POST", "", nil, []string{teacherR}},
	}
	checkEveryRouteListed(t, routes)

	signedIn := func(role string) *device {
		d := s.device(t, "en")
		switch role {
		case student:
			d.postForm("/student/"+s.classA.Code, url.Values{"student": {sid}})
		case otherT:
			d.signIn("bakhtiyor", password)
		case teacherR:
			d.signIn("aziza", password)
		case adminR:
			d.signIn("admin", password)
		}
		return d
	}
	devices := map[string]*device{}
	for _, role := range allRoles {
		devices[role] = signedIn(role)
	}
	home := map[string]string{student: "/me", otherT: "/teach", teacherR: "/teach", adminR: "/teach"}
	csrf := map[string]string{}
	for role, d := range devices {
		if role != anon {
			csrf[role] = d.csrf(home[role])
		}
	}
	for _, rt := range routes {
		if rt.path == "" {
			continue // covered by their own tests (sign-in forms, JSON, files)
		}
		for _, role := range allRoles {
			d := devices[role]
			var r response
			if rt.method == "GET" {
				r = d.get(rt.path)
			} else {
				form := url.Values{}
				for k, v := range rt.form {
					form[k] = v
				}
				if form.Get("assignment") == "@" {
					form.Set("assignment", assignment())
				}
				form.Set("csrf", csrf[role])
				r = d.postForm(rt.path, form)
				if rt.path == "/logout" && role != anon { // sign back in for the next routes
					*d = *signedIn(role)
					csrf[role] = d.csrf(home[role])
				}
			}
			allowed := contains(rt.allowed, role)
			if got := granted(r); got != allowed {
				t.Errorf("%s %s as %s: status %d (Location %q): allowed = %v, want %v", rt.method, rt.path, role, r.StatusCode, r.Header.Get("Location"), got, allowed)
			}
		}
	}
}

// granted tells an allowed answer from a refusal: a refusal is 401, 403,
// 404, or a redirect to sign in. A 503 passed the checks (the test server
// runs without live sessions).
func granted(r response) bool {
	switch r.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return false
	case http.StatusSeeOther, http.StatusFound:
		return !strings.HasPrefix(r.Header.Get("Location"), "/login")
	}
	return r.StatusCode < 400 || r.StatusCode == http.StatusUnprocessableEntity || r.StatusCode == http.StatusServiceUnavailable
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkEveryRouteListed reads the patterns registered in this package's
// source and fails for any the matrix lacks.
func checkEveryRouteListed(t *testing.T, routes []route) {
	t.Helper()
	listed := map[string]bool{}
	for _, rt := range routes {
		listed[rt.pattern] = true
	}
	var missing []string
	for _, p := range routePatterns(t) {
		if strings.Contains(p, " ") && !listed[p] { // "/", the catch-all, answers 404 to all
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes missing from the authorization matrix:\n%s", strings.Join(missing, "\n"))
	}
}
