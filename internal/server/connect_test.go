package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/peer"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
)

// lanBox is a server with the mini pack installed (unless empty) and the
// LAN parts given.
func lanBox(t *testing.T, empty bool, lan func(*content.Library, string) server.LAN) (*httptest.Server, *content.Library, *store.DB) {
	t.Helper()
	db, lib, dir := openParts(t, empty)
	var opts []server.Option
	if lan != nil {
		opts = append(opts, server.WithLAN(lan(lib, dir)))
	}
	srv := newServer(t, server.Config{}, nil, db, lib, opts...)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, lib, db
}

func get(t *testing.T, u string, header ...string) response {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp, string(b)}
}

func TestConnectPage(t *testing.T) {
	reach := discovery.Reach{Name: "Room 5", Host: "stembox.local", Port: 8080, Best: "http://192.0.2.1:8080/", URLs: []discovery.URL{
		{URL: "http://stembox.local:8080/", Kind: "name"},
		{URL: "http://192.0.2.1:8080/", Kind: "ipv4"},
		{URL: "http://[2001:db8::1]:8080/", Kind: "ipv6"},
		{URL: "http://localhost:8080/", Kind: "local"},
	}}
	peers := []discovery.Box{{Name: "Room 7", Host: "stembox-2.local", Port: 8080, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")},
		URLs: []string{"http://stembox-2.local:8080/", "http://192.0.2.2:8080/"}, ID: "01B", Version: "v1.2.0"}}
	ts, _, _ := lanBox(t, false, func(*content.Library, string) server.LAN {
		return server.LAN{Reach: func() discovery.Reach { return reach }, Peers: func() []discovery.Box { return peers }}
	})
	for lang, title := range map[string]string{"en": "Connect a device", "ru": "Подключить устройство", "tg": "Пайваст кардани дастгоҳ"} {
		r := get(t, ts.URL+"/connect", "Accept-Language", lang)
		wantStatus(t, r, 200)
		wantContains(t, r, title, "Room 5", `<svg xmlns="http://www.w3.org/2000/svg"`, `aria-label="http://192.0.2.1:8080/"`,
			`<a href="http://192.0.2.1:8080/">http://192.0.2.1:8080/</a>`,
			"<code>http://stembox.local:8080/</code>", "<code>http://[2001:db8::1]:8080/</code>", "<code>http://localhost:8080/</code>",
			`href="http://192.0.2.2:8080/">Room 7</a>`)
		wantLacks(t, r, "!connect.", "!peers.")
	}

	r := get(t, ts.URL+"/api/v1/peers")
	wantStatus(t, r, 200)
	wantContains(t, r, `"best":"http://192.0.2.1:8080/"`, `"name":"Room 7"`, `"id":"01B"`, `"addrs":["192.0.2.2"]`)
}

// Without discovery (or with no network), the page still shows the
// address it was opened at.
func TestConnectPageWithoutDiscovery(t *testing.T) {
	ts, _, _ := lanBox(t, false, nil)
	r := get(t, ts.URL+"/connect", "Accept-Language", "en")
	wantStatus(t, r, 200)
	wantContains(t, r, ts.URL+"/", "<svg", "not on a network yet")
}

func TestPackArchive(t *testing.T) {
	archive, _ := miniPack(t)
	ts, _, _ := lanBox(t, false, func(lib *content.Library, dir string) server.LAN {
		return server.LAN{Archives: peer.NewArchives(filepath.Join(dir, "archives"), lib)}
	})
	r := get(t, ts.URL+"/api/v1/packs/mini/archive")
	wantStatus(t, r, 200)
	if r.body != string(archive) {
		t.Errorf("archive of %d bytes differs from the pack built (%d bytes)", len(r.body), len(archive))
	}
	etag := r.Header.Get("ETag")
	if len(etag) != 66 || r.Header.Get("Accept-Ranges") != "bytes" || !strings.Contains(r.Header.Get("Content-Disposition"), "mini-1.0.0.stempack") {
		t.Errorf("headers: %v", r.Header)
	}
	r = get(t, ts.URL+"/api/v1/packs/mini/archive", "Range", "bytes=100-", "If-Range", etag)
	wantStatus(t, r, 206)
	if r.body != string(archive[100:]) {
		t.Error("the range is not the rest of the archive")
	}
	r = get(t, ts.URL+"/api/v1/packs/mini/archive", "Range", "bytes=100-", "If-Range", `"another"`)
	wantStatus(t, r, 200)
	r = get(t, ts.URL+"/api/v1/packs/nothing/archive")
	wantStatus(t, r, 404)
	wantContains(t, r, `"code":"not_found"`)

	off, _, _ := lanBox(t, false, nil)
	wantStatus(t, get(t, off.URL+"/api/v1/packs/mini/archive"), 404)
}

