package upstream_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestLostEnrollmentAnswer: the hub enrolls the box but its answer never
// arrives. The box's retry with its token proves it spent it and gets a
// credential (the lost one is revoked); anyone else with the token and the
// box's id is refused, and a box told "used already" shows it on its sync
// page with what to do.
func TestLostEnrollmentAnswer(t *testing.T) {
	_, key := miniPack(t)
	keys := content.NewKeyring(key.Public())
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	target, _ := url.Parse(h.URL)
	var drop atomic.Bool
	drop.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path == wire.PathEnroll && r.StatusCode == http.StatusOK && drop.Swap(false) {
			return errors.New("the answer is lost on the way")
		}
		return nil
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	lossy := httptest.NewServer(proxy)
	t.Cleanup(lossy.Close)

	tok, err := h.Store().CreateSchool(ctx, "School 3", "Sughd", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	box := newBox(t, keys)
	s := box.syncer(upstream.Config{HubURL: lossy.URL, EnrollToken: tok.Token, Client: noProxyClient(time.Minute)})
	if err := s.Sync(ctx); err == nil {
		t.Fatal("sync with the enrollment answer lost: no error")
	}
	boxes, err := h.Store().Boxes(ctx)
	if err != nil || len(boxes) != 1 || len(boxes[0].Credentials) != 1 {
		t.Fatalf("the hub after the lost answer: %+v, %v; want one box with one credential", boxes, err)
	}
	lost := boxes[0].Credentials[0].ID

	// The box's own retry enrolls it.
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("the box retrying its token after a lost answer: %v", err)
	}
	link, err := box.db.UpstreamLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store().AuthBox(ctx, link.Credential); err != nil {
		t.Errorf("the credential the retry got: %v", err)
	}
	boxes, _ = h.Store().Boxes(ctx)
	for _, c := range boxes[0].Credentials {
		if c.ID == lost && !c.Revoked {
			t.Errorf("the credential the box never received is still valid")
		}
	}

	// Someone with the token and the box's id (it is in the box's mDNS
	// record), without the box's secret, is refused.
	for _, key := range []string{"", "c29tZXRoaW5nIGVsc2U"} {
		if _, err := h.Store().EnrollBox(ctx, wire.EnrollRequest{Token: tok.Token, BoxID: box.boxID(t), RetryKey: key}); failure.KindOf(err) != failure.Conflict {
			t.Errorf("a spent token with retry key %q: %v, want a conflict", key, err)
		}
	}
	if _, err := h.Store().AuthBox(ctx, link.Credential); err != nil {
		t.Errorf("the box's credential after others tried its token: %v", err)
	}

	// Another box given the spent token is told on its sync page.
	other := newBox(t, keys)
	sc := other.syncer(upstream.Config{HubURL: h.URL, EnrollToken: tok.Token, Client: noProxyClient(time.Minute)})
	if err := sc.Sync(ctx); err == nil || !strings.Contains(err.Error(), "(409)") {
		t.Fatalf("another box with a spent token: %v, want the hub's 409", err)
	}
	st, err := upstream.ReadStatus(ctx, other.db)
	if err != nil || st.Enrolled || !strings.Contains(st.LastError, "used already") || !strings.Contains(st.LastError, "new token") {
		t.Fatalf("its status = %+v, %v; want not enrolled, saying the token is used and to ask for a new one", st, err)
	}
	// The operator's new token enrolls it.
	renew, err := h.Store().NewToken(ctx, tok.School.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Enroll(ctx, h.URL, renew.Token); err != nil {
		t.Fatalf("enroll with the operator's new token: %v", err)
	}
	if err := sc.Sync(ctx); err != nil {
		t.Fatalf("sync after enrolling with a new token: %v", err)
	}
}
