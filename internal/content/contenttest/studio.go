package contenttest

import (
	"testing"

	"github.com/mitstem/stembox/internal/content"
)

// Retag returns the built pack archive as pack id at version, signed by s:
// a box's studio pack (id content.Namespace(key.ID)+…, signed with the
// box's own key), or a pack a box's key must not sign.
func Retag(tb testing.TB, archive []byte, id, version string, s *content.Signer) []byte {
	tb.Helper()
	members := Members(tb, archive)
	editJSON(tb, members, "manifest.json", func(man map[string]any) {
		man["id"] = id
		man["version"] = version
	})
	return Repack(tb, members, s)
}
