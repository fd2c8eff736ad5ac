package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// BenchmarkIngest measures the hub's ingest of batches of 2,000 realistic
// events, as they arrive from a box: decompress, decode, store (events
// and report rows) and answer. One op is one batch; events/s is the
// figure to read. On PostgreSQL it runs when STEMBOX_TEST_POSTGRES is set.
func BenchmarkIngest(b *testing.B) {
	for _, backend := range hubtest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			st, err := hub.OpenStore(context.Background(), backend.Target(b), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			tok, err := st.CreateSchool(ctx, "School", "Sughd", time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := st.Enroll(ctx, tok.Token, "BENCHBOX", "")
			if err != nil {
				b.Fatal(err)
			}
			id, _ := st.AuthBox(ctx, resp.Credential)
			g := upstreamtest.NewGen(1, 8, 30)
			const per = 2000
			var wireBytes int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				data, err := wire.Marshal(wire.Batch{BoxID: "BENCHBOX", Clock: wire.Clock{WallMS: time.Now().UnixMilli(), BootID: "b", MonoMS: 1}, Events: g.Events(per)})
				if err != nil {
					b.Fatal(err)
				}
				wireBytes += len(data)
				b.StartTimer()
				batch, err := wire.Unmarshal(data, wire.DefaultLimits)
				if err != nil {
					b.Fatal(err)
				}
				res, err := st.Ingest(ctx, id, batch, true, len(data))
				if err != nil {
					b.Fatal(err)
				}
				if res.Stored != per {
					b.Fatalf("stored %d of %d", res.Stored, per)
				}
			}
			b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(wireBytes)/float64(b.N*per), "wire-bytes/event")
		})
	}
}
