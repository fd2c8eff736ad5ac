package ops

import (
	"strings"
	"sync/atomic"
)

// deviceSlots is the size of Devices' table: with 300 devices, about five
// share a slot with another and are counted once (an under-count of 2 %).
const deviceSlots = 1 << 14

// Devices estimates how many distinct devices (client addresses) were seen
// recently. Seen is called for every request: it hashes the address into a
// fixed table of last-seen times, taking no lock and allocating nothing, and
// keeps no address. Count is therefore approximate: two devices whose
// addresses share a slot count once.
type Devices struct {
	slots [deviceSlots]atomic.Int64 // unix seconds the slot was last seen; 0: never
}

// Seen records a request from remoteAddr ("ip:port", as in
// http.Request.RemoteAddr) at now (unix seconds). Requests from the box
// itself (loopback) are not counted.
func (d *Devices) Seen(remoteAddr string, now int64) {
	host := remoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if strings.HasPrefix(host, "127.") || host == "[::1]" {
		return // the box itself (its watchdog, an operator's ssh tunnel) is no student's device
	}
	// FNV-1a.
	h := uint64(14695981039346656037)
	for i := 0; i < len(host); i++ {
		h ^= uint64(host[i])
		h *= 1099511628211
	}
	s := &d.slots[h%deviceSlots]
	if s.Load() != now { // most requests find it already set: no write, no cache-line ping-pong
		s.Store(now)
	}
}

// Count returns how many devices were seen at or after since (unix seconds).
func (d *Devices) Count(since int64) int {
	n := 0
	for i := range d.slots {
		if d.slots[i].Load() >= since {
			n++
		}
	}
	return n
}
