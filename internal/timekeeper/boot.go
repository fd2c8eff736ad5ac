// Package timekeeper estimates the true time on a box that has no real-time
// clock and, often, no network. Its wall clock may say 2019 or 1970 after a
// power cut; its time since boot is right, but only within one boot. So the
// box dates each boot instead of each event: once it knows when a boot
// began in true time, every event of that boot is at that start plus its
// time since boot, and a better estimate that comes later in the boot (or
// at the hub, weeks later) re-dates them all at once.
//
// What the box learns the time from, best first when the uncertainty is
// the same:
//
//   - the hub, when a sync succeeds (Hub): its time, within half the
//     round trip;
//   - the class's devices (Devices): phones and laptops, whose clocks the
//     mobile network sets, tell the box their time with their requests; the
//     weighted median of several distinct devices, outliers dropped (MAD),
//     teachers' devices weighing more, is within a second or so;
//   - the last known good time saved to disk (Saved): a boot begins after
//     the latest time an earlier boot knew it was running, so the box never
//     goes back in time; a lower bound only, off by how long the box was
//     off;
//   - its own wall clock (BoxClock): when nothing else is known.
//
// docs/sync-protocol.md ("Time") is the contract.
package timekeeper

import (
	"time"
)

// Source says where an estimate of the time came from.
type Source string

// The sources, best first.
const (
	Hub      Source = "hub"
	Devices  Source = "devices"
	Saved    Source = "saved"
	BoxClock Source = "box-clock"
)

// Unknown is the uncertainty of an estimate that is only a lower bound
// (Saved) or a guess (BoxClock).
const Unknown time.Duration = -1

// rank orders sources, best first.
func (s Source) rank() int {
	switch s {
	case Hub:
		return 0
	case Devices:
		return 1
	case Saved:
		return 2
	}
	return 3
}

// Valid reports whether s is one of the sources.
func (s Source) Valid() bool {
	switch s {
	case Hub, Devices, Saved, BoxClock:
		return true
	}
	return false
}

// Boot is what is known of when one boot of the box began.
type Boot struct {
	ID     string
	Start  time.Time     // the true time the boot began, as estimated
	Source Source        // where the estimate came from
	Err    time.Duration // how far off it may be, either way; Unknown for Saved and BoxClock
	// Seen is the longest time since boot at which the box knew itself
	// running in this boot: Start+Seen is a time that has passed.
	Seen time.Duration
}

// At is the true time of a moment of the boot, given its time since boot.
func (b Boot) At(uptime time.Duration) time.Time { return b.Start.Add(uptime) }

// Known reports whether the estimate has a known uncertainty.
func (b Boot) Known() bool { return b.Err >= 0 }

// Better reports whether b is a better estimate of its boot's start than o:
// a known uncertainty beats an unknown one, a smaller one a larger one;
// between two lower bounds, the later is the tighter.
func (b Boot) Better(o Boot) bool {
	switch {
	case b.Known() != o.Known():
		return b.Known()
	case b.Known() && b.Err != o.Err:
		return b.Err < o.Err
	case b.Source.rank() != o.Source.rank():
		return b.Source.rank() < o.Source.rank()
	}
	return !b.Known() && b.Start.After(o.Start)
}

// Replaces reports whether b, a newer estimate of the same boot, should
// replace o: when it is better, and also when both come from the devices
// (the newer one has heard more of them, and a few devices that agreed on
// a wrong time must not win for the rest of the boot).
func (b Boot) Replaces(o Boot) bool {
	if b.Source == Devices && o.Source == Devices {
		return true
	}
	return b.Better(o)
}

// Merge returns what to keep of a boot given a stored estimate o and a
// newer one b: the one b.Replaces, with the longer Seen of the two.
func Merge(o, b Boot) Boot {
	out := o
	if b.Replaces(o) {
		out = b
	}
	out.Seen = max(o.Seen, b.Seen)
	return out
}
