package hub_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// POST /api/v1/status keeps the latest status of the credential's box,
// refuses what is not one, and is for boxes only.
func TestBoxStatusEndpoint(t *testing.T) {
	eachHub(t, hub.Config{}, func(t *testing.T, h *hubtest.Hub) {
		ctx := t.Context()
		box, enrolled := enrollOverHTTP(t, h, "School 3", "box-status-1")
		post := func(c *client, body string) (int, string) {
			code, b, _ := c.do("POST", wire.PathStatus, "application/json", []byte(body))
			return code, string(b)
		}
		status := func() hub.BoxInfo {
			boxes, err := h.Store().Boxes(ctx)
			if err != nil || len(boxes) != 1 {
				t.Fatalf("boxes = %+v, %v", boxes, err)
			}
			return boxes[0]
		}
		first, _ := json.Marshal(wire.BoxStatus{Version: "1.0", Packs: map[string]string{"mini": "1.0.0"}, Problems: []wire.PackProblem{{Pack: "mini", Version: "1.1.0", Error: "not signed by a key the box trusts"}}, Backlog: 12, DiskFree: 5 << 30})
		if code, body := post(box, string(first)); code != http.StatusNoContent {
			t.Fatalf("status: %d %s", code, body)
		}
		got := status()
		if got.Status == nil || got.Status.Backlog != 12 || len(got.Attention) != 1 || !strings.Contains(got.Attention[0], "mini 1.1.0: not signed") {
			t.Fatalf("after the first status: %+v, attention %q", got.Status, got.Attention)
		}
		// The last one wins, twice over.
		for range 2 {
			if code, body := post(box, `{"version":"1.1","packs":{"mini":"1.1.0"},"backlog":0,"disk_free":-1}`); code != http.StatusNoContent {
				t.Fatalf("second status: %d %s", code, body)
			}
		}
		if got := status(); got.Status == nil || got.Status.Version != "1.1" || got.Status.Packs["mini"] != "1.1.0" || len(got.Attention) != 0 {
			t.Fatalf("after the second status: %+v, attention %q", got.Status, got.Attention)
		}
		for name, body := range map[string]string{
			"not JSON":        `{"version":`,
			"negative":        `{"backlog":-4}`,
			"not UTF-8":       "{\"version\":\"\xff\"}",
			"too large":       `{"version":"` + strings.Repeat("x", wire.MaxStatusBytes) + `"}`,
			"wrong structure": `{"packs":["mini"]}`,
		} {
			if code, resp := post(box, body); code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s: %d %s, want refused", name, code, resp)
			}
		}
		if got := status(); got.Status == nil || got.Status.Version != "1.1" {
			t.Errorf("a refused status changed the stored one: %+v", got.Status)
		}
		// Without a credential, or with an operator's token: refused.
		for _, c := range []*client{{t: t, base: h.URL}, {t: t, base: h.URL, token: h.Operator}} {
			if code, body := post(c, `{"version":"evil"}`); code != http.StatusUnauthorized && code != http.StatusForbidden {
				t.Errorf("status with token %.8q: %d %s, want refused", c.token, code, body)
			}
		}
		if got := status(); got.Status.Version != "1.1" || got.ID != enrolled.BoxID {
			t.Errorf("after refused posts: %+v", got)
		}
	})
}
