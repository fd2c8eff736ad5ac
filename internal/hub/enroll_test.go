package hub_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestTokenEnrollsOnceOverHTTP: a used token, sent again by the same box id
// (read off the LAN) or in a burst, gets 409 and never a credential; the
// first credential keeps working; the operator's new token re-enrolls the
// box and revokes the old credential.
func TestTokenEnrollsOnceOverHTTP(t *testing.T) {
	eachHub(t, hub.Config{}, func(t *testing.T, h *hubtest.Hub) {
		op := &client{t: t, base: h.URL, token: h.Operator}
		tok := map[string]string{"token": schoolOverHTTP(t, h, "School 4")}
		anon := &client{t: t, base: h.URL}
		enroll := func(token, box string) (int, []byte) {
			req, _ := json.Marshal(wire.EnrollRequest{Token: token, BoxID: box})
			code, body, _ := anon.do("POST", wire.PathEnroll, "application/json", req)
			return code, body
		}
		// Four at once with one token: one credential.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []wire.EnrollResponse
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body := enroll(tok["token"], "BOXA")
				mu.Lock()
				defer mu.Unlock()
				switch code {
				case 200:
					var r wire.EnrollResponse
					json.Unmarshal(body, &r)
					won = append(won, r)
				case http.StatusConflict:
				default:
					t.Errorf("a losing enrollment: %d %s, want 409", code, body)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("%d enrollments won with one token, want 1", len(won))
		}
		first := &client{t: t, base: h.URL, token: won[0].Credential}
		code, body := enroll(tok["token"], "BOXA")
		var eb wire.ErrorBody
		json.Unmarshal(body, &eb)
		if code != http.StatusConflict || eb.Code != "conflict" || !strings.Contains(eb.Error, "used already") {
			t.Errorf("the same token again: %d %s, want 409 saying it is used", code, body)
		}
		if code, body, _ := first.do("GET", wire.PathCatalogue, "", nil); code != 200 {
			t.Errorf("the first credential after its token was tried again: %d %s", code, body)
		}
		// The operator re-enrolls the box.
		code, body, _ = op.do("POST", "/api/v1/schools/"+won[0].SchoolID+"/tokens", "application/json", nil)
		if code != 200 {
			t.Fatalf("new token: %d %s", code, body)
		}
		json.Unmarshal(body, &tok)
		code, body = enroll(tok["token"], "BOXA")
		if code != 200 {
			t.Fatalf("re-enroll with the operator's new token: %d %s", code, body)
		}
		var again wire.EnrollResponse
		json.Unmarshal(body, &again)
		if code, _, _ := first.do("GET", wire.PathCatalogue, "", nil); code != http.StatusUnauthorized {
			t.Errorf("the old credential after re-enrollment: %d, want 401", code)
		}
		if code, body, _ := (&client{t: t, base: h.URL, token: again.Credential}).do("GET", wire.PathCatalogue, "", nil); code != 200 {
			t.Errorf("the new credential: %d %s", code, body)
		}
	})
}
