package box

import (
	"net"
	"time"
)

// Time limits of the box's connections. The box does not set
// http.Server's ReadTimeout or WriteTimeout: each bounds a whole request or
// response, which cost every request two timer changes (on a cached lesson
// page, a few per cent of the box's time) and cut a long video to a slow
// phone at the limit however well it was flowing. Instead:
//
//   - ReadHeaderTimeout bounds a request's headers (slow senders),
//   - server.Server bounds the reading of a request's body, for the
//     requests that have one,
//   - the kernel drops a connection whose sent data has stayed
//     unacknowledged, or unsent behind a shut window, for userTimeout: a
//     phone switched off or gone out of range mid-download, or a client that
//     stopped reading. A slow download that moves is never cut.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	userTimeout       = 5 * time.Minute
)

// listen listens on addr for the box's HTTP server, giving every accepted
// connection the kernel's user timeout (TCP_USER_TIMEOUT, where the system
// has it).
func listen(addr string, timeout time.Duration) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return timeoutListener{l.(*net.TCPListener), timeout}, nil
}

type timeoutListener struct {
	*net.TCPListener
	timeout time.Duration
}

func (l timeoutListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	// Best effort: without it the connection still works, and a dead
	// peer is found by keep-alive probes.
	setUserTimeout(c, l.timeout)
	return c, nil
}
