package content

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// Refusal says, in a word a page can translate, why a box refused a pack
// archive. The error's own text stays English, for the command line and
// the logs; RefusalOf finds the word in it.
type Refusal string

// The refusals RefusalOf tells apart. Other refusals (a manifest that does
// not validate, an exercise that cannot be graded, …) have none: the page
// shows that the pack is not a valid one.
const (
	RefusedNotPack      Refusal = "not_pack"      // not a zip, or a zip without manifest.json
	RefusedDamaged      Refusal = "damaged"       // a zip cut short or corrupted (a copy that did not finish)
	RefusedTooBig       Refusal = "too_big"       // over the box's Limits
	RefusedUnsigned     Refusal = "unsigned"      // no manifest.sig
	RefusedUntrusted    Refusal = "untrusted"     // signed by a key the box does not trust (or that was revoked)
	RefusedBadSignature Refusal = "bad_signature" // the signature does not match the manifest
	RefusedAltered      Refusal = "altered"       // a file's size or hash differs from the manifest's
	RefusedOlder        Refusal = "older"         // older than the version installed
	RefusedOtherBuild   Refusal = "other_build"   // another build of the version installed
)

// refusal gives an error a Refusal; it reads as the error it wraps.
type refusal struct {
	why Refusal
	err error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refused(why Refusal, err error) error { return &refusal{why: why, err: err} }

// RefusalOf returns why err refused a pack archive, or "" when it does not
// say (or err is nil).
func RefusalOf(err error) Refusal {
	var r *refusal
	if errors.As(err, &r) {
		return r.why
	}
	return ""
}

// zipMagic starts a zip file's first entry.
const zipMagic = "PK\x03\x04"

// unreadableZip is the refusal of an archive archive/zip cannot open: a
// zip file cut short (its directory is at the end) is damaged; anything
// else is not a pack.
func unreadableZip(r io.ReaderAt) Refusal {
	head := make([]byte, len(zipMagic))
	if n, _ := r.ReadAt(head, 0); n == len(head) && string(head) == zipMagic {
		return RefusedDamaged
	}
	return RefusedNotPack
}

// signatureRefusal says why sig, which Verify refused, was refused.
func (kr *Keyring) signatureRefusal(sig []byte) Refusal {
	id, _, err := signatureKeyID(sig)
	if err != nil {
		return RefusedBadSignature
	}
	kr.mu.RLock()
	_, ok := kr.key(id)
	kr.mu.RUnlock()
	if !ok {
		return RefusedUntrusted
	}
	return RefusedBadSignature
}

// CreateTemp creates a file in the library's staging folder, on the same
// disk as the packs and emptied when the library is opened: where a pack
// that arrives as a stream (an upload) is written before Install reads it.
// The caller removes it.
func (l *Library) CreateTemp(pattern string) (*os.File, error) {
	if err := os.MkdirAll(l.staging(), 0o755); err != nil {
		return nil, err
	}
	return os.CreateTemp(l.staging(), filepath.Base(pattern))
}
