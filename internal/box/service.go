package box

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/mitstem/stembox/internal/metrics"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/server"
)

// The box as a service: its metrics, connection counting, and telling
// systemd when it is ready and that it is still alive.

// Metrics returns the box's metrics registry, on which any feature may
// register its own metrics (a live session's gauge, …).
func (b *Box) Metrics() *metrics.Registry { return b.metrics }

// registerMetrics registers the box's own metrics (the server registers
// its own in server.New).
func (b *Box) registerMetrics() {
	b.conns = b.metrics.Gauge(server.MetricHTTPConnections, "Open HTTP connections (keep-alive ones included; websockets leave this count once upgraded).")
	b.snapshotFailures = b.metrics.Counter("stembox_snapshot_failures_total", "Automatic snapshots that failed.")
	snapshotStat := func(f func([]Snapshot) float64) func() float64 {
		return func() float64 {
			snaps, err := Snapshots(SnapshotDir(b.cfg.DataDir))
			if err != nil {
				return math.NaN()
			}
			return f(snaps)
		}
	}
	b.metrics.GaugeFunc(server.MetricSnapshots, "Automatic snapshots kept.", snapshotStat(func(s []Snapshot) float64 { return float64(len(s)) }))
	b.metrics.GaugeFunc(server.MetricLastSnapshot, "When the newest automatic snapshot was written, in unix seconds (0: none).", snapshotStat(func(s []Snapshot) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[len(s)-1].ModTime.Unix())
	}))
	b.metrics.GaugeFunc("stembox_snapshot_bytes", "Total size of the kept automatic snapshots.", snapshotStat(func(s []Snapshot) float64 {
		var n int64
		for _, x := range s {
			n += x.Bytes
		}
		return float64(n)
	}))
}

// trackConn counts open connections (http.Server.ConnState).
func (b *Box) trackConn(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		b.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		b.conns.Add(-1)
	}
}

// serviceLoop tells systemd (Type=notify) that the box is ready once it
// serves, then, if the unit sets WatchdogSec, that it is alive at half that
// interval — but only while it answers its own /healthz, so a box that
// hangs is restarted. Without systemd it does nothing.
func (b *Box) serviceLoop(ctx context.Context) error {
	// Opening the box (hashing pack sources, loading packs, compressing
	// assets, and at a first start rendering every formula) leaves garbage
	// that an idle box would otherwise keep resident: give it back now.
	debug.FreeOSMemory()
	if sent, err := ops.Notify("READY=1\nSTATUS=serving"); err != nil {
		b.log.Warn("tell systemd the box is ready", "err", err)
	} else if sent {
		b.log.Debug("told systemd the box is ready")
	}
	defer ops.Notify("STOPPING=1")
	interval := ops.WatchdogInterval()
	if interval <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	client := &http.Client{Timeout: interval / 4, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + loopbackAddr(b.ln.Addr()) + "/healthz"
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := probe(ctx, client, url); err != nil {
			b.log.Warn("the box does not answer its own health check; systemd will restart it if this goes on", "err", err)
			continue
		}
		ops.Notify("WATCHDOG=1")
	}
}

func probe(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// loopbackAddr is an address to reach a listener from the box itself.
func loopbackAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
