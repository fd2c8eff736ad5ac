package ops

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MemoryLimit returns the memory the box may use: the machine's, or less
// when a control group sets a limit (a systemd unit's MemoryMax, a
// container's memory limit). 0 if neither is known.
func MemoryLimit() uint64 {
	var limit uint64
	if m, err := SystemMemory(); err == nil {
		limit = m.Total
	}
	if self, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		if n, ok := cgroupMemoryLimit("/sys/fs/cgroup", string(self)); ok && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return limit
}

// cgroupMemoryLimit returns the lowest memory limit set on the process's
// control group or any group above it, and whether one is set. root is where
// the cgroup file systems are mounted; self is /proc/self/cgroup. It reads
// both cgroup v2 (memory.max, "max" for none) and v1 (the memory
// controller's memory.limit_in_bytes, a huge number for none).
func cgroupMemoryLimit(root, self string) (uint64, bool) {
	var limit uint64
	found := false
	for _, line := range strings.Split(self, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		var dir, file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			dir, file = root, "memory.max"
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			dir, file = filepath.Join(root, "memory"), "memory.limit_in_bytes"
		default:
			continue
		}
		for p := parts[2]; ; p = path.Dir(p) {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p), file))
			if err == nil {
				n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
				if err == nil && (!found || n < limit) {
					limit, found = n, true
				}
			}
			if p == "/" {
				break
			}
		}
	}
	return limit, found
}
