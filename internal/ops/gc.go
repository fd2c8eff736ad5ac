package ops

import (
	"fmt"
	"os"
	"runtime/debug"
)

// The box's garbage-collection policy. Go's default (GOGC=100) collects
// whenever the heap has doubled; the box's heap at rest is about 10 MB
// (templates, catalogues, pack metadata), so under a class's load it
// collected several times a second, each time marking that whole heap: a
// lesson page cost about a tenth more than with GOGC=400 (`make bench`). A
// box has hundreds of megabytes it does not use, so it lets the heap grow
// to five times what is live before collecting, under a soft limit of a
// quarter of the machine's memory: near the limit the runtime collects as
// often as it must, so a busy box spends CPU rather than run out of memory.
// (docs/install.md: what it costs in memory, and how to override it.)
const (
	gcPercent        = 400
	memoryLimitShare = 4        // the limit is this fraction of the machine's memory
	minMemoryLimit   = 64 << 20 // on a tiny machine, still room to work
)

// GCPolicy is how the Go runtime collects garbage in a box.
type GCPolicy struct {
	Percent int   // as GOGC
	Limit   int64 // soft memory limit in bytes, as GOMEMLIMIT; 0 for none
	// GOGCSet and GOMEMLIMITSet say that the environment chose (an
	// operator's override, applied by the runtime itself).
	GOGCSet, GOMEMLIMITSet bool
}

// String describes the policy for the log.
func (p GCPolicy) String() string {
	gc, limit := fmt.Sprintf("GOGC=%d", p.Percent), "no memory limit"
	if p.GOGCSet {
		gc = "GOGC from the environment"
	}
	switch {
	case p.GOMEMLIMITSet:
		limit = "GOMEMLIMIT from the environment"
	case p.Limit > 0:
		limit = fmt.Sprintf("memory limit %d MB", p.Limit>>20)
	}
	return gc + ", " + limit
}

// ChooseGCPolicy returns the box's policy when it may use memTotal bytes of
// memory (0 if unknown), leaving alone what getenv says GOGC or GOMEMLIMIT
// set.
func ChooseGCPolicy(getenv func(string) string, memTotal uint64) GCPolicy {
	p := GCPolicy{Percent: gcPercent, GOGCSet: getenv("GOGC") != "", GOMEMLIMITSet: getenv("GOMEMLIMIT") != ""}
	if memTotal > 0 && !p.GOMEMLIMITSet {
		p.Limit = max(int64(memTotal/memoryLimitShare), minMemoryLimit)
	}
	return p
}

// ApplyGCPolicy chooses the box's policy for this machine (its memory, or
// its control group's limit when lower) and environment, and sets it in the
// running program.
func ApplyGCPolicy() GCPolicy {
	p := ChooseGCPolicy(os.Getenv, MemoryLimit())
	p.Apply()
	return p
}

// Apply sets the policy in the running program.
func (p GCPolicy) Apply() {
	if !p.GOGCSet {
		debug.SetGCPercent(p.Percent)
	}
	if !p.GOMEMLIMITSet && p.Limit > 0 {
		debug.SetMemoryLimit(p.Limit)
	}
}
