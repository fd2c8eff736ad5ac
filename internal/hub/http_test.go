package hub_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

type client struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

func (c *client) do(method, path, ctype string, body []byte, hdr ...string) (int, []byte, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	hc := c.http
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (c *client) events(b wire.Batch) (int, []byte) {
	c.t.Helper()
	data, err := wire.Marshal(b)
	if err != nil {
		c.t.Fatal(err)
	}
	code, body, _ := c.do("POST", wire.PathEvents, wire.MediaType, data, "Content-Encoding", "gzip")
	return code, body
}

// schoolOverHTTP makes a school with the operator's token and returns its
// enrollment token.
func schoolOverHTTP(t *testing.T, h *hubtest.Hub, school string) string {
	t.Helper()
	op := &client{t: t, base: h.URL, token: h.Operator}
	code, body, _ := op.do("POST", "/api/v1/schools", "application/json", []byte(`{"name":"`+school+`","region":"Sughd"}`))
	if code != 200 {
		t.Fatalf("create school: %d %s", code, body)
	}
	var tok map[string]string
	json.Unmarshal(body, &tok)
	return tok["token"]
}

// enrollOverHTTP makes a school with the operator's token and enrolls box.
func enrollOverHTTP(t *testing.T, h *hubtest.Hub, school, box string) (*client, wire.EnrollResponse) {
	t.Helper()
	anon := &client{t: t, base: h.URL}
	req, _ := json.Marshal(wire.EnrollRequest{Token: schoolOverHTTP(t, h, school), BoxID: box, Name: "test"})
	code, body, _ := anon.do("POST", wire.PathEnroll, "application/json", req)
	if code != 200 {
		t.Fatalf("enroll: %d %s", code, body)
	}
	var resp wire.EnrollResponse
	json.Unmarshal(body, &resp)
	return &client{t: t, base: h.URL, token: resp.Credential}, resp
}

func eachHub(t *testing.T, cfg hub.Config, f func(t *testing.T, h *hubtest.Hub)) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f(t, hubtest.Start(t, t.TempDir(), b.Target(t), cfg))
		})
	}
}

// TestBoxCredentialIsConfined checks what a box credential may do: push
// its own box's events and read the catalogue, and nothing an operator
// does.
func TestBoxCredentialIsConfined(t *testing.T) {
	eachHub(t, hub.Config{}, func(t *testing.T, h *hubtest.Hub) {
		box, _ := enrollOverHTTP(t, h, "School 1", "BOX1")
		other, _ := enrollOverHTTP(t, h, "School 2", "BOX2")
		g := upstreamtest.NewGen(1, 1, 5)
		evs := g.Events(20)
		if code, body := box.events(wire.Batch{BoxID: "BOX1", Events: evs}); code != 200 {
			t.Fatalf("push own events: %d %s", code, body)
		}
		// Another school's box id, with this box's credential.
		if code, body := box.events(wire.Batch{BoxID: "BOX2", Events: evs}); code != http.StatusForbidden {
			t.Errorf("push events as another school's box: %d %s, want 403", code, body)
		}
		for _, rt := range []struct{ method, path, ctype, body string }{
			{"GET", "/api/v1/reports?by=region", "", ""},
			{"GET", "/api/v1/boxes", "", ""},
			{"POST", "/api/v1/schools", "application/json", `{"name":"x","region":"y"}`},
			{"POST", "/api/v1/packs", "application/zip", "PK"},
			{"POST", "/api/v1/bundles", "application/octet-stream", "stembox-bundle 1\n"},
			{"POST", "/api/v1/credentials/" + other.token[5:21] + "/revoke", "", ""},
		} {
			code, body, _ := box.do(rt.method, rt.path, rt.ctype, []byte(rt.body))
			if code != http.StatusUnauthorized && code != http.StatusForbidden {
				t.Errorf("%s %s with a box credential: %d %s, want 401 or 403", rt.method, rt.path, code, body)
			}
		}
		// A box credential is no password for the pages.
		jar, _ := cookiejar.New(nil)
		browser := &client{t: t, base: h.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		form := url.Values{"token": {box.token}}
		if code, _, _ := browser.do("POST", "/login", "application/x-www-form-urlencoded", []byte(form.Encode())); code != http.StatusForbidden {
			t.Errorf("sign in to the pages with a box credential: %d, want 403", code)
		}
		if code, _, hdr := browser.do("GET", "/reports", "", nil); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
			t.Errorf("reports page without signing in: %d, want a redirect to /login", code)
		}
		// No credential, a wrong one, a revoked one.
		anon := &client{t: t, base: h.URL}
		if code, _ := anon.events(wire.Batch{BoxID: "BOX1", Events: evs}); code != http.StatusUnauthorized {
			t.Errorf("push without a credential: %d, want 401", code)
		}
		op := &client{t: t, base: h.URL, token: h.Operator}
		id, _ := wire.ParseCredential(box.token)
		if code, body, _ := op.do("POST", "/api/v1/credentials/"+id.ID+"/revoke", "", nil); code != 200 {
			t.Fatalf("revoke: %d %s", code, body)
		}
		if code, _ := box.events(wire.Batch{BoxID: "BOX1", Events: evs}); code != http.StatusUnauthorized {
			t.Errorf("push with a revoked credential: %d, want 401", code)
		}
		if code, _, _ := box.do("GET", wire.PathCatalogue, "", nil); code != http.StatusUnauthorized {
			t.Errorf("catalogue with a revoked credential: %d, want 401", code)
		}
	})
}

