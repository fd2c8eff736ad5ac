// Package picture cleans the pictures teachers upload: it accepts PNG, JPEG
// and WebP only (recognised from the bytes, never from a name or a declared
// type), refuses files and images over the limits before decoding them,
// decodes them, turns phone photos upright (JPEG EXIF orientation), scales
// them down to a sensible size and encodes them again with no metadata at
// all: no EXIF, GPS, XMP, ICC profile or text chunks survive.
//
// It is a domain package: it reads the io.Reader it is given and nothing
// else. Errors are *Error values with an i18n key, so a page can explain
// them in the teacher's language.
//
// Memory is bounded by the limits, not by the file: a box with 1 GB of RAM
// must survive two teachers uploading the worst picture at once. The bytes
// are read up to MaxBytes+1; the dimensions come from the header and are
// checked before any pixel is decoded; and because decoders differ in what
// they hold per pixel (a progressive JPEG keeps every DCT coefficient, a
// 16-bit PNG is 8 bytes a pixel), a picture is also refused when its
// decoder would need more than MaxPixels × budgetPerPixel bytes, what an
// 8-bit RGBA PNG of MaxPixels needs (see inspect). Scaling streams rows
// through a small window (see resize), so it adds only the size of the
// output.
package picture

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"

	"golang.org/x/image/webp"

	"github.com/mitstem/stembox/internal/i18n"
)

// Limits bound what Clean accepts and what it makes. A zero field takes
// its value from DefaultLimits.
type Limits struct {
	MaxBytes  int64 // size of the file
	MaxPixels int64 // width × height of the picture in the file
	MaxSide   int   // longest side of the cleaned picture; larger ones are scaled down
}

// DefaultLimits are 12 MB, 40 megapixels and 1600 pixels: a phone's camera
// photo (12–48 MP, 2–10 MB) is accepted, and 1600 pixels are sharp on a
// projector and a phone while a picture stays around 200–400 KB.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 12 << 20, MaxPixels: 40_000_000, MaxSide: 1600}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = d.MaxSide
	}
	return l
}

// Picture is a cleaned picture: JPEG for photos, PNG for pictures with
// transparency and for drawings and diagrams.
type Picture struct {
	Data   []byte
	Type   string // "image/jpeg" or "image/png"
	Ext    string // ".jpg" or ".png"
	Width  int
	Height int
}

// The keys of the errors Clean returns; their messages are in
// internal/i18n/messages_picture.go.
const (
	KeyEmpty       = "picture.empty"           // no bytes at all
	KeyUnsupported = "picture.unsupported"     // not PNG, JPEG or WebP
	KeyTooBig      = "picture.too_big"         // Args: size in MB (rounded up), MaxBytes in MB
	KeyTooBigOver  = "picture.too_big_over"    // the reader's size is unknown; Args: MaxBytes in MB
	KeyTooMany     = "picture.too_many_pixels" // Args: width, height, megapixels (rounded up), the limit in megapixels
	KeyBroken      = "picture.broken"          // truncated or corrupt
)

// Error is why a picture was refused. Key is an i18n key and Args its
// arguments, so i18n.T(lang, e.Key, e.Args...) explains it in lang;
// Error() is the English message. Unwrap gives the decoder's own error,
// if any, for the log.
type Error struct {
	Key   string
	Args  []any
	cause error
}

func (e *Error) Error() string { return i18n.T("en", e.Key, e.Args...) }

func (e *Error) Unwrap() error { return e.cause }

// budgetPerPixel is the bytes a pixel of MaxPixels a decoder may hold: a
// 40 MP RGBA PNG (4.5 bytes a pixel) fits, a progressive JPEG (8 bytes a
// pixel for 4:2:0 colour) may have 25 MP, a 16-bit PNG 23 MP. With the
// default limits that is 200 MB, and Clean's peak stays under 250 MB.
const budgetPerPixel = 5

func fail(key string, cause error, args ...any) *Error {
	return &Error{Key: key, Args: args, cause: cause}
}

// Clean reads a picture from r and returns it upright, scaled so that its
// longest side is at most lim.MaxSide, and encoded again without any
// metadata. It reads at most lim.MaxBytes+1 bytes of r. Every refusal is an
// *Error.
func Clean(r io.Reader, lim Limits) (*Picture, error) {
	lim = lim.withDefaults()
	data, err := readLimited(r, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	f, err := inspect(data)
	if err != nil {
		return nil, err
	}
	allowed := lim.MaxPixels
	if f.perPixel > budgetPerPixel {
		// This kind of file needs more than budgetPerPixel bytes a pixel
		// to decode: it may have proportionally fewer pixels.
		allowed = int64(float64(lim.MaxPixels) * budgetPerPixel / f.perPixel)
	}
	if pixels := int64(f.width) * int64(f.height); pixels > allowed {
		return nil, fail(KeyTooMany, nil, f.width, f.height, ceilDiv(pixels, 1_000_000), allowed/1_000_000)
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fail(KeyBroken, err)
	}
	if b := img.Bounds(); b.Dx() != f.width || b.Dy() != f.height {
		return nil, fail(KeyBroken, errors.New("picture: decoded size differs from the header's"))
	}
	data = nil // the file is no longer needed; let the collector have it
	w, h := fitInside(f.width, f.height, lim.MaxSide)
	small := orient(resize(img, w, h), f.orientation)
	img = nil
	return encode(small, f.format == formatJPEG)
}

// readLimited reads all of r, up to max bytes; one byte more is too big.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	size := int64(-1) // the reader's own idea of its size, for the message
	switch s := r.(type) {
	case interface{ Size() int64 }: // bytes.Reader, strings.Reader, io.SectionReader, multipart in memory
		size = s.Size()
	case interface{ Stat() (fs.FileInfo, error) }: // *os.File: multipart on disk
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	if size > max {
		return nil, fail(KeyTooBig, nil, ceilDiv(size, 1<<20), max>>20)
	}
	capacity := int64(64 << 10)
	if size >= 0 {
		capacity = size + bytes.MinRead // room to see EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(capacity, max+bytes.MinRead)))
	if _, err := buf.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, fail(KeyBroken, err)
	}
	if int64(buf.Len()) > max {
		if size > max {
			return nil, fail(KeyTooBig, nil, ceilDiv(size, 1<<20), max>>20)
		}
		return nil, fail(KeyTooBigOver, nil, max>>20)
	}
	if buf.Len() == 0 {
		return nil, fail(KeyEmpty, nil)
	}
	return buf.Bytes(), nil
}

func (f *file) decode(r io.Reader) (image.Image, error) {
	switch f.format {
	case formatJPEG:
		return jpeg.Decode(r)
	case formatPNG:
		return png.Decode(r)
	default:
		return webp.Decode(r)
	}
}

// fitInside is w×h scaled down so that the longest side is at most side,
// keeping the proportions; a picture that fits is kept as it is.
func fitInside(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, int((int64(h)*int64(side)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(side)+int64(h)/2)/int64(h))), side
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
