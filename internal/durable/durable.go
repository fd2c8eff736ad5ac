// Package durable makes what was written to disk survive a power cut,
// which on a school's box is an everyday event.
package durable

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// SyncDir makes a directory's entries (new files, renames) durable. A file
// system that cannot sync a directory (EINVAL) has nothing to do.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
