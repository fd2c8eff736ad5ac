package ops_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/ops"
)

func TestRecentKeepsWarningsWithoutPersonalData(t *testing.T) {
	var out bytes.Buffer
	recent := ops.NewRecent(3)
	logger := slog.New(recent.Handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: ops.Redact})))
	logger.Info("ordinary", "n", 1)
	logger.Debug("hidden")
	logger.With("pack", "physics").Warn("pack problem", "err", errors.New("bad signature"), "text", "my secret answer")
	logger.WithGroup("req").Error("failed", "Cookie", "stembox_learner=01ABC", "path", "/x")
	logger.Error("long", "err", strings.Repeat("é", 400))
	logger.Error("fourth")

	recs := recent.Records()
	if len(recs) != 3 {
		t.Fatalf("kept %d records, want the last 3", len(recs))
	}
	if recs[0].Message != "fourth" || recs[2].Message != "failed" {
		t.Errorf("records not newest first: %q, %q, %q", recs[0].Message, recs[1].Message, recs[2].Message)
	}
	if got := recs[2].Attrs; got != "req.Cookie=[redacted] req.path=/x" {
		t.Errorf("attrs = %q", got)
	}
	if l := len(recs[1].Attrs); l > 400 {
		t.Errorf("a long value was kept whole (%d bytes)", l)
	}
	logged := out.String()
	for _, secret := range []string{"my secret answer", "01ABC"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds personal data %q:\n%s", secret, logged)
		}
	}
	if !strings.Contains(logged, "ordinary") || strings.Contains(logged, "hidden") {
		t.Errorf("the log's own level is not kept:\n%s", logged)
	}
	all := ops.NewRecent(50)
	slog.New(all.Handler(slog.NewTextHandler(&out, nil))).Warn("w", "pack", "physics", "text", "typed")
	if r := all.Records(); len(r) != 1 || r[0].Attrs != "pack=physics text=[redacted]" {
		t.Errorf("records = %+v", r)
	}
}

func TestDevices(t *testing.T) {
	var d ops.Devices
	now := time.Now().Unix()
	for i := range 200 {
		for range 3 {
			d.Seen("10.0.0."+strconv.Itoa(i%250)+":"+strconv.Itoa(40000+i), now)
		}
	}
	d.Seen("[fe80::1]:5555", now-600)
	d.Seen("127.0.0.1:4444", now)
	d.Seen("[::1]:4444", now)
	if n := d.Count(now - 300); n < 190 || n > 200 {
		t.Errorf("Count = %d, want about 200", n)
	}
	if n := d.Count(now - 900); n < 191 || n > 201 {
		t.Errorf("Count over 15 minutes = %d, want about 201", n)
	}
	if n := testing.AllocsPerRun(100, func() { d.Seen("192.168.1.20:1234", now) }); n != 0 {
		t.Errorf("Seen allocates %v times, want 0", n)
	}
}

func TestNotify(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := ops.Notify("READY=1"); sent || err != nil {
		t.Errorf("without a socket: sent %v, err %v; want nothing done", sent, err)
	}
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	if sent, err := ops.Notify("READY=1\nSTATUS=serving"); !sent || err != nil {
		t.Fatalf("sent %v, err %v", sent, err)
	}
	buf := make([]byte, 100)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1\nSTATUS=serving" {
		t.Errorf("received %q, %v", buf[:n], err)
	}

	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if got := ops.WatchdogInterval(); got != 30*time.Second {
		t.Errorf("WatchdogInterval = %v, want 30s", got)
	}
	t.Setenv("WATCHDOG_PID", "1")
	if got := ops.WatchdogInterval(); got != 0 {
		t.Errorf("watchdog meant for another process: %v, want 0", got)
	}
}

func TestProbes(t *testing.T) {
	d, err := ops.DiskUsage(t.TempDir())
	if err != nil || d.Total == 0 || d.Avail > d.Total {
		t.Errorf("DiskUsage = %+v, %v", d, err)
	}
	rss, err := ops.ProcessRSS()
	if err != nil || rss < 1<<20 {
		t.Errorf("ProcessRSS = %d, %v", rss, err)
	}
	m, err := ops.SystemMemory()
	if err != nil || m.Total == 0 || m.Available > m.Total {
		t.Errorf("SystemMemory = %+v, %v", m, err)
	}
}
