package hub_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
)

// Operators changing the key list at once (two hub processes, two
// terminals) each get their change in, one after the other: every key
// listed, every serial used once, the list signed by the root.
func TestKeyListConcurrentChanges(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			target, dir := b.Target(t), t.TempDir()
			stores := []*hub.Store{mustOpenStore(t, target, dir), mustOpenStore(t, target, dir)}
			root := contenttest.Signer(t)
			keys := make([]content.PublicKey, 12)
			for i := range keys {
				keys[i] = contenttest.Signer(t).Public()
			}
			var wg sync.WaitGroup
			serials := make(chan int64, len(keys))
			for i, k := range keys {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := stores[i%2].UpdateKeyList(context.Background(), root, hub.AddListedKey(k, "", time.Now()))
					if err != nil {
						t.Error(err)
						return
					}
					serials <- s.List.Serial
				}()
			}
			wg.Wait()
			close(serials)
			seen := map[int64]bool{}
			for s := range serials {
				if seen[s] {
					t.Errorf("serial %d given twice", s)
				}
				seen[s] = true
			}
			raw, err := stores[0].KeyList(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			kr := content.NewKeyring(root.Public())
			ch, err := kr.AcceptKeyList(raw)
			if err != nil || ch.Serial != int64(len(keys)) || len(ch.Added) != len(keys) {
				t.Fatalf("the list after %d changes: %+v, %v", len(keys), ch, err)
			}
			// Refused changes change nothing.
			other := contenttest.Signer(t)
			if _, err := stores[0].UpdateKeyList(context.Background(), other, hub.AddListedKey(other.Public(), "", time.Now())); err == nil || !strings.Contains(err.Error(), "same root key") {
				t.Errorf("a change signed by another key: %v, want refused", err)
			}
			if _, err := stores[0].UpdateKeyList(context.Background(), root, hub.RevokeListedKey(root.Public().ID, content.RevokedKey{})); err == nil || !strings.Contains(err.Error(), "cannot revoke it") {
				t.Errorf("revoking the root: %v, want refused", err)
			}
			if _, err := stores[0].UpdateKeyList(context.Background(), root, hub.RevokeListedKey(keys[0].ID, content.RevokedKey{})); err != nil {
				t.Fatal(err)
			}
			if _, err := stores[0].UpdateKeyList(context.Background(), root, hub.AddListedKey(keys[0], "", time.Now())); err == nil || !strings.Contains(err.Error(), "never trusted again") {
				t.Errorf("adding a revoked key again: %v, want refused", err)
			}
			if raw2, _ := stores[1].KeyList(context.Background()); !strings.Contains(string(raw2), `"serial":13`) {
				t.Errorf("after the refused changes the list is %.80s…, want serial 13", raw2)
			}
		})
	}
}

// GET /api/v1/keys: 404 without a list, the list with its ETag, 304 for
// that ETag; boxes only (and operators).
func TestKeyListEndpoint(t *testing.T) {
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	get := func(auth, inm string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", h.URL+"/api/v1/keys", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, b.String()
	}
	if resp, _ := get("", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a credential: %d, want 401", resp.StatusCode)
	}
	cred := h.Operator // boxes and operators may read it
	if resp, _ := get(cred, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no list: %d, want 404", resp.StatusCode)
	}
	root := contenttest.Signer(t)
	if _, err := h.Store().UpdateKeyList(context.Background(), root, hub.AddListedKey(contenttest.Signer(t).Public(), "", time.Now())); err != nil {
		t.Fatal(err)
	}
	resp, body := get(cred, "")
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || tag != content.KeyListETag([]byte(body)) || !strings.Contains(body, content.KeyListFormat) {
		t.Fatalf("the list: %d, ETag %q, body %.60q", resp.StatusCode, tag, body)
	}
	if resp, _ := get(cred, `"other", `+tag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match naming it: %d, want 304", resp.StatusCode)
	}
}
