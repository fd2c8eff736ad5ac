package content

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
)

// ErrShortHead says the first bytes of an archive, its manifest and
// signature, have not all arrived yet.
var ErrShortHead = errors.New("pack: the archive's manifest has not all arrived yet")

const (
	localHeaderSig = 0x04034b50
	descriptorSig  = 0x08074b50
	maxSignature   = 4096
)

// ReadArchiveHead reads the manifest and the signature from the start of a
// pack archive as WriteArchive lays it out (manifest.json first, then
// manifest.sig), as its bytes arrive: a download can be judged (who signed
// it, how large it may be) long before its end. It returns ErrShortHead if
// r ends before both are read.
func ReadArchiveHead(r io.Reader, maxManifest int64) (manifest, sig []byte, err error) {
	br := bufio.NewReader(r)
	short := func(err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrShortHead
		}
		return err
	}
	if manifest, err = readHeadEntry(br, manifestName, maxManifest); err != nil {
		return nil, nil, short(err)
	}
	if sig, err = readHeadEntry(br, signatureName, maxSignature); err != nil {
		return nil, nil, short(err)
	}
	return manifest, sig, nil
}

// readHeadEntry reads one entry of the archive's start: its local header,
// its data, and its data descriptor if it has one.
func readHeadEntry(br *bufio.Reader, name string, limit int64) ([]byte, error) {
	var h [30]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint32(h[0:]) != localHeaderSig {
		return nil, invalid("not a pack archive: it does not start with %s", name)
	}
	flags, method := le.Uint16(h[6:]), le.Uint16(h[8:])
	csize := int64(le.Uint32(h[18:]))
	nameLen, extraLen := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))
	got := make([]byte, nameLen)
	if _, err := io.ReadFull(br, got); err != nil {
		return nil, err
	}
	if string(got) != name {
		return nil, invalid("not a pack archive as boxes share it: its entry %q comes where %s belongs", abbreviate(string(got)), name)
	}
	if _, err := br.Discard(extraLen); err != nil {
		return nil, err
	}
	hasDescriptor := flags&0x8 != 0
	var data []byte
	switch {
	case method == 8: // deflate ends itself
		fr := flate.NewReader(br)
		b, err := io.ReadAll(io.LimitReader(fr, limit+1))
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, err
			}
			return nil, invalid("%s is damaged: %v", name, err)
		}
		data = b
	case method == 0 && !hasDescriptor:
		if csize > limit {
			return nil, invalid("%s is larger than the %d bytes a box accepts", name, limit)
		}
		data = make([]byte, csize)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, err
		}
	case method == 0:
		// Stored, its size in the descriptor that follows it: find that.
		for {
			b, err := br.ReadByte()
			if err != nil {
				return nil, err
			}
			data = append(data, b)
			if n := len(data); n >= 4 && le.Uint32(data[n-4:]) == descriptorSig {
				data = data[:n-4]
				break
			}
			if int64(len(data)) > limit+4 {
				return nil, invalid("%s is larger than the %d bytes a box accepts", name, limit)
			}
		}
		var d [12]byte // crc, compressed and uncompressed size
		if _, err := io.ReadFull(br, d[:]); err != nil {
			return nil, err
		}
		if int(le.Uint32(d[4:])) != len(data) {
			return nil, invalid("%s is damaged", name)
		}
		return data, nil
	default:
		return nil, invalid("%s uses an unsupported compression method %d", name, method)
	}
	if int64(len(data)) > limit {
		return nil, invalid("%s is larger than the %d bytes a box accepts", name, limit)
	}
	if hasDescriptor {
		var d [4]byte
		if _, err := io.ReadFull(br, d[:]); err != nil {
			return nil, err
		}
		rest := 8 // crc was read already: the sizes
		if le.Uint32(d[:]) == descriptorSig {
			rest = 12
		}
		if _, err := br.Discard(rest); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// ArchiveBound is the most bytes the archive of a pack with this manifest
// can take as WriteArchive writes it (each file deflated at worst a little
// larger than itself, headers, central directory): a download of it that
// goes past this is not that pack.
func ArchiveBound(m *Manifest, manifestLen, sigLen int) int64 {
	const perEntry = 30 + 24 + 46 + 2*28 + 64 // headers, descriptor, zip64 extras, slack
	grow := func(n int64) int64 { return n + n/1000 + 64 }
	total := int64(22+56+20) + 2*perEntry + 2*int64(len(manifestName)+len(signatureName)) + grow(int64(manifestLen)) + int64(sigLen)
	for _, f := range m.Files {
		total += perEntry + 2*int64(len(f.Path)) + grow(f.Size)
	}
	return total
}

// CheckSigned checks a manifest and its signature as an install would
// (a trusted signer, a valid manifest within the library's limits) and
// returns the manifest: for judging a download before it completes.
func (l *Library) CheckSigned(manifest, sig []byte) (*Manifest, error) {
	if _, err := l.keys.Verify(manifest, sig); err != nil {
		return nil, invalid("%v", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(manifest))
	if err := dec.Decode(&m); err != nil {
		return nil, invalid("manifest.json: %v", err)
	}
	if err := m.Validate(); err != nil {
		return nil, invalid("%v", err)
	}
	if len(m.Files) > l.limits.MaxFiles || m.TotalSize() > l.limits.MaxTotal {
		return nil, invalid("%s %s is larger than this box accepts", m.ID, m.Version)
	}
	return &m, nil
}

// Limits returns the limits of what the library installs.
func (l *Library) Limits() Limits { return l.limits }