func TestAdminPeersIsForTheBoxOnly(t *testing.T) {
	ts, _, db := lanBox(t, true, func(lib *content.Library, dir string) server.LAN { return server.LAN{} })
	// From the box itself, by 127.0.0.1 or localhost.
	wantStatus(t, get(t, ts.URL+"/admin/peers"), 200)
	u, _ := url.Parse(ts.URL)
	r := get(t, "http://localhost:"+u.Port()+"/admin/peers")
	wantStatus(t, r, 200)
	wantContains(t, r, "No other stembox box was found")

	// A page from elsewhere that rebinds its name to 127.0.0.1 is refused.
	req, _ := http.NewRequest("GET", ts.URL+"/admin/peers", nil)
	req.Host = "evil.example:" + u.Port()
	r = do(t, req)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("rebound host: status %d, Location %q; want a redirect to sign in", r.StatusCode, r.Header.Get("Location"))
	}
	req, _ = http.NewRequest("POST", ts.URL+"/admin/peers/fetch", strings.NewReader("peer=http://192.0.2.9&pack=mini"))
	req.Host = "evil.example:" + u.Port()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example:"+u.Port())
	wantStatus(t, do(t, req), 403)

	// Once the box has an administrator, only a signed-in one may come in,
	// wherever from.
	if _, err := db.CreateUser(context.Background(), "test", school.RoleAdmin, "admin", "Admin", auth.Hash("a long password")); err != nil {
		t.Fatal(err)
	}
	r = get(t, ts.URL+"/admin/peers")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=%2Fadmin%2Fpeers") {
		t.Errorf("anonymous on the box once an admin exists: %d, Location %q; want a redirect to sign in", r.StatusCode, r.Header.Get("Location"))
	}
	req, _ = http.NewRequest("POST", ts.URL+"/admin/peers/fetch", strings.NewReader("peer=http://192.0.2.9&pack=mini"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", ts.URL)
	wantStatus(t, do(t, req), 403)
}

// A device on the LAN is not the box.
func TestAdminPeersRefusesTheLAN(t *testing.T) {
	srvOnly, _, _ := lanBox(t, true, nil)
	req := httptest.NewRequest("POST", "http://192.0.2.1:8080/admin/peers/fetch", strings.NewReader("peer=http://192.0.2.9&pack=mini"))
	req.RemoteAddr = "192.0.2.50:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://192.0.2.1:8080")
	rec := httptest.NewRecorder()
	srvOnly.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Errorf("POST from the LAN: %d, want 403", rec.Code)
	}
}

// The admin page lists another box's packs, copies one in the background,
// and shows how it went.
func TestAdminFetchesFromAPeer(t *testing.T) {
	other, _, _ := lanBox(t, false, func(lib *content.Library, dir string) server.LAN {
		return server.LAN{Archives: peer.NewArchives(filepath.Join(dir, "archives"), lib)}
	})
	var jobs *peer.Jobs
	ts, lib, _ := lanBox(t, true, func(lib *content.Library, dir string) server.LAN {
		client := peer.NewClient("test")
		jobs = peer.NewJobs(client, lib, filepath.Join(dir, "downloads"), slog.New(slog.NewTextHandler(io.Discard, nil)))
		return server.LAN{
			Peers: func() []discovery.Box {
				return []discovery.Box{{Name: "Room 7", URLs: []string{other.URL + "/"}, Version: "v1"}}
			},
			Jobs: jobs, Client: client,
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- jobs.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	r := get(t, ts.URL+"/admin/peers", "Accept-Language", "en")
	wantStatus(t, r, 200)
	wantContains(t, r, "Room 7", "Mini pack", "mini 1.0.0 · not on this box", `action="/admin/peers/fetch"`, `value="`+other.URL+`"`)

	form := url.Values{"peer": {other.URL}, "pack": {"mini"}}
	var resp response
	for deadline := time.Now().Add(5 * time.Second); ; {
		req, _ := http.NewRequest("POST", ts.URL+"/admin/peers/fetch", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		resp = do(t, req)
		if resp.StatusCode != 503 || time.Now().After(deadline) {
			break // 503: the jobs' Run has not started yet
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/peers" {
		t.Fatalf("POST fetch: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), resp.body)
	}
	for deadline := time.Now().Add(5 * time.Second); jobs.Running() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := lib.Pack("mini"); !ok {
		t.Fatal("mini was not installed")
	}
	r = get(t, ts.URL+"/admin/peers", "Accept-Language", "en")
	wantContains(t, r, "installed version 1.0.0", "mini 1.0.0 · the same as on this box")
	wantLacks(t, r, `http-equiv="refresh"`)

	// A typed address that does not answer is shown as such, quickly.
	start := time.Now()
	r = get(t, ts.URL+"/admin/peers?url="+url.QueryEscape("http://127.0.0.1:1"), "Accept-Language", "en")
	wantContains(t, r, "Cannot reach this box")
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the page took %s with an unreachable peer", d)
	}
}
