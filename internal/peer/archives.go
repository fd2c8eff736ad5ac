// Package peer copies content packs from one school box to another over the
// LAN: a box serves the archives of its installed packs, and another box (or
// stembox peer fetch) downloads one with HTTP range requests, resuming after
// an interruption, then installs it exactly as any pack from a USB stick:
// signature and every file's hash checked, installed atomically. A peer is
// never trusted more than a USB stick.
package peer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// Archives makes the archive of an installed pack, once, from its installed
// manifest, signature and files (content.WriteArchive is deterministic), and
// keeps it in a folder so that it can be served with range requests:
//
//	DIR/ID/VERSION-HASH-SHA256.stempack
//
// SHA256, of the archive itself, is the ETag a resuming download checks.
// Only the archive of the version being served is kept.
type Archives struct {
	dir string
	lib *content.Library

	mu   sync.Mutex
	busy map[string]*sync.Mutex // per pack id: one build at a time
}

// NewArchives returns the archive cache of lib's packs in dir.
func NewArchives(dir string, lib *content.Library) *Archives {
	return &Archives{dir: dir, lib: lib, busy: map[string]*sync.Mutex{}}
}

// Archive is an open archive file of an installed pack.
type Archive struct {
	*os.File
	Pack    *content.Pack
	Size    int64
	SHA256  string
	ModTime time.Time
}

// ETag is the archive's strong entity tag.
func (a *Archive) ETag() string { return `"` + a.SHA256 + `"` }

// Open returns the archive of the installed pack id, making it first if
// need be. The caller closes it.
func (a *Archives) Open(id string) (*Archive, error) {
	p, ok := a.lib.Pack(id)
	if !ok {
		return nil, failure.Errorf(failure.NotFound, "no pack %s is installed on this box", id)
	}
	a.mu.Lock()
	lock, ok := a.busy[id]
	if !ok {
		lock = &sync.Mutex{}
		a.busy[id] = lock
	}
	a.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()

	dir := filepath.Join(a.dir, id)
	path, sum, err := a.find(dir, p.Name)
	if err != nil {
		return nil, err
	}
	if path == "" {
		if path, sum, err = a.build(p, dir); err != nil {
			return nil, err
		}
		a.prune(dir, filepath.Base(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("peer: archive: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("peer: archive: %w", err)
	}
	return &Archive{File: f, Pack: p, Size: st.Size(), SHA256: sum, ModTime: st.ModTime()}, nil
}

// find looks for the archive of the installed version name.
func (a *Archives) find(dir, name string) (path, sum string, err error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("peer: archives: %w", err)
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), name+"-")
		if !ok || !strings.HasSuffix(rest, content.Extension) {
			continue
		}
		sum = strings.TrimSuffix(rest, content.Extension)
		if len(sum) == 64 && strings.Trim(sum, "0123456789abcdef") == "" {
			return filepath.Join(dir, e.Name()), sum, nil
		}
	}
	return "", "", nil
}

// build writes the archive of p into dir, checking every installed file
// against the manifest on the way: a box never passes on a pack its disk
// has damaged.
func (a *Archives) build(p *content.Pack, dir string) (path, sum string, err error) {
	manifest, err := os.ReadFile(filepath.Join(p.Dir, "manifest.json"))
	if err != nil {
		return "", "", fmt.Errorf("peer: archive of %s: %w", p.Manifest.ID, err)
	}
	sig, err := os.ReadFile(filepath.Join(p.Dir, "manifest.sig"))
	if err != nil {
		return "", "", fmt.Errorf("peer: archive of %s: %w", p.Manifest.ID, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("peer: archives: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".building-*")
	if err != nil {
		return "", "", fmt.Errorf("peer: archives: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 256<<10)
	err = content.WriteArchive(bw, manifest, sig, func(rel string) (io.ReadCloser, error) {
		fp, f, ok := p.FilePath(rel)
		if !ok {
			return nil, fmt.Errorf("the manifest does not list %s", rel)
		}
		fh, err := os.Open(fp)
		if err != nil {
			return nil, err
		}
		return &checkedFile{f: fh, want: f, h: sha256.New(), pack: p.Manifest.ID}, nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return "", "", fmt.Errorf("peer: archive of %s: %w", p.Manifest.ID, err)
	}
	if err = tmp.Close(); err != nil {
		return "", "", fmt.Errorf("peer: archive of %s: %w", p.Manifest.ID, err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	path = filepath.Join(dir, p.Name+"-"+sum+content.Extension)
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", "", fmt.Errorf("peer: archive of %s: %w", p.Manifest.ID, err)
	}
	return path, sum, nil
}

// prune removes the archives of other versions in dir, and the folders of
// packs no longer installed.
func (a *Archives) prune(dir, keep string) {
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if e.Name() != keep { // older versions, and builds a crash cut short
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	if entries, err := os.ReadDir(a.dir); err == nil {
		for _, e := range entries {
			if _, ok := a.lib.Pack(e.Name()); !ok && e.IsDir() {
				os.RemoveAll(filepath.Join(a.dir, e.Name()))
			}
		}
	}
}

// checkedFile reads an installed file, failing at its end if its size or
// hash differs from the manifest's.
type checkedFile struct {
	f    *os.File
	want content.File
	h    hash.Hash
	n    int64
	pack string
}

func (c *checkedFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if err == io.EOF && (c.n != c.want.Size || hex.EncodeToString(c.h.Sum(nil)) != c.want.SHA256) {
		return n, failure.Errorf(failure.Unavailable,
			"peer: the installed file %s of pack %s is damaged (it no longer matches its hash); reinstall the pack", c.want.Path, c.pack)
	}
	return n, err
}

func (c *checkedFile) Close() error { return c.f.Close() }
