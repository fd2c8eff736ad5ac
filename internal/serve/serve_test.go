package serve_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/serve"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// A request held open (like a websocket) ends when the context does, and
// Run then returns nil with the server closed.
func TestRunEndsWithItsContext(t *testing.T) {
	ln := listen(t)
	held := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(held)
		<-r.Context().Done()
	})}
	ctx, cancel := context.WithCancel(context.Background())
	taskEnded := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, srv, ln, time.Minute, func(ctx context.Context) error {
			<-ctx.Done()
			close(taskEnded)
			return nil
		})
	}()
	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-held
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after its context ended", err)
	}
	<-taskEnded
	io.Copy(io.Discard, resp.Body) // the held request has ended
	if _, err := http.Get("http://" + ln.Addr().String()); err == nil {
		t.Error("the server still answers after Run returned")
	}
}

// A failing task stops the server and is what Run returns.
func TestRunStopsOnATaskFailure(t *testing.T) {
	ln := listen(t)
	boom := errors.New("boom")
	err := serve.Run(context.Background(), &http.Server{Handler: http.NotFoundHandler()}, ln, time.Minute,
		func(ctx context.Context) error { return boom },
		func(ctx context.Context) error { <-ctx.Done(); return nil })
	if !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the task's error", err)
	}
}