// TestBadBatchesChangeNothing sends malformed, oversized and mislabelled
// batches: each is refused with a clear error and nothing is stored.
func TestBadBatchesChangeNothing(t *testing.T) {
	eachHub(t, hub.Config{Limits: hub.Limits{MaxBatchEvents: 100, MaxBatchBytes: 64 << 10}}, func(t *testing.T, h *hubtest.Hub) {
		box, _ := enrollOverHTTP(t, h, "School 1", "BOX1")
		g := upstreamtest.NewGen(2, 1, 5)
		evs := g.Events(150)
		good, _ := wire.Marshal(wire.Batch{BoxID: "BOX1", Events: evs[:50]})
		cut := good[:len(good)/2]
		flipped := bytes.Clone(good)
		flipped[len(flipped)/2] ^= 0xff
		big := make([]byte, 100<<10)
		cases := []struct {
			name  string
			body  []byte
			ctype string
			want  int
			msg   string
		}{
			{"not gzip", []byte("hello"), wire.MediaType, 400, "malformed"},
			{"cut short", cut, wire.MediaType, 400, "malformed"},
			{"a flipped byte", flipped, wire.MediaType, 400, "malformed"},
			{"wrong type", good, "application/json", 400, wire.MediaType},
			{"too many events", mustMarshal(t, wire.Batch{BoxID: "BOX1", Events: evs[:101]}), wire.MediaType, 413, "at most 100 events"},
			{"too many bytes", big, wire.MediaType, 413, "bytes"},
		}
		for _, c := range cases {
			code, body, _ := box.do("POST", wire.PathEvents, c.ctype, c.body, "Content-Encoding", "gzip")
			if code != c.want || !strings.Contains(string(body), c.msg) {
				t.Errorf("%s: %d %s; want %d mentioning %q", c.name, code, body, c.want, c.msg)
			}
		}
		st, err := h.Store().BoxState(t.Context(), "BOX1")
		if err != nil || st.Events != 0 || st.AckedSeq != 0 {
			t.Fatalf("after refused batches: %+v, %v; want nothing stored", st, err)
		}
		if code, body := box.events(wire.Batch{BoxID: "BOX1", Events: evs[:50]}); code != 200 || !strings.Contains(string(body), `"acked_seq":50`) {
			t.Fatalf("a good batch after: %d %s", code, body)
		}
	})
}

