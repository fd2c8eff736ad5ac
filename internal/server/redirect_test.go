package server_test

import (
	"net/url"
	"testing"
)

// offSite are next values an attacker puts in a link to the box; each one,
// followed by a browser, would leave the box if it came back in Location.
var offSite = []string{
	"//evil.example/",
	"https://evil.example/",
	"https:evil.example",
	"/\\evil.example",
	"/\t/evil.example/",
	"/\r\n/evil.example",
	"/%09/evil.example/",
	"/%5Cevil.example",
	"/%2F/evil.example",
}

// TestRedirectsStayOnTheBox sends the hostile next values, encoded as a
// link carries them, to the language switch and to a real sign-in.
func TestRedirectsStayOnTheBox(t *testing.T) {
	s := mustSchool(t)
	d := s.device(t, "en")
	for _, next := range offSite {
		r := d.get("/lang/en?next=" + url.QueryEscape(next))
		wantStatus(t, r, 303)
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("/lang/en?next=%q redirects to %q, want /", next, loc)
		}
		r = d.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}, "next": {next}})
		wantStatus(t, r, 303)
		if loc := r.Header.Get("Location"); loc != "/teach" {
			t.Errorf("sign-in with next=%q redirects to %q, want /teach", next, loc)
		}
	}
	if loc := d.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}, "next": {"/teach/classes"}}).Header.Get("Location"); loc != "/teach/classes" {
		t.Errorf("sign-in with a path on the box redirects to %q, want it kept", loc)
	}
}
