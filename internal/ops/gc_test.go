package ops_test

import (
	"runtime/debug"
	"testing"

	"github.com/mitstem/stembox/internal/ops"
)

func TestChooseGCPolicy(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		name     string
		env      map[string]string
		memTotal uint64
		want     ops.GCPolicy
	}{
		{"a 1 GB box", nil, 1 << 30, ops.GCPolicy{Percent: 400, Limit: 256 << 20}},
		{"a 4 GB box", nil, 4 << 30, ops.GCPolicy{Percent: 400, Limit: 1 << 30}},
		{"a tiny machine still gets room", nil, 128 << 20, ops.GCPolicy{Percent: 400, Limit: 64 << 20}},
		{"memory unknown: no limit", nil, 0, ops.GCPolicy{Percent: 400}},
		{"the operator's GOGC wins", map[string]string{"GOGC": "50"}, 1 << 30, ops.GCPolicy{Percent: 400, Limit: 256 << 20, GOGCSet: true}},
		{"the operator's GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "300MiB"}, 1 << 30, ops.GCPolicy{Percent: 400, GOMEMLIMITSet: true}},
	} {
		if got := ops.ChooseGCPolicy(env(c.env), c.memTotal); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestGCPolicyApply(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })

	ops.GCPolicy{Percent: 400, Limit: 256 << 20}.Apply()
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GC percent %d after Apply, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Errorf("memory limit %d after Apply, want %d", got, 256<<20)
	}

	// What the environment set is left as the runtime read it.
	debug.SetGCPercent(77)
	debug.SetMemoryLimit(123 << 20)
	ops.GCPolicy{Percent: 400, Limit: 256 << 20, GOGCSet: true, GOMEMLIMITSet: true}.Apply()
	if got := debug.SetGCPercent(100); got != 77 {
		t.Errorf("GC percent %d, want the environment's 77", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("memory limit %d, want the environment's", got)
	}
	if s := (ops.GCPolicy{Percent: 400, Limit: 256 << 20}).String(); s != "GOGC=400, memory limit 256 MB" {
		t.Errorf("String() = %q", s)
	}
}
