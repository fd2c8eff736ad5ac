package contenttest

import (
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
)

// KeyList returns a key list with this serial, trusting listed and
// revoking the key ids revoked, signed by root.
func KeyList(tb testing.TB, root *content.Signer, serial int64, listed []content.PublicKey, revoked ...string) []byte {
	tb.Helper()
	kl := content.KeyList{Format: content.KeyListFormat, Serial: serial, Issued: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for _, k := range listed {
		kl.Keys = append(kl.Keys, content.ListedKey{Key: k.String(), Note: "test", Added: kl.Issued})
	}
	for _, id := range revoked {
		kl.Revoked = append(kl.Revoked, content.RevokedKey{ID: id, Reason: "leaked", Revoked: kl.Issued})
	}
	raw, err := kl.Sign(root)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}
