package wire_test

import (
	"testing"

	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// BenchmarkMarshal encodes batches of 2,000 realistic events, as a box
// does before each request, and reports bytes per event on the wire.
func BenchmarkMarshal(b *testing.B) {
	g := upstreamtest.NewGen(1, 4, 30)
	evs := g.Events(2000)
	var size int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data, err := wire.Marshal(wire.Batch{BoxID: "01JBOXBOXBOXBOXBOXBOXBOXBO", Events: evs})
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size)/float64(len(evs)), "wire-bytes/event")
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkUnmarshal decodes them, as the hub does.
func BenchmarkUnmarshal(b *testing.B) {
	g := upstreamtest.NewGen(1, 4, 30)
	evs := g.Events(2000)
	data, err := wire.Marshal(wire.Batch{BoxID: "01JBOXBOXBOXBOXBOXBOXBOXBO", Events: evs})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := wire.Unmarshal(data, wire.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
