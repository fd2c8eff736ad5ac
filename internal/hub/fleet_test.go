package hub_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// The fleet page lists every box with what needs attention flagged —
// long unseen, disk nearly full, an error or a refused pack, a clock far
// off — those first; the same as CSV (comma or semicolon) and JSON, for
// operators only.
func TestFleetPage(t *testing.T) {
	eachHub(t, hub.Config{}, func(t *testing.T, h *hubtest.Hub) {
		push := func(c *client, box string) {
			t.Helper() // the box's clock reads what the hub's does
			g := upstreamtest.NewGen(uint64(len(box)), 1, 3)
			if code, body := c.events(wire.Batch{BoxID: box, Clock: wire.Clock{WallMS: h.Store().Now().UnixMilli(), BootID: "b", MonoMS: 1000}, Events: g.Events(10)}); code != 200 {
				t.Fatalf("push %s: %d %s", box, code, body)
			}
		}
		status := func(c *client, st string) {
			t.Helper()
			if code, body, _ := c.do("POST", wire.PathStatus, "application/json", []byte(st)); code != http.StatusNoContent {
				t.Fatalf("status: %d %s", code, body)
			}
		}
		// Full disk and a clock 10 minutes off (as the box set it).
		full, _ := enrollOverHTTP(t, h, "School A", "FLEET-FULL")
		push(full, "FLEET-FULL")
		status(full, `{"version":"2.0","packs":{},"backlog":3,"disk_free":524288000,"disk_total":16000000000,"clock":{"source":"devices","err_ms":2000,"drift_ms":600000}}`)
		// All well: 40 GiB of 100 free, its clock right.
		fine, _ := enrollOverHTTP(t, h, "School B", "FLEET-FINE")
		push(fine, "FLEET-FINE")
		status(fine, `{"version":"2.0","packs":{"mini":"1.0.0"},"backlog":0,"disk_free":42949672960,"disk_total":107374182400,"clock":{"source":"hub","err_ms":40,"drift_ms":12}}`)
		// A pack refused; 5 GiB free but of 64: less than a tenth.
		refusing, _ := enrollOverHTTP(t, h, "School C", "FLEET-ERR")
		push(refusing, "FLEET-ERR")
		status(refusing, `{"version":"1.9","packs":{},"problems":[{"pack":"mini","version":"1.1.0","error":"not signed by a key the box trusts"}],"backlog":0,"last_error":"mini 1.1.0 was not installed","disk_free":5368709120,"disk_total":68719476736}`)
		// Enrolled, never heard from.
		enrollOverHTTP(t, h, "School D", "FLEET-NEVER")
		// Last heard from 8 days ago (the hub's clock set back for its push).
		old, _ := enrollOverHTTP(t, h, "School E", "FLEET-OLD")
		h.Store().Now = func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }
		push(old, "FLEET-OLD")
		h.Store().Now = time.Now

		jar, _ := cookiejar.New(nil)
		op := &client{t: t, base: h.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if code, _, hdr := op.do("GET", "/fleet", "", nil); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
			t.Fatalf("the fleet page signed out: %d %q, want the sign-in page", code, hdr.Get("Location"))
		}
		if code, _, _ := op.do("POST", "/login", "application/x-www-form-urlencoded", []byte(url.Values{"token": {h.Operator}}.Encode())); code != http.StatusSeeOther {
			t.Fatalf("sign in: %d", code)
		}

		code, body, _ := op.do("GET", "/fleet?format=json", "", nil)
		var boxes []hub.FleetBox
		if err := json.Unmarshal(body, &boxes); code != 200 || err != nil {
			t.Fatalf("fleet JSON: %d %v\n%s", code, err, body)
		}
		flags := map[string][]string{}
		var order []string
		for _, b := range boxes {
			flags[b.ID], order = b.Flags, append(order, b.ID)
		}
		want := map[string][]string{
			"FLEET-FULL":  {hub.FlagLowDisk, hub.FlagClock},
			"FLEET-FINE":  {},
			"FLEET-ERR":   {hub.FlagLowDisk, hub.FlagError},
			"FLEET-NEVER": {hub.FlagUnseen},
			"FLEET-OLD":   {hub.FlagUnseen},
		}
		for id, w := range want {
			if !slices.Equal(flags[id], w) {
				t.Errorf("%s: flags %q, want %q", id, flags[id], w)
			}
		}
		// Most flags first; then the least recently seen.
		if wantOrder := []string{"FLEET-FULL", "FLEET-ERR", "FLEET-NEVER", "FLEET-OLD", "FLEET-FINE"}; !slices.Equal(order, wantOrder) {
			t.Errorf("order %q, want %q", order, wantOrder)
		}
		var fullBox hub.FleetBox
		for _, b := range boxes {
			if b.ID == "FLEET-FULL" {
				fullBox = b
			}
		}
		if fullBox.ClockSource != "devices" || fullBox.ClockOffMS == nil || *fullBox.ClockOffMS != 600000 || fullBox.Backlog == nil || *fullBox.Backlog != 3 ||
			fullBox.Version != "2.0" || fullBox.LastSeen == nil || fullBox.School != "School A" || fullBox.Region != "Sughd" {
			t.Errorf("the full box: %+v", fullBox)
		}

		for sortBy, wantOrder := range map[string][]string{
			"name":      {"FLEET-FULL", "FLEET-FINE", "FLEET-ERR", "FLEET-NEVER", "FLEET-OLD"},
			"last_seen": {"FLEET-NEVER", "FLEET-OLD"},
		} {
			_, body, _ := op.do("GET", "/fleet?format=json&sort="+sortBy, "", nil)
			var got []hub.FleetBox
			json.Unmarshal(body, &got)
			var ids []string
			for _, b := range got {
				ids = append(ids, b.ID)
			}
			if len(ids) != 5 || !slices.Equal(ids[:len(wantOrder)], wantOrder) {
				t.Errorf("sort=%s: %q, want %q first", sortBy, ids, wantOrder)
			}
		}

		for sep, query := range map[rune]string{',': "format=csv", ';': "format=csv&sep=semicolon"} {
			code, body, hdr := op.do("GET", "/fleet?"+query, "", nil)
			r := csv.NewReader(bytes.NewReader(body))
			r.Comma = sep
			recs, err := r.ReadAll()
			if code != 200 || err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || len(recs) != 6 {
				t.Fatalf("fleet CSV (%s): %d %v %d records\n%s", query, code, err, len(recs), body)
			}
			if recs[0][0] != "box_id" || recs[1][0] != "FLEET-FULL" || recs[1][5] != "low_disk clock_off" || recs[2][9] != "mini 1.1.0: not signed by a key the box trusts" {
				t.Errorf("fleet CSV (%s):\n%s", query, body)
			}
		}

		for _, lang := range []string{"tg", "ru", "en"} {
			code, body, _ := op.do("GET", "/fleet", "", nil, "Accept-Language", lang)
			page := html.UnescapeString(string(body))
			if code != 200 || strings.Contains(page, "!hub.") {
				t.Fatalf("fleet page in %s: %d\n%s", lang, code, page)
			}
			for _, key := range []string{"hub.fleet.flag.low_disk", "hub.fleet.flag.clock_off", "hub.fleet.flag.error", "hub.fleet.flag.unseen", "hub.fleet.title"} {
				if !strings.Contains(page, i18n.T(lang, key)) {
					t.Errorf("fleet page in %s lacks %q", lang, i18n.T(lang, key))
				}
			}
			if i, j := strings.Index(page, "FLEET-FULL"), strings.Index(page, "FLEET-FINE"); i < 0 || j < i || !strings.Contains(page, "not signed by a key the box trusts") {
				t.Errorf("fleet page in %s: the full box at %d, the fine one at %d, want it first and the refused pack shown", lang, i, j)
			}
		}

		for _, bad := range []string{"/fleet?sort=bogus", "/fleet?format=xml", "/fleet?format=csv&sep=tab"} {
			if code, body, _ := op.do("GET", bad, "", nil); code != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400\n%s", bad, code, body)
			}
		}
		// The API: the operator's token, not a box's.
		api := &client{t: t, base: h.URL, token: h.Operator}
		if code, body, _ := api.do("GET", "/api/v1/fleet?sort=name", "", nil); code != 200 || !bytes.Contains(body, []byte(`"flags":["low_disk","clock_off"]`)) {
			t.Errorf("GET /api/v1/fleet: %d %s", code, body)
		}
		if code, _, _ := full.do("GET", "/api/v1/fleet", "", nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("GET /api/v1/fleet with a box's credential: %d, want refused", code)
		}
	})
}

