package wire_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"testing"

	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// fuzzLimits are small, so that the fuzzer reaches the limits' checks.
var fuzzLimits = wire.Limits{MaxEvents: 500, MaxDecoded: 1 << 20, MaxPayload: 4 << 10}

// FuzzUnmarshal feeds the decoder what a hostile box or a damaged USB stick
// could send, before compression (the fuzzer learns the columnar format, not
// gzip's). Every input must be refused as malformed or too large, or decode
// to a batch that encodes again and decodes to itself: what the hub stores is
// exactly what it was sent.
func FuzzUnmarshal(f *testing.F) {
	g := upstreamtest.NewGen(3, 3, 8)
	f.Add(rawBatch(f, wire.Batch{BoxID: "box", Clock: wire.Clock{WallMS: 1700000000000, BootID: "b", MonoMS: 9}, Events: g.Events(40)}))
	g.Reboot()
	f.Add(rawBatch(f, wire.Batch{BoxID: "box", Events: g.Events(3)}))
	f.Add(rawBatch(f, wire.Batch{BoxID: "box", Events: []wire.Event{
		{Seq: 7, ID: "not-a-ulid", Kind: "k", Payload: []byte(`{"a":{"b":[1,"}"]},"t":"Салом"}`)},
		{Seq: 9, ID: "01HZY3J2Q9K8S0M6V4T7B5N1XC", Kind: "k", Payload: []byte(`[1, 2]`)},
	}}))
	f.Add(rawBatch(f, wire.Batch{BoxID: "box"}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := wire.Unmarshal(gz(raw), fuzzLimits)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrTooLarge) {
				t.Fatalf("error %v is neither malformed nor too large", err)
			}
			return
		}
		if len(b.Events) > fuzzLimits.MaxEvents {
			t.Fatalf("decoded %d events, more than the limit %d", len(b.Events), fuzzLimits.MaxEvents)
		}
		again, err := wire.Marshal(b)
		if err != nil {
			t.Fatalf("a decoded batch does not encode again: %v", err)
		}
		b2, err := wire.Unmarshal(again, wire.DefaultLimits)
		if err != nil {
			t.Fatalf("a re-encoded batch does not decode: %v", err)
		}
		if !reflect.DeepEqual(b2, b) {
			t.Fatalf("decode, encode, decode changed the batch:\n got %+v\nwant %+v", b2, b)
		}
	})
}

// FuzzReadBundle feeds the bundle reader whole files, as the hub's import
// page and `stembox hub import` get them from USB sticks. A file is refused
// with a clear error or read into batches that the decoder then judges; the
// signature check never passes for a file the box's key did not sign.
func FuzzReadBundle(f *testing.F) {
	cred := wire.NewCredential(wire.BoxPrefix)
	key := wire.BundleKey(cred.Secret)
	pub := key.Public().(ed25519.PublicKey)
	g := upstreamtest.NewGen(4, 2, 5)
	batch, err := wire.Marshal(wire.Batch{BoxID: "box", Events: g.Events(20)})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	h := wire.BundleHeader{BoxID: "box", Credential: cred.ID, FirstSeq: 1, LastSeq: 20, Events: 20}
	if err := wire.WriteBundle(&buf, h, [][]byte{batch}, key); err != nil {
		f.Fatal(err)
	}
	signed := buf.Bytes()
	f.Add(signed)
	f.Add(signed[:len(signed)/2])
	f.Add([]byte("stembox-bundle 1\n{}\n\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		b, err := wire.ReadBundle(bytes.NewReader(file), 1<<20)
		if err != nil {
			return
		}
		if b.Verify(pub) == nil {
			// The signature covers the header, the header the body's hash:
			// whatever verifies holds exactly the events the box wrote.
			if b.Header.BoxID != h.BoxID || b.Header.Events != h.Events || len(b.Batches) != 1 || !bytes.Equal(b.Batches[0], batch) {
				t.Fatalf("a bundle verifies with the box's key but holds other events: %+v", b.Header)
			}
		}
		for i, raw := range b.Batches {
			if _, err := wire.Unmarshal(raw, fuzzLimits); err != nil && !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrTooLarge) {
				t.Fatalf("batch %d: error %v is neither malformed nor too large", i, err)
			}
		}
	})
}
