package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Enroll turns a one-time enrollment token into this box's credential for
// the hub at hubURL, and stores it. A box enrolled before is enrolled
// anew (a new credential; the old one should be revoked on the hub).
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
	body, _ := json.Marshal(wire.EnrollRequest{Token: token, BoxID: boxID, Name: name})
	c := &hubClient{http: client, base: base, userAgent: "stembox/" + version}
	var resp wire.EnrollResponse
	if err := c.json(ctx, http.MethodPost, wire.PathEnroll, body, map[string]string{"Content-Type": "application/json"}, &resp); err != nil {
		return store.UpstreamLink{}, fmt.Errorf("upstream: enroll: %w", err)
	}
	resp.HubURL = base
	return saveLink(ctx, db, resp, boxID)
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
