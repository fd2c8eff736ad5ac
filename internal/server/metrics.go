package server

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"time"

	"github.com/mitstem/stembox/internal/metrics"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/store"
)

// devicesWindow is how recently a device must have made a request to count
// as connected.
const devicesWindow = 5 * time.Minute

// registerMetrics puts the server's metrics on the box's registry: requests
// (counted in logRequests), connected devices, the event log and its sync
// backlog, the data directory's disk and the database, packs, writes, and
// the process's memory. Values that cost a syscall or a query are read only
// when /metrics is scraped.
func (s *Server) registerMetrics() {
	reg := s.ops.metrics
	s.ops.requests = reg.Requests()
	reg.Info("stembox_build_info", "The running stembox's version.", map[string]string{"version": s.ops.version, "goversion": runtime.Version()})
	started := float64(s.ops.started.Unix())
	reg.GaugeFunc("stembox_start_time_seconds", "When this stembox started, in unix seconds (by the box's clock, which may be wrong).", func() float64 { return started })
	reg.GaugeFunc("stembox_devices_connected", "Distinct client addresses seen in the last 5 minutes (approximate).", func() float64 {
		return float64(s.ops.devices.Count(time.Now().Add(-devicesWindow).Unix()))
	})
	reg.GaugeFunc("stembox_events_last_seq", "The highest event sequence number in the box's log.", func() float64 {
		return float64OrNaN(s.lastSeq())
	})
	reg.GaugeFunc("stembox_sync_acknowledged_seq", "The highest event sequence number the hub has acknowledged (0: never synced).", func() float64 {
		st, err := s.syncState()
		if err != nil {
			return math.NaN()
		}
		return float64(st.AckedSeq)
	})
	reg.GaugeFunc("stembox_sync_backlog_events", "Events not yet acknowledged by the hub.", func() float64 {
		last, err := s.lastSeq()
		st, err2 := s.syncState()
		if err != nil || err2 != nil {
			return math.NaN()
		}
		return float64(max(last-st.AckedSeq, 0))
	})
	reg.GaugeFunc("stembox_sync_last_success_time_seconds", "When the hub last acknowledged events, in unix seconds (0: never).", func() float64 {
		st, err := s.syncState()
		if err != nil {
			return math.NaN()
		}
		if st.LastSuccess.IsZero() {
			return 0
		}
		return float64(st.LastSuccess.Unix())
	})
	reg.GaugeFunc("stembox_disk_free_bytes", "Free space on the data directory's file system.", func() float64 {
		d, err := ops.DiskUsage(s.dataDir())
		if err != nil {
			return math.NaN()
		}
		return float64(d.Avail)
	})
	reg.GaugeFunc("stembox_disk_size_bytes", "Size of the data directory's file system.", func() float64 {
		d, err := ops.DiskUsage(s.dataDir())
		if err != nil {
			return math.NaN()
		}
		return float64(d.Total)
	})
	reg.GaugeFunc("stembox_db_size_bytes", "Size of the database, with its write-ahead log.", func() float64 {
		return float64(s.dbSize())
	})
	reg.GaugeFunc("stembox_packs_served", "Content packs being served.", func() float64 { return float64(len(s.lib.Packs())) })
	reg.GaugeFunc("stembox_pack_problems", "Installed packs that cannot be served.", func() float64 { return float64(len(s.lib.Problems())) })
	reg.CounterFunc("stembox_store_commits_total", "Write transactions committed (each holds a group of answers).", func() float64 {
		return float64(s.db.WriteStats().Batches)
	})
	reg.CounterFunc("stembox_store_writes_total", "Answers and other grouped writes committed to disk.", func() float64 {
		return float64(s.db.WriteStats().Writes)
	})
	reg.CounterFunc("stembox_store_write_failures_total", "Grouped writes that failed (a full disk, a conflicting id, …).", func() float64 {
		return float64(s.db.WriteStats().Failures)
	})
	reg.GaugeFunc("stembox_process_resident_memory_bytes", "Resident memory of the stembox process.", func() float64 {
		rss, err := ops.ProcessRSS()
		if err != nil {
			return math.NaN()
		}
		return float64(rss)
	})
	reg.GaugeFunc("stembox_go_heap_bytes", "Bytes of live and not yet freed Go heap objects.", func() float64 {
		return runtimeValue("/memory/classes/heap/objects:bytes")
	})
	reg.GaugeFunc("stembox_goroutines", "Goroutines.", func() float64 { return runtimeValue("/sched/goroutines:goroutines") })
}

// handleMetrics serves every metric in the Prometheus text format. The
// numbers hold no personal data, so any device on the LAN may scrape them.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := s.ops.metrics.WriteText(&b); err != nil {
		s.log.Error("metrics", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// dataDir is the box's data directory: the database's.
func (s *Server) dataDir() string { return filepath.Dir(s.db.Path()) }

func (s *Server) lastSeq() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.db.LastSeq(ctx)
}

// syncState is where upstream sync stands: what the hub has acknowledged,
// and when.
func (s *Server) syncState() (store.UpstreamState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.db.UpstreamState(ctx)
}

func (s *Server) dbSize() int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(s.db.Path() + suffix); err == nil {
			n += st.Size()
		}
	}
	return n
}

func float64OrNaN(v int64, err error) float64 {
	if err != nil {
		return math.NaN()
	}
	return float64(v)
}

func runtimeValue(name string) float64 {
	sample := []rtmetrics.Sample{{Name: name}}
	rtmetrics.Read(sample)
	if sample[0].Value.Kind() != rtmetrics.KindUint64 {
		return math.NaN()
	}
	return float64(sample[0].Value.Uint64())
}
