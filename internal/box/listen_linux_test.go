package box

import (
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestListenerDropsClientsThatStopReading: the box's connections carry the
// kernel's user timeout, so a client that stops reading in the middle of a
// download (a phone gone out of range, or one that never meant to read) is
// dropped once nothing has moved for that long, freeing its goroutine,
// while a connection that keeps reading is never cut.
func TestListenerDropsClientsThatStopReading(t *testing.T) {
	const timeout = 500 * time.Millisecond
	l, err := listen("127.0.0.1:0", timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	// A small receive buffer, so the client's window shuts soon.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
	}}
	client, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	raw, _ := conn.(*net.TCPConn).SyscallConn()
	var ms int
	raw.Control(func(fd uintptr) { ms, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT) })
	if err != nil || ms != int(timeout.Milliseconds()) {
		t.Fatalf("accepted connection's TCP_USER_TIMEOUT = %d ms (%v), want %d", ms, err, timeout.Milliseconds())
	}

	// The client reads a while, then stops; the server writes on.
	chunk := make([]byte, 64<<10)
	go func() {
		buf := make([]byte, 64<<10)
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			if _, err := client.Read(buf); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	var written int
	for {
		n, err := conn.Write(chunk)
		written += n
		if err != nil {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("still writing after %s to a client that stopped reading", time.Since(start).Round(time.Millisecond))
		}
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("connection dropped after %s, while the client was still reading", took.Round(time.Millisecond))
	} else {
		t.Logf("dropped %s after the client stopped reading (%d KB sent)", (took - time.Second).Round(time.Millisecond), written>>10)
	}
}
