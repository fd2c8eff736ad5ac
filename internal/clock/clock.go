// Package clock tells the time the way a school box can know it: the wall
// clock, which may be wrong (a Raspberry Pi has no real-time clock and boots in
// the past until it reaches a time server), and the time since boot, which is
// right but only within one boot. Events carry both so the hub can correct
// wall times later.
package clock

import (
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Stamp is one reading of the box's clocks.
type Stamp struct {
	Wall   time.Time     // the wall clock, possibly wrong
	BootID string        // the kernel's id of this boot
	Uptime time.Duration // time since boot, counting suspend
}

// Clock gives Stamps.
type Clock interface {
	Now() Stamp
}

// System reads the kernel's clocks.
type System struct {
	once   sync.Once
	bootID string
}

// Now returns the current wall time, boot id and time since boot.
func (s *System) Now() Stamp {
	s.once.Do(func() {
		b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
		if err != nil {
			s.bootID = "unknown"
			return
		}
		s.bootID = strings.TrimSpace(string(b))
	})
	var ts unix.Timespec
	var up time.Duration
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err == nil {
		up = time.Duration(ts.Nano())
	}
	return Stamp{Wall: time.Now(), BootID: s.bootID, Uptime: up}
}

// Fixed is a Clock for tests that returns T with a fixed boot id, advancing by
// Step at every call.
type Fixed struct {
	mu   sync.Mutex
	T    time.Time
	Step time.Duration
	up   time.Duration
}

// Now returns the next fixed reading.
func (f *Fixed) Now() Stamp {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := Stamp{Wall: f.T, BootID: "test-boot", Uptime: f.up}
	f.T = f.T.Add(f.Step)
	f.up += f.Step
	return s
}

// Sim is a Clock for tests of a box without a real-time clock: each boot
// starts its wall clock where the test says (2019, 1970, …) and its time
// since boot at zero, under a boot id of its own, and both move only by
// Advance. faketime does not reach a Go binary; this does.
type Sim struct {
	mu   sync.Mutex
	wall time.Time
	up   time.Duration
	boot string
}

// NewSim returns a clock in boot bootID whose wall clock reads wall.
func NewSim(bootID string, wall time.Time) *Sim { return &Sim{wall: wall, boot: bootID} }

// Now returns the current reading.
func (s *Sim) Now() Stamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stamp{Wall: s.wall, BootID: s.boot, Uptime: s.up}
}

// Advance moves both clocks on by d.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wall = s.wall.Add(d)
	s.up += d
}

// Reboot starts a new boot: a new id, the wall clock set to wall, the
// time since boot back to zero.
func (s *Sim) Reboot(bootID string, wall time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.boot, s.wall, s.up = bootID, wall, 0
}
