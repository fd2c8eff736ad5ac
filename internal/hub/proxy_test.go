package hub_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Behind a load balancer (here: the test, from 127.0.0.1), enrollment
// attempts are counted per client as X-Forwarded-For names it — but only
// from a trusted proxy, and only the hop that proxy appended: a client
// cannot dodge the limit by writing the header itself.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	attempt := func(h *hubtest.Hub, xff ...string) int {
		t.Helper()
		c := &client{t: t, base: h.URL}
		var hdr []string
		for _, v := range xff {
			hdr = append(hdr, "X-Forwarded-For", v)
		}
		code, _, _ := c.do("POST", wire.PathEnroll, "application/json", []byte(`{"token":"sbe1.wrong","box_id":"B"}`), hdr...)
		return code
	}
	exhaust := func(h *hubtest.Hub, xff string) {
		t.Helper()
		for i := 0; ; i++ {
			if attempt(h, xff) == http.StatusTooManyRequests {
				return
			}
			if i > 50 {
				t.Fatalf("50 wrong enrollments from %s and no 429", xff)
			}
		}
	}

	behind := hubtest.Start(t, t.TempDir(), "", hub.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	exhaust(behind, "198.51.100.7")
	if code := attempt(behind, "198.51.100.8"); code == http.StatusTooManyRequests {
		t.Errorf("another client behind the proxy was refused: %d", code)
	}
	// The client wrote its own X-Forwarded-For: the proxy's hop counts.
	if code := attempt(behind, "203.0.113.1, 198.51.100.7"); code != http.StatusTooManyRequests {
		t.Errorf("a client that forged the start of the header got %d, want 429 like its real address", code)
	}

	// Without trusted proxies the header means nothing.
	direct := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	exhaust(direct, "198.51.100.7")
	if code := attempt(direct, "198.51.100.8"); code != http.StatusTooManyRequests {
		t.Errorf("a hub trusting no proxy believed X-Forwarded-For: %d, want 429", code)
	}
}

func TestParseProxies(t *testing.T) {
	got, err := hub.ParseProxies([]string{"10.0.0.5", "10.1.0.0/16, fd00::/8"})
	if err != nil || len(got) != 3 || got[0].String() != "10.0.0.5/32" || got[1].String() != "10.1.0.0/16" {
		t.Errorf("ParseProxies = %v, %v", got, err)
	}
	if _, err := hub.ParseProxies([]string{"lb.example.org"}); err == nil {
		t.Error("a host name was taken as a proxy address")
	}
}
