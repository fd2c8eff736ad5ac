package upstream

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Enroll turns a one-time enrollment token into this box's credential for
// the hub at hubURL, and stores it. A box enrolled before is enrolled
// anew (a new credential; the hub revokes the old ones). A token enrolls
// once; if the hub's answer was lost, the box's retry with the same token
// proves it is the box that spent it (its retry key) and gets a new
// credential. Any other use of a spent token gets a 409 saying so.
func (s *Syncer) Enroll(ctx context.Context, hubURL, token string) (store.UpstreamLink, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	link, err := s.enroll(ctx, hubURL, token)
	if err == nil {
		s.Poke()
	}
	return link, err
}

func (s *Syncer) enroll(ctx context.Context, hubURL, token string) (store.UpstreamLink, error) {
	return Enroll(ctx, s.db, s.cfg.Client, hubURL, token, s.cfg.BoxName, s.cfg.Version)
}

// Enroll enrolls the box whose database is db (see Syncer.Enroll), for
// `stembox sync enroll` run beside a box.
func Enroll(ctx context.Context, db *store.DB, client *http.Client, hubURL, token, name, version string) (store.UpstreamLink, error) {
	base, err := hubBase(hubURL)
	if err != nil {
		return store.UpstreamLink{}, err
	}
	if token == "" {
		return store.UpstreamLink{}, fmt.Errorf("upstream: no enrollment token")
	}
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	boxID, err := db.BoxID(ctx)
	if err != nil {
		return store.UpstreamLink{}, err
	}
	if name == "" {
		name, _ = os.Hostname()
	}
	secret, err := db.EnrollSecret(ctx)
	if err != nil {
		return store.UpstreamLink{}, err
	}
	body, _ := json.Marshal(wire.EnrollRequest{Token: token, BoxID: boxID, Name: name, RetryKey: retryKey(secret, token)})
	c := &hubClient{http: client, base: base, userAgent: "stembox/" + version}
	var resp wire.EnrollResponse
	if err := c.json(ctx, http.MethodPost, wire.PathEnroll, body, map[string]string{"Content-Type": "application/json"}, &resp); err != nil {
		return store.UpstreamLink{}, fmt.Errorf("upstream: enroll: %w", err)
	}
	resp.HubURL = base
	return saveLink(ctx, db, resp, boxID)
}

// retryKey is what proves to the hub that this box spent token (see
// wire.EnrollRequest): a different key for every token, so the hub never
// holds anything that works for another one.
func retryKey(secret []byte, token string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("stembox enroll retry v1\x00" + strings.TrimSpace(token)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// EnrollFile enrolls the box with a credential file made on the hub for a
// box that never reaches it (stembox hub enroll-file): the box then syncs
// by USB stick only, unless the file names the hub's address.
func EnrollFile(ctx context.Context, db *store.DB, path string) (store.UpstreamLink, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return store.UpstreamLink{}, fmt.Errorf("upstream: %w", err)
	}
	var resp wire.EnrollResponse
	if err := json.Unmarshal(b, &resp); err != nil || resp.Credential == "" {
		return store.UpstreamLink{}, fmt.Errorf("upstream: %s is not a stembox credential file", path)
	}
	boxID, err := db.BoxID(ctx)
	if err != nil {
		return store.UpstreamLink{}, err
	}
	if resp.BoxID != "" && resp.BoxID != boxID {
		return store.UpstreamLink{}, fmt.Errorf("upstream: this credential file is for box %s, and this is box %s", resp.BoxID, boxID)
	}
	return saveLink(ctx, db, resp, boxID)
}

func saveLink(ctx context.Context, db *store.DB, resp wire.EnrollResponse, boxID string) (store.UpstreamLink, error) {
	if _, err := wire.ParseCredential(resp.Credential); err != nil {
		return store.UpstreamLink{}, fmt.Errorf("upstream: the hub sent a malformed credential")
	}
	if _, err := wire.DecodeKey(resp.HubKey); err != nil {
		return store.UpstreamLink{}, fmt.Errorf("upstream: the hub sent a malformed key")
	}
	if resp.BoxID != "" && resp.BoxID != boxID {
		return store.UpstreamLink{}, fmt.Errorf("upstream: the hub enrolled box %s, not this box %s", resp.BoxID, boxID)
	}
	link := store.UpstreamLink{HubURL: resp.HubURL, Credential: resp.Credential, SchoolID: resp.SchoolID, SchoolName: resp.SchoolName,
		Region: resp.Region, HubKey: resp.HubKey, Enrolled: time.Now()}
	if err := db.SetUpstreamLink(ctx, link); err != nil {
		return store.UpstreamLink{}, err
	}
	return link, nil
}
