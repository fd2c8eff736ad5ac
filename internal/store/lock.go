package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Lock is an exclusive lock on a database, held by the process that serves
// it (stembox serve) so that a restore cannot swap the file under a running
// box. It is an flock on a file next to the database: the kernel drops it
// when the process dies, so a power cut or SIGKILL never leaves a stale lock.
type Lock struct {
	f *os.File
}

// ErrLocked is returned by Acquire when another process holds the lock.
var ErrLocked = errors.New("the database is in use by a running stembox")

// LockPath is the lock file of the database at path.
func LockPath(path string) string { return path + ".lock" }

// Acquire takes the lock of the database at path without waiting, or returns
// an error wrapping ErrLocked.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(LockPath(path), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("store: %s: %w (stop it first, e.g. systemctl stop stembox)", path, ErrLocked)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock back.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