// A batch the hub refuses as contradicting what it holds (409: a box
// restored from an old backup) shows on the fleet page until the box's
// batches are taken again.
func TestFleetShowsRefusedBatches(t *testing.T) {
	eachHub(t, hub.Config{}, func(t *testing.T, h *hubtest.Hub) {
		box, _ := enrollOverHTTP(t, h, "School R", "FLEET-409")
		g := upstreamtest.NewGen(9, 1, 3)
		evs := g.Events(20)
		batch := func(evs []wire.Event) wire.Batch {
			return wire.Batch{BoxID: "FLEET-409", Clock: wire.Clock{WallMS: time.Now().UnixMilli(), BootID: "b", MonoMS: 1000}, Events: evs}
		}
		if code, body := box.events(batch(evs[:10])); code != 200 {
			t.Fatalf("push: %d %s", code, body)
		}
		other := slices.Clone(evs[5:10])
		other[0].ID = "01J00000000000000000000000"
		fleet := func() hub.FleetBox {
			t.Helper()
			api := &client{t: t, base: h.URL, token: h.Operator}
			code, body, _ := api.do("GET", "/api/v1/fleet", "", nil)
			var boxes []hub.FleetBox
			if err := json.Unmarshal(body, &boxes); code != 200 || err != nil || len(boxes) != 1 {
				t.Fatalf("fleet: %d %v %s", code, err, body)
			}
			return boxes[0]
		}
		for range 2 {
			if code, body := box.events(batch(other)); code != http.StatusConflict {
				t.Fatalf("a contradicting batch: %d %s, want 409", code, body)
			}
		}
		if got := fleet(); !strings.Contains(got.Conflict, "differs from the one the hub holds") || !slices.Contains(got.Flags, hub.FlagError) {
			t.Errorf("after a 409: hub_refused %q, flags %q", got.Conflict, got.Flags)
		}
		if code, body := box.events(batch(evs[10:])); code != 200 {
			t.Fatalf("push: %d %s", code, body)
		}
		if got := fleet(); got.Conflict != "" || len(got.Flags) != 0 {
			t.Errorf("after a batch taken again: hub_refused %q, flags %q, want none", got.Conflict, got.Flags)
		}
	})
}
