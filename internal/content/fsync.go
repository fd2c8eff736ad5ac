package content

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mitstem/stembox/internal/durable"
)

// writeFileAtomic writes data to a temporary file beside path, syncs it, and
// renames it over path, so a reader (or a power cut) sees either the old
// contents or the new, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("content: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("content: write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("content: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("content: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a directory's entries (new files, renames) durable.
func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	return nil
}