func mustMarshal(t *testing.T, b wire.Batch) []byte {
	t.Helper()
	d, err := wire.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRateLimit(t *testing.T) {
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{Limits: hub.Limits{IngestEvery: time.Hour, IngestBurst: 2}})
	box, _ := enrollOverHTTP(t, h, "School 1", "BOX1")
	g := upstreamtest.NewGen(3, 1, 5)
	for i := range 2 {
		if code, body := box.events(wire.Batch{BoxID: "BOX1", Events: g.Events(10)}); code != 200 {
			t.Fatalf("batch %d: %d %s", i, code, body)
		}
	}
	data := mustMarshal(t, wire.Batch{BoxID: "BOX1", Events: g.Events(10)})
	code, body, hdr := box.do("POST", wire.PathEvents, wire.MediaType, data, "Content-Encoding", "gzip")
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "rate_limited") {
		t.Fatalf("third batch within the burst of 2: %d %s (Retry-After %q), want 429", code, body, hdr.Get("Retry-After"))
	}
}

// TestOperatorPages walks the operator's pages: sign in, add a school
// (CSRF checked), see the token once, reports and CSV.
func TestOperatorPages(t *testing.T) {
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	jar, _ := cookiejar.New(nil)
	b := &client{t: t, base: h.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	form := func(v url.Values) []byte { return []byte(v.Encode()) }
	const formType = "application/x-www-form-urlencoded"
	if code, body, _ := b.do("POST", "/login", formType, form(url.Values{"token": {"sbo1.0000000000000000.AAAA"}})); code != http.StatusForbidden {
		t.Fatalf("sign in with a wrong token: %d %s", code, body)
	}
	if code, _, hdr := b.do("POST", "/login", formType, form(url.Values{"token": {h.Operator}, "next": {"/"}})); code != http.StatusSeeOther || hdr.Get("Location") != "/" {
		t.Fatalf("sign in: %d", code)
	}
	code, home, _ := b.do("GET", "/", "", nil, "Accept-Language", "en")
	if code != 200 {
		t.Fatalf("home: %d %s", code, home)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(home)
	if csrf == nil {
		t.Fatalf("no CSRF token in the home page:\n%s", home)
	}
	if code, _, _ := b.do("POST", "/schools", formType, form(url.Values{"name": {"School 9"}, "region": {"Sughd"}})); code != http.StatusForbidden {
		t.Errorf("add a school without the CSRF token: %d, want 403", code)
	}
	code, page, _ := b.do("POST", "/schools", formType, form(url.Values{"name": {"School 9"}, "region": {"Sughd"}, "csrf": {string(csrf[1])}}), "Accept-Language", "en")
	if code != 200 || !strings.Contains(string(page), "--enroll-token") {
		t.Fatalf("add a school: %d\n%s", code, page)
	}
	for _, lang := range []string{"tg", "ru", "en"} {
		for _, p := range []string{"/", "/reports?by=grade", "/packs", "/import"} {
			code, body, _ := b.do("GET", p, "", nil, "Accept-Language", lang)
			if code != 200 || bytes.Contains(body, []byte("!hub.")) {
				t.Errorf("%s in %s: %d, or a missing message:\n%s", p, lang, code, body)
			}
		}
	}
	code, csvBody, hdr := b.do("GET", "/reports.csv?by=school", "", nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(csvBody), "school,school_id,female_learners") {
		t.Errorf("reports.csv: %d %s", code, csvBody)
	}
	if code, _, _ := b.do("POST", "/logout", formType, nil); code != http.StatusSeeOther {
		t.Errorf("sign out: %d", code)
	}
	if code, _, _ := b.do("GET", "/packs", "", nil); code != http.StatusSeeOther {
		t.Errorf("packs page after signing out: %d, want a redirect", code)
	}
}

// A form posted from the hub's own page is taken (Chromium sends
// "Origin: null" with it, under the pages' Referrer-Policy: no-referrer,
// and says same-origin); a form posted from another site is refused.
func TestOperatorFormsFromTheHubsOwnPages(t *testing.T) {
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	post := func(origin, site string) int {
		req, _ := http.NewRequest("POST", h.URL+"/login", strings.NewReader("token="+h.Operator))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		origin, site string
		want         int
	}{
		{"null", "same-origin", 303},
		{h.URL, "same-origin", 303},
		{"null", "", 403},
		{"null", "cross-site", 403},
		{"http://evil.example", "cross-site", 403},
	} {
		if got := post(c.origin, c.site); got != c.want {
			t.Errorf("sign-in posted with Origin %q, Sec-Fetch-Site %q: %d, want %d", c.origin, c.site, got, c.want)
		}
	}
}
