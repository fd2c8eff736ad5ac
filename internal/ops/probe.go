package ops

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Disk is the size and free space of a file system.
type Disk struct {
	Total uint64 // bytes
	Free  uint64 // bytes free, including those reserved for root
	Avail uint64 // bytes free for an unprivileged user, as the box runs
}

// DiskUsage returns the size and free space of the file system holding path.
func DiskUsage(path string) (Disk, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return Disk{}, fmt.Errorf("ops: disk usage of %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return Disk{Total: st.Blocks * bs, Free: st.Bfree * bs, Avail: st.Bavail * bs}, nil
}

// ProcessRSS returns the resident memory of this process, in bytes.
func ProcessRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("ops: memory: %w", err)
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("ops: memory: /proc/self/statm is %q", b)
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("ops: memory: %w", err)
	}
	return pages * uint64(os.Getpagesize()), nil
}

// Memory is the machine's memory.
type Memory struct {
	Total     uint64 // bytes
	Available uint64 // bytes that programs can still get without swapping
}

// SystemMemory reads the machine's memory from /proc/meminfo.
func SystemMemory() (Memory, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return Memory{}, fmt.Errorf("ops: memory: %w", err)
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseUint(string(fields[1]), 10, 64)
		if err != nil {
			continue
		}
		switch string(fields[0]) {
		case "MemTotal:":
			m.Total = kb << 10
		case "MemAvailable:":
			m.Available = kb << 10
		}
	}
	if m.Total == 0 {
		return m, fmt.Errorf("ops: memory: no MemTotal in /proc/meminfo")
	}
	return m, sc.Err()
}
