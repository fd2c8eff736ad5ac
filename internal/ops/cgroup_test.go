package ops

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	root := t.TempDir()
	write := func(rel, value string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// cgroup v2, as systemd runs the box's unit with MemoryMax=300M.
	write("system.slice/stembox.service/memory.max", "314572800")
	write("system.slice/memory.max", "max")
	// cgroup v1: the group itself is unlimited, its parent is not.
	write("memory/lxc/box/memory.limit_in_bytes", "9223372036854771712")
	write("memory/lxc/memory.limit_in_bytes", "1073741824")
	// A v2 group with no limit anywhere.
	write("user.slice/memory.max", "max")

	for _, c := range []struct {
		name, self string
		want       uint64
		ok         bool
	}{
		{"v2 unit limit", "0::/system.slice/stembox.service\n", 300 << 20, true},
		{"v1 parent limit", "12:cpu,cpuacct:/\n4:memory:/lxc/box\n0::/\n", 1 << 30, true},
		{"v2 without limit", "0::/user.slice\n", 0, false},
		{"no memory controller", "3:cpuset:/\n", 0, false},
		{"nothing readable", "", 0, false},
	} {
		got, ok := cgroupMemoryLimit(root, c.self)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if n := MemoryLimit(); n == 0 {
		t.Error("MemoryLimit() = 0 on this machine, which has /proc/meminfo")
	}
}
