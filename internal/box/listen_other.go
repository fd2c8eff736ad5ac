//go:build !linux

package box

import (
	"net"
	"time"
)

// setUserTimeout does nothing where TCP_USER_TIMEOUT is not known; dead
// peers are then found by keep-alive probes alone.
func setUserTimeout(*net.TCPConn, time.Duration) error { return nil }
