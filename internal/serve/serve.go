// Package serve runs an HTTP server and the background work that goes with
// it, as one unit: it all starts together, the first failure or the end of
// the context stops it all, and the server then shuts down gracefully.
// Both the box and the hub run this way.
package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// Run serves srv on ln, and runs each task, until ctx ends or one of them
// fails. Requests' contexts (srv.BaseContext) end with it, so long-lived
// ones such as websockets close; the server then gets grace to finish the
// rest. It returns the first error.
func Run(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, tasks ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv.BaseContext = func(net.Listener) context.Context { return ctx }
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), grace)
		defer scancel()
		return srv.Shutdown(sctx)
	})
	for _, task := range tasks {
		g.Go(func() error { return task(gctx) })
	}
	return g.Wait()
}
