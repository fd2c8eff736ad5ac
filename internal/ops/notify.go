package ops

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Notify sends state ("READY=1", "WATCHDOG=1", "STOPPING=1", …) to the
// service manager over the datagram socket named by $NOTIFY_SOCKET, as
// systemd's sd_notify does. Without that variable (not started by systemd
// with Type=notify) it does nothing and returns false.
func Notify(state string) (bool, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return false, nil
	}
	if name[0] == '@' {
		name = "\x00" + name[1:] // a socket in the abstract namespace
	} else if name[0] != '/' {
		return false, fmt.Errorf("ops: notify: NOTIFY_SOCKET %q is neither a path nor abstract", name)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("ops: notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("ops: notify: %w", err)
	}
	return true, nil
}

// WatchdogInterval returns how often the service manager expects
// "WATCHDOG=1" ($WATCHDOG_USEC, when $WATCHDOG_PID is unset or this
// process), or 0 when no watchdog is set.
func WatchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}
