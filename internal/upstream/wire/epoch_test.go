package wire_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestEpochBatches: a batch of a named epoch travels as version 2 with its
// epoch, base and parent; a batch of epoch "" is version 1, byte for byte
// what boxes before epochs sent, so older hubs read it. Streams that make
// no sense are refused both ways.
func TestEpochBatches(t *testing.T) {
	g := upstreamtest.NewGen(2, 3, 10)
	evs := g.Events(200)
	for i := range evs {
		evs[i].Seq += 367
	}
	b := wire.Batch{BoxID: "01BOX", Stream: wire.Stream{Epoch: "01EPOCH", Base: 367, Parent: ""}, Clock: wire.Clock{WallMS: 1, BootID: "b"}, Events: evs}
	roundTrip(t, b)
	if v := version(t, b); v != 2 {
		t.Errorf("a named epoch's batch is version %d, want 2", v)
	}
	b.Stream = wire.Stream{}
	roundTrip(t, b)
	if v := version(t, b); v != 1 {
		t.Errorf("epoch \"\"'s batch is version %d, want 1 (what older hubs read)", v)
	}

	bad := map[string]wire.Stream{
		"event at the base":    {Epoch: "E", Base: evs[0].Seq, Parent: ""},
		"epoch \"\" with base": {Base: 3},
		"own parent":           {Epoch: "E", Base: 1, Parent: "E"},
		"negative base":        {Epoch: "E", Base: -1},
		"long epoch":           {Epoch: string(bytes.Repeat([]byte("e"), wire.MaxEpochLen+1))},
	}
	for name, s := range bad {
		if _, err := wire.Marshal(wire.Batch{BoxID: "b", Stream: s, Events: evs}); err == nil {
			t.Errorf("%s: marshal succeeded, want an error", name)
		}
	}
	// A decoder meets the same checks: a version 2 batch naming no epoch,
	// or with an event at its base, is malformed.
	v1 := rawBatch(t, wire.Batch{BoxID: "b", Events: evs[:3]})
	rest := v1[4+2:] // after "SBE" 1 and the box id "b"
	v2 := func(epoch string, base int64) []byte {
		out := append([]byte("SBE\x02\x01b"), byte(len(epoch)))
		out = append(out, epoch...)
		out = binary.AppendUvarint(out, uint64(base))
		out = append(out, 0) // parent ""
		return gz(append(out, rest...))
	}
	if _, err := wire.Unmarshal(v2("E", evs[0].Seq-1), wire.DefaultLimits); err != nil {
		t.Fatalf("a well-made version 2 batch: %v", err)
	}
	if _, err := wire.Unmarshal(v2("", 0), wire.DefaultLimits); err == nil {
		t.Error("a version 2 batch without an epoch was accepted")
	}
	if _, err := wire.Unmarshal(v2("E", evs[0].Seq), wire.DefaultLimits); err == nil {
		t.Error("a batch with an event at its epoch's base was accepted")
	}
}

func version(t *testing.T, b wire.Batch) byte {
	t.Helper()
	return rawBatch(t, b)[3]
}
