package hub_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
)

// The hub refuses to publish a signed pack that no box could load, naming
// the file and the problem, and publishes nothing of it.
func TestPublishRefusesPacksNoBoxCouldLoad(t *testing.T) {
	archive, key := miniPack(t)
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		trusted := content.NewKeyring(key.Public())
		for _, kind := range contenttest.BrokenKinds() {
			broken := contenttest.Break(t, archive, key, "2.0.0", kind)
			_, err := st.Publish(ctx, bytes.NewReader(broken), int64(len(broken)), trusted, []hub.Requirement{{Scope: "region", Value: "Sughd"}})
			if err == nil || !strings.Contains(err.Error(), kind.Want) {
				t.Errorf("%s: publish: err = %v, want refused with %q", kind.Name, err, kind.Want)
			}
		}
		if packs, _ := st.Packs(ctx); len(packs) != 0 {
			t.Errorf("refused packs left %d published", len(packs))
		}
	})
}

// A blob left by an earlier publish that failed never vouches for a file of
// a later publish: every file of every publish is checked.
func TestPublishChecksFilesTheHubHoldsAlready(t *testing.T) {
	archive, key := miniPack(t)
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		trusted := content.NewKeyring(key.Public())
		// 1.1.0: its last file does not match its hash, so the publish
		// fails after the files before it were read.
		m := contenttest.Members(t, archive)
		contenttest.SetVersion(t, m, "1.1.0")
		contenttest.Sign(t, m, key)
		m["media/graph.svg"] = bytes.ToUpper(m["media/graph.svg"])
		failing := contenttest.Zip(t, m)
		if _, err := st.Publish(ctx, bytes.NewReader(failing), int64(len(failing)), trusted, nil); err == nil {
			t.Fatal("a pack whose file does not match its hash was published")
		}
		// 1.2.0: the graph is right again, but the first exercise set is
		// not the one its hash names (a blob the hub may hold already).
		m = contenttest.Members(t, archive)
		contenttest.SetVersion(t, m, "1.2.0")
		contenttest.Sign(t, m, key)
		m["exercises/quiz.json"] = bytes.Replace(m["exercises/quiz.json"], []byte(`"weight":1`), []byte(`"weight":0`), 1)
		lying := contenttest.Zip(t, m)
		_, err := st.Publish(ctx, bytes.NewReader(lying), int64(len(lying)), trusted, nil)
		if err == nil || !strings.Contains(err.Error(), "exercises/quiz.json does not match its hash") {
			t.Errorf("publish of a file that does not match its hash: err = %v, want refused", err)
		}
		if packs, _ := st.Packs(ctx); len(packs) != 0 {
			t.Errorf("refused packs left %d published", len(packs))
		}
	})
}
