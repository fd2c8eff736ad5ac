package content

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/failure"
)

const (
	manifestName  = "manifest.json"
	signatureName = "manifest.sig"
	// Extension is the file extension of a built pack.
	Extension = ".stempack"
)

// Limits bound what a box accepts from an archive it did not make.
type Limits struct {
	MaxArchive  int64 // bytes of the archive file
	MaxTotal    int64 // bytes of all files once extracted
	MaxFiles    int
	MaxManifest int64
}

// DefaultLimits suit a school box with a small SD card.
var DefaultLimits = Limits{MaxArchive: 4 << 30, MaxTotal: 4 << 30, MaxFiles: 50000, MaxManifest: 8 << 20}

// ArchiveName is the file name of a built pack.
func ArchiveName(id, version string) string { return id + "-" + version + Extension }

// WriteArchive writes a pack archive: the manifest, its signature, then every
// file the manifest lists, read with open. The output depends only on its
// inputs (fixed times, manifest order), so builds are reproducible.
func WriteArchive(w io.Writer, manifest, sig []byte, open func(path string) (io.ReadCloser, error)) error {
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("pack: write: manifest: %w", err)
	}
	zw := zip.NewWriter(w)
	put := func(name string, method uint16, r io.Reader) error {
		hdr := &zip.FileHeader{Name: name, Method: method, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
		hdr.SetMode(0o644)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		_, err = io.Copy(fw, r)
		return err
	}
	if err := put(manifestName, zip.Deflate, bytes.NewReader(manifest)); err != nil {
		return fmt.Errorf("pack: write manifest: %w", err)
	}
	if err := put(signatureName, zip.Store, bytes.NewReader(sig)); err != nil {
		return fmt.Errorf("pack: write signature: %w", err)
	}
	for _, f := range m.Files {
		r, err := open(f.Path)
		if err != nil {
			return fmt.Errorf("pack: write %s: %w", f.Path, err)
		}
		err = put(f.Path, compressionFor(f.Path), r)
		r.Close()
		if err != nil {
			return fmt.Errorf("pack: write %s: %w", f.Path, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack: write: %w", err)
	}
	return nil
}

// compressionFor stores files that are compressed already.
func compressionFor(p string) uint16 {
	switch strings.ToLower(path.Ext(p)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".webm", ".woff2", ".zip", ".gz":
		return zip.Store
	}
	return zip.Deflate
}

// Archive is a pack archive whose signature and manifest have been checked.
// Its files are checked as they are read.
type Archive struct {
	Manifest      Manifest
	ManifestBytes []byte
	Signature     []byte
	KeyID         string // the trusted key that signed it

	entries map[string]*zip.File
}

func invalid(format string, args ...any) error {
	return failure.Errorf(failure.Invalid, "pack: "+format, args...)
}

// OpenArchive checks a pack archive: that it is a zip within limits, that the
// manifest is signed by a key in kr, that the manifest is valid, and that the
// archive holds exactly the files the manifest lists, each a regular file with
// the declared size. File contents are checked when read (Open).
func OpenArchive(r io.ReaderAt, size int64, kr *Keyring, lim Limits) (*Archive, error) {
	if kr == nil {
		return nil, fmt.Errorf("pack: no keyring to verify the signature with")
	}
	a, err := openArchive(r, size, kr, lim)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// InspectArchive checks a pack archive as OpenArchive does, except that it
// does not check who signed it (KeyID is left empty): for inspecting a pack
// or signing it anew, never for installing one.
func InspectArchive(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	a, err := openArchive(r, size, nil, lim)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// openArchive is OpenArchive, except that when the signature verified but
// the pack is refused it returns the archive as far as it was read too.
func openArchive(r io.ReaderAt, size int64, kr *Keyring, lim Limits) (*Archive, error) {
	if size > lim.MaxArchive {
		return nil, refused(RefusedTooBig, invalid("archive is %d bytes, more than the %d this box accepts", size, lim.MaxArchive))
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, refused(unreadableZip(r), invalid("not a pack archive (%v)", err))
	}
	if len(zr.File) > lim.MaxFiles+2 {
		return nil, refused(RefusedTooBig, invalid("archive holds %d files, more than the %d this box accepts", len(zr.File), lim.MaxFiles))
	}
	a := &Archive{entries: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") && f.UncompressedSize64 == 0 && f.Mode().IsDir() {
			if err := CheckPath(strings.TrimSuffix(name, "/")); err != nil {
				return nil, invalid("%v", err)
			}
			continue // directories are implied by file paths
		}
		if name != manifestName && name != signatureName {
			if err := CheckPath(name); err != nil {
				return nil, invalid("%v", err)
			}
		}
		if !f.Mode().IsRegular() {
			return nil, invalid("%s is a %s, not a regular file", name, modeName(f.Mode()))
		}
		if _, dup := a.entries[name]; dup {
			return nil, invalid("%s appears twice in the archive", name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return nil, invalid("%s uses an unsupported compression method %d", name, f.Method)
		}
		a.entries[name] = f
	}
	if a.ManifestBytes, err = a.readSmall(manifestName, lim.MaxManifest); err != nil {
		return nil, err
	}
	if a.Signature, err = a.readSmall(signatureName, 4096); err != nil {
		return nil, err
	}
	if kr != nil {
		if a.KeyID, err = kr.Verify(a.ManifestBytes, a.Signature); err != nil {
			return nil, refused(kr.signatureRefusal(a.Signature), invalid("%v", err))
		}
	}
	// Unknown fields are ignored, so older boxes read packs from newer
	// builders; an incompatible change raises Format instead.
	if err := json.Unmarshal(a.ManifestBytes, &a.Manifest); err != nil {
		return a, invalid("manifest.json: %v", err)
	}
	if err := a.Manifest.Validate(); err != nil {
		return a, invalid("%v", err)
	}
	if len(a.Manifest.Files) > lim.MaxFiles {
		return a, refused(RefusedTooBig, invalid("manifest lists %d files, more than the %d this box accepts", len(a.Manifest.Files), lim.MaxFiles))
	}
	if total := a.Manifest.TotalSize(); total > lim.MaxTotal {
		return a, refused(RefusedTooBig, invalid("pack expands to %d bytes, more than the %d this box accepts", total, lim.MaxTotal))
	}
	for _, mf := range a.Manifest.Files {
		zf, ok := a.entries[mf.Path]
		if !ok {
			return a, invalid("manifest lists %s, but the archive lacks it", mf.Path)
		}
		if zf.UncompressedSize64 != uint64(mf.Size) {
			return a, refused(RefusedAltered, invalid("%s is %d bytes in the archive but %d in the manifest", mf.Path, zf.UncompressedSize64, mf.Size))
		}
	}
	for name := range a.entries {
		if name == manifestName || name == signatureName {
			continue
		}
		if _, ok := a.Manifest.File(name); !ok {
			return a, invalid("archive holds %s, which the manifest does not list", name)
		}
	}
	return a, nil
}

func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsDir():
		return "directory"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	}
	return "special file"
}

func (a *Archive) readSmall(name string, limit int64) ([]byte, error) {
	zf, ok := a.entries[name]
	if !ok {
		why := RefusedNotPack
		if name == signatureName {
			why = RefusedUnsigned
		}
		return nil, refused(why, invalid("the archive has no %s (is it signed?)", name))
	}
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, invalid("%s is larger than the %d bytes a box accepts", name, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	if int64(len(b)) > limit || uint64(len(b)) != zf.UncompressedSize64 {
		return nil, invalid("%s expands beyond its declared size", name)
	}
	return b, nil
}

// Open returns a reader of a file of the pack. It fails with an error if the
// file holds more bytes than the manifest declares, fewer, or bytes whose
// SHA-256 differs; the error comes at the latest with the final Read.
func (a *Archive) Open(p string) (io.ReadCloser, error) {
	mf, ok := a.Manifest.File(p)
	if !ok {
		return nil, failure.Errorf(failure.NotFound, "pack: no file %s", p)
	}
	rc, err := a.entries[p].Open()
	if err != nil {
		return nil, invalid("%s: %v", p, err)
	}
	return &checkedReader{rc: rc, file: mf, h: sha256.New()}, nil
}

// VerifyAll reads every file and checks its size and hash.
func (a *Archive) VerifyAll() error {
	for _, f := range a.Manifest.Files {
		r, err := a.Open(f.Path)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

type checkedReader struct {
	rc   io.ReadCloser
	file File
	h    hash.Hash
	n    int64
}

func (c *checkedReader) Read(p []byte) (int, error) {
	// Never read more than one byte past the declared size, however much the
	// stream would expand to.
	if rest := c.file.Size + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.rc.Read(p)
	c.n += int64(n)
	if c.n > c.file.Size {
		return 0, refused(RefusedAltered, invalid("%s expands beyond its declared %d bytes", c.file.Path, c.file.Size))
	}
	c.h.Write(p[:n])
	if err == io.EOF {
		if c.n != c.file.Size {
			return n, refused(RefusedAltered, invalid("%s holds %d bytes, not the declared %d", c.file.Path, c.n, c.file.Size))
		}
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.file.SHA256 {
			return n, refused(RefusedAltered, invalid("%s does not match its hash in the manifest (the file was altered)", c.file.Path))
		}
	} else if errors.Is(err, zip.ErrFormat) {
		// archive/zip stops a stream that outgrows the size in its header.
		return n, refused(RefusedDamaged, invalid("%s expands beyond its declared %d bytes, or is damaged", c.file.Path, c.file.Size))
	} else if errors.Is(err, zip.ErrChecksum) {
		return n, refused(RefusedDamaged, invalid("%s is damaged (its checksum does not match)", c.file.Path))
	} else if err != nil {
		return n, invalid("%s: %v", c.file.Path, err)
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.rc.Close() }
