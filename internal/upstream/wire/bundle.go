package wire

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A sneakernet bundle is a file:
//
//	stembox-bundle 1\n
//	{header JSON}\n
//	BASE64 Ed25519 signature of the two lines above\n
//	the batches: each a uvarint length and a batch as Marshal makes it
//
// The header names the box, its credential and the SHA-256 of the batches,
// so the signature covers every byte. A box that was offline for months
// writes many batches (of up to 5,000 events); the hub stores each in a
// transaction of its own, having checked the whole file first. The hub's acknowledgement is
//
//	stembox-ack 1\n
//	{ack JSON}\n
//	BASE64 Ed25519 signature of the two lines above by the hub's key\n

const (
	bundleMagic = "stembox-bundle 1\n"
	ackMagic    = "stembox-ack 1\n"
	// BundleExt and AckExt are the file extensions.
	BundleExt = ".stembundle"
	AckExt    = ".stemack"
)

// ErrBadSignature marks a bundle or acknowledgement whose signature does
// not verify: altered, or made by someone else.
var ErrBadSignature = errors.New("the signature does not match (the file was altered, or made by another box or hub)")

// BundleHeader describes a bundle.
type BundleHeader struct {
	BoxID      string            `json:"box_id"`
	Credential string            `json:"credential"` // the credential's id, never its secret
	School     string            `json:"school"`
	Created    Clock             `json:"created"`
	FirstSeq   int64             `json:"first_seq"`
	LastSeq    int64             `json:"last_seq"`
	Events     int               `json:"events"`
	Batches    int               `json:"batches"`
	BodySHA256 string            `json:"body_sha256"`
	BodyBytes  int64             `json:"body_bytes"`
	Packs      map[string]string `json:"packs,omitempty"` // installed pack id → version, so the hub can send updates back
	Boots      []BootTime        `json:"boots,omitempty"` // the box's estimates of when the boots of these events (and of Created) began
	// Contributions are the SHA-256s of the box's teachers' packs written
	// beside the bundle (BOXID-SHA16.stemcontrib), signed by BoxKey, the
	// box's own public key line: the hub takes those files only.
	Contributions []string `json:"contributions,omitempty"`
	BoxKey        string   `json:"box_key,omitempty"`
}

// ContribExt is the extension of a box's contribution (a teachers' pack)
// on a USB stick: not .stempack, so that a box importing the stick never
// installs another box's contributions.
const ContribExt = ".stemcontrib"

// ContribFileName is the name of a contribution on a stick, beside the
// bundle that names it: BOXID-SHA16.stemcontrib.
func ContribFileName(boxID, sha string) string {
	if len(sha) > 16 {
		sha = sha[:16]
	}
	return boxID + "-" + sha + ContribExt
}

// Bundle is a read bundle, not yet verified.
type Bundle struct {
	Header  BundleHeader
	Batches [][]byte // compressed, as Marshal made them
	signed  []byte   // the lines the signature covers
	sig     []byte
}

// WriteBundle writes a bundle of batches (Marshal's output), signed with
// key.
func WriteBundle(w io.Writer, h BundleHeader, batches [][]byte, key ed25519.PrivateKey) error {
	var body bytes.Buffer
	for _, b := range batches {
		putUvarint(&body, uint64(len(b)))
		body.Write(b)
	}
	sum := sha256.Sum256(body.Bytes())
	h.Batches = len(batches)
	h.BodySHA256 = hex.EncodeToString(sum[:])
	h.BodyBytes = int64(body.Len())
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("wire: bundle header: %w", err)
	}
	signed := append([]byte(bundleMagic), append(hj, '\n')...)
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, signed))
	if _, err := w.Write(append(signed, sig+"\n"...)); err != nil {
		return err
	}
	_, err = w.Write(body.Bytes())
	return err
}

// ReadBundle reads a bundle of at most max bytes. It checks the form and
// that the batch matches the header's hash; Verify checks the signature.
func ReadBundle(r io.Reader, max int64) (*Bundle, error) {
	br := bufio.NewReader(io.LimitReader(r, max+1))
	signed, sig, err := readSigned(br, bundleMagic, "bundle")
	if err != nil {
		return nil, err
	}
	b := &Bundle{signed: signed, sig: sig}
	if err := json.Unmarshal(signed[len(bundleMagic):], &b.Header); err != nil {
		return nil, fmt.Errorf("%w: bundle header: %v", ErrMalformed, err)
	}
	if b.Header.BodyBytes < 0 || b.Header.BodyBytes > max {
		return nil, fmt.Errorf("%w: a bundle of %d bytes", ErrTooLarge, b.Header.BodyBytes)
	}
	body, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: the bundle is larger than %d bytes", ErrTooLarge, max)
	}
	if int64(len(body)) != b.Header.BodyBytes {
		return nil, fmt.Errorf("%w: the bundle holds %d bytes of events, its header says %d (cut short?)", ErrMalformed, len(body), b.Header.BodyBytes)
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != b.Header.BodySHA256 {
		return nil, fmt.Errorf("%w: the events do not match the bundle's hash (altered or damaged)", ErrBadSignature)
	}
	r2 := &reader{b: body}
	for len(r2.b) > 0 && r2.err == nil {
		n := r2.uvarint()
		if n > uint64(len(r2.b)) {
			return nil, fmt.Errorf("%w: a batch of the bundle is cut short", ErrMalformed)
		}
		b.Batches = append(b.Batches, r2.bytes(int(n)))
	}
	if r2.err != nil || len(b.Batches) != b.Header.Batches {
		return nil, fmt.Errorf("%w: the bundle's batches do not match its header", ErrMalformed)
	}
	return b, nil
}

