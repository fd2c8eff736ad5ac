package hub_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
)

// offSite are next values an attacker puts in a link to the hub; each one,
// followed by a browser, would leave the hub if it came back in Location.
var offSite = []string{
	"//evil.example/",
	"https:evil.example",
	"/\\evil.example",
	"/\t/evil.example/",
	"/%09/evil.example/",
	"/%5Cevil.example",
	"/%2F/evil.example",
	"/\r\n/evil.example",
}

// TestRedirectsStayOnTheHub sends the hostile next values to the hub's
// language switch and to a real operator sign-in.
func TestRedirectsStayOnTheHub(t *testing.T) {
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	jar, _ := cookiejar.New(nil)
	b := &client{t: t, base: h.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	const formType = "application/x-www-form-urlencoded"
	for _, next := range offSite {
		code, _, hdr := b.do("GET", "/lang/en?next="+url.QueryEscape(next), "", nil)
		if code != http.StatusSeeOther || hdr.Get("Location") != "/" {
			t.Errorf("/lang/en?next=%q: %d to %q, want 303 to /", next, code, hdr.Get("Location"))
		}
		code, _, hdr = b.do("POST", "/login", formType, []byte(url.Values{"token": {h.Operator}, "next": {next}}.Encode()))
		if code != http.StatusSeeOther || hdr.Get("Location") != "/" {
			t.Errorf("sign-in with next=%q: %d to %q, want 303 to /", next, code, hdr.Get("Location"))
		}
	}
	code, _, hdr := b.do("POST", "/login", formType, []byte(url.Values{"token": {h.Operator}, "next": {"/reports?by=grade"}}.Encode()))
	if code != http.StatusSeeOther || hdr.Get("Location") != "/reports?by=grade" {
		t.Errorf("sign-in with a path on the hub: %d to %q, want it kept", code, hdr.Get("Location"))
	}
}
