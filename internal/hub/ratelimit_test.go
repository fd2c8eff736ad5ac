package hub_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
)

// Guessing operator tokens on the sign-in page is slowed like guessing
// them on the API: 429, a page that says so, and when to come back.
func TestLoginGuessingIsLimited(t *testing.T) {
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	b := &client{t: t, base: h.URL}
	wrong := []byte(url.Values{"token": {"sbo1.0000000000000000.AAAA"}}.Encode())
	const formType = "application/x-www-form-urlencoded"
	var code int
	var body []byte
	var hdr http.Header
	for i := 0; i < 20 && code != http.StatusTooManyRequests; i++ {
		code, body, hdr = b.do("POST", "/login", formType, wrong, "Accept-Language", "en")
	}
	if code != http.StatusTooManyRequests || !strings.Contains(string(body), "too many sign-in attempts") {
		t.Fatalf("20 wrong tokens: %d %s, want 429 saying too many sign-in attempts", code, body)
	}
	if s, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || s < 1 || s > 7 {
		t.Errorf("Retry-After = %q, want the seconds until the next guess (at most 7)", hdr.Get("Retry-After"))
	}
}
