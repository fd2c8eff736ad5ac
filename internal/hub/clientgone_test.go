package hub_test

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// A box that cuts its batch short (its link dropped, its request timed
// out) is logged as a client that went away, at info level with status
// 499 — never as an error with status 500.
func TestClientThatGoesAwayIsNoServerError(t *testing.T) {
	var logs logtest.Buffer
	h := hubtest.StartLogging(t, t.TempDir(), "", hub.Config{}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	box, _ := enrollOverHTTP(t, h, "School", "box-1")
	for i := range 3 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Encoding: gzip\r\nContent-Length: 50000\r\n\r\n%s",
			wire.PathEvents, box.token, wire.MediaType, strings.Repeat("x", 1000*(i+1)))
		conn.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(logs.String(), "client went away") < 3 || strings.Count(logs.String(), "status=499") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the hub did not log the clients that went away, with status 499:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
		t.Errorf("a client that went away was logged as a server error:\n%s", out)
	}
}
