package hub_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
)

// studioPack is the mini pack as box key k's pack quiz at version.
func studioPack(t *testing.T, k *content.Signer, version string) []byte {
	t.Helper()
	mini, _ := miniPack(t)
	return contenttest.Retag(t, mini, content.Namespace(k.Public().ID)+"quiz", version, k)
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A box's contribution is kept once by its hash; what it may send is its
// own key's packs in its namespace, whole, and nothing the hub refused
// leaves a trace.
func TestContributions(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 1", "Sughd", "box-1")
		boxKey, other := contenttest.Signer(t), contenttest.Signer(t)
		line := boxKey.Public().String()
		mini, _ := miniPack(t)

		// Refused, each with a clear error, binding no key.
		tampered := contenttest.Members(t, studioPack(t, boxKey, "1.0.0"))
		for name := range tampered {
			if strings.HasPrefix(name, "exercises/") {
				b := bytes.Clone(tampered[name])
				b[len(b)-2] ^= 1 // the same size, another hash
				tampered[name] = b
			}
		}
		refused := []struct {
			name, line string
			archive    []byte
			want       string
		}{
			{"outside its namespace", line, contenttest.Retag(t, mini, "mini", "1.0.0", boxKey), "trusts only for packs whose id starts with"},
			{"another box's namespace", line, contenttest.Retag(t, mini, content.Namespace(other.Public().ID)+"quiz", "1.0.0", boxKey), "trusts only for packs whose id starts with"},
			{"signed by another key", line, studioPack(t, other, "1.0.0"), "does not trust"},
			{"a file altered", line, contenttest.Zip(t, tampered), "hash"},
			{"not a pack", line, []byte("PK\x03\x04 nonsense"), "not a pack archive"},
			{"no box key", "", studioPack(t, boxKey, "1.0.0"), "the box's key"},
		}
		for _, r := range refused {
			_, err := st.Contribute(ctx, id, r.line, r.archive)
			if err == nil || !strings.Contains(err.Error(), r.want) {
				t.Errorf("%s: %v, want refused saying %q", r.name, err, r.want)
			}
		}
		if cs, _ := st.Contributions(ctx); len(cs) != 0 {
			t.Fatalf("refused contributions were kept: %+v", cs)
		}
		if ks, _ := st.BoundKeys(ctx); len(ks) != 0 {
			t.Fatalf("a refused contribution bound a key: %+v", ks)
		}

		// Taken, twice at once and again: one row.
		v1 := studioPack(t, boxKey, "1.0.0")
		var wg sync.WaitGroup
		results := make([]hub.ContributeResult, 4)
		for i := range results {
			wg.Go(func() {
				var err error
				if results[i], err = st.Contribute(ctx, id, line, v1); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		known := 0
		for _, r := range results {
			if r.SHA256 != shaOf(v1) || r.ID != content.Namespace(boxKey.Public().ID)+"quiz" || r.Version != "1.0.0" {
				t.Errorf("acknowledged %+v, want the archive sent", r)
			}
			if r.Known {
				known++
			}
		}
		if known < len(results)-1 {
			t.Errorf("%d of %d sends were new, want 1", len(results)-known, len(results))
		}
		cs, err := st.Contributions(ctx)
		if err != nil || len(cs) != 1 || cs[0].School != "School 1" || cs[0].BoxID != "box-1" || cs[0].Title != "Mini pack" {
			t.Fatalf("contributions %+v %v, want the one sent, of School 1", cs, err)
		}
		c, archive, err := st.Contribution(ctx, cs[0].SHA256)
		if err != nil || !bytes.Equal(archive, v1) || c.Version != "1.0.0" {
			t.Fatalf("contribution read back: %v, %d bytes", err, len(archive))
		}

		// The box comes with another key: refused until the operator resets it.
		_, err = st.Contribute(ctx, id, other.Public().String(), studioPack(t, other, "1.0.0"))
		if failure.KindOf(err) != failure.Conflict || !strings.Contains(err.Error(), "reset") {
			t.Fatalf("another key for the same box: %v, want a conflict the operator resolves", err)
		}
		if err := st.ResetBoxKey(ctx, "box-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Contribute(ctx, id, other.Public().String(), studioPack(t, other, "1.0.0")); err != nil {
			t.Fatalf("after the reset: %v", err)
		}
		ks, _ := st.BoundKeys(ctx)
		if len(ks) != 1 || ks[0].Key.ID != other.Public().ID || ks[0].School != "School 1" {
			t.Errorf("bound keys %+v, want the new one", ks)
		}
		if err := st.ResetBoxKey(ctx, "no-such-box"); failure.KindOf(err) != failure.NotFound {
			t.Errorf("reset of a box without a key: %v", err)
		}
	})
}

// Published re-signed: the same manifest (id, version, files) under the
// programme's signature; without a programme key, a clear refusal.
func TestPublishContributionResigned(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 1", "Sughd", "box-1")
		boxKey, programme := contenttest.Signer(t), contenttest.Signer(t)
		v1 := studioPack(t, boxKey, "1.0.0")
		if _, err := st.Contribute(ctx, id, boxKey.Public().String(), v1); err != nil {
			t.Fatal(err)
		}
		kr := content.NewKeyring(programme.Public())
		if _, err := st.PublishContribution(ctx, shaOf(v1), nil, kr, []hub.Requirement{{Scope: "all"}}); failure.KindOf(err) != failure.Unavailable || !strings.Contains(err.Error(), "--signing-key") {
			t.Errorf("publish without a programme key: %v", err)
		}
		res, err := st.PublishContribution(ctx, shaOf(v1), programme, kr, []hub.Requirement{{Scope: "region", Value: "Sughd"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ID != content.Namespace(boxKey.Public().ID)+"quiz" || res.Version != "1.0.0" {
			t.Errorf("published %s %s, want the contribution's id and version", res.ID, res.Version)
		}
		manifest, sig, err := st.PackManifest(ctx, res.ID, res.Version)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := content.InspectArchive(bytes.NewReader(v1), int64(len(v1)), content.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(manifest, orig.ManifestBytes) {
			t.Error("the published manifest differs from the contribution's")
		}
		if k, err := kr.Verify(manifest, sig); err != nil || k != programme.Public().ID {
			t.Errorf("the published pack is signed by %q (%v), want the programme's key", k, err)
		}
		cs, _ := st.Contributions(ctx)
		if len(cs) != 1 || cs[0].Published.IsZero() {
			t.Errorf("the contribution is not marked published: %+v", cs)
		}
		if _, err := st.PublishContribution(ctx, strings.Repeat("0", 64), programme, kr, nil); failure.KindOf(err) != failure.NotFound {
			t.Errorf("publishing an unknown contribution: %v", err)
		}
	})
}