// Verify checks the bundle's signature with the box's public bundle key.
func (b *Bundle) Verify(pub ed25519.PublicKey) error {
	if !ed25519.Verify(pub, b.signed, b.sig) {
		return ErrBadSignature
	}
	return nil
}

// SHA256 identifies the bundle: the hash of its signed header.
func (b *Bundle) SHA256() string {
	sum := sha256.Sum256(b.signed)
	return hex.EncodeToString(sum[:])
}

func readSigned(br *bufio.Reader, magic, what string) (signed, sig []byte, err error) {
	line, err := br.ReadString('\n')
	if err != nil || line != magic {
		return nil, nil, fmt.Errorf("%w: not a stembox %s (or a newer format)", ErrMalformed, what)
	}
	head, err := br.ReadBytes('\n')
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s header: %v", ErrMalformed, what, err)
	}
	signed = append([]byte(magic), head...)
	sigLine, err := br.ReadString('\n')
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s signature missing", ErrMalformed, what)
	}
	sig, err = base64.StdEncoding.DecodeString(strings.TrimSuffix(sigLine, "\n"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, nil, fmt.Errorf("%w: %s signature malformed", ErrMalformed, what)
	}
	return signed, sig, nil
}

// Ack is the hub's acknowledgement of a bundle.
type Ack struct {
	BoxID      string `json:"box_id"`
	Credential string `json:"credential"`
	Bundle     string `json:"bundle"`    // the bundle's SHA256()
	AckedSeq   int64  `json:"acked_seq"` // the highest seq the hub now holds contiguously along the line of the box's latest epoch
	Stored     int    `json:"stored"`    // events of the bundle that were new
	HubMS      int64  `json:"hub_ms"`    // when the hub imported it
	// Streams acknowledges each epoch the bundle held events of, as an
	// online push of its last batch would have been answered (omitted by
	// hubs before epochs).
	Streams []StreamAck `json:"streams,omitempty"`
	// DivergedAt, when not 0, says the hub holds another event than the
	// bundle's at that seq of epoch DivergedEpoch: the bundle was stored up
	// to the batch before, and the box goes on under a new epoch from
	// DivergedAt − 1, as after an online batch refused as diverged.
	DivergedAt    int64  `json:"diverged_at,omitempty"`
	DivergedEpoch string `json:"diverged_epoch,omitempty"`
	// Contributions are the SHA-256s of the bundle's contributions the hub
	// holds now: the box sends them no more.
	Contributions []string `json:"contributions,omitempty"`
}

// StreamAck is the hub's word on one epoch of a box: it holds the line of
// Epoch contiguously up to AckedSeq, where it holds the event AckedID.
type StreamAck struct {
	Epoch    string `json:"epoch"`
	AckedSeq int64  `json:"acked_seq"`
	AckedID  string `json:"acked_id,omitempty"`
}

// WriteAck writes an acknowledgement signed with the hub's key.
func WriteAck(w io.Writer, a Ack, key ed25519.PrivateKey) error {
	aj, err := json.Marshal(a)
	if err != nil {
		return err
	}
	signed := append([]byte(ackMagic), append(aj, '\n')...)
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, signed))
	_, err = w.Write(append(signed, sig+"\n"...))
	return err
}

// ReadAck reads and verifies an acknowledgement with the hub's public key.
func ReadAck(r io.Reader, hub ed25519.PublicKey) (Ack, error) {
	br := bufio.NewReader(io.LimitReader(r, 64<<10))
	signed, sig, err := readSigned(br, ackMagic, "acknowledgement")
	if err != nil {
		return Ack{}, err
	}
	if !ed25519.Verify(hub, signed, sig) {
		return Ack{}, ErrBadSignature
	}
	var a Ack
	if err := json.Unmarshal(signed[len(ackMagic):], &a); err != nil {
		return Ack{}, fmt.Errorf("%w: acknowledgement: %v", ErrMalformed, err)
	}
	return a, nil
}

// IsAck reports whether data starts like an acknowledgement file.
func IsAck(data []byte) bool { return bytes.HasPrefix(data, []byte(ackMagic)) }

// IsBundle reports whether data starts like a bundle file.
func IsBundle(data []byte) bool { return bytes.HasPrefix(data, []byte(bundleMagic)) }
