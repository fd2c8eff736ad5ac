package picture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
	"image/gif"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pngOfSize is a PNG whose header says w×h 8-bit RGBA (colour 6) or grey
// (colour 0), whose image data inflates to raw bytes of zeros.
func pngOfSize(tb testing.TB, w, h uint32, colour byte, raw int64) []byte {
	return pngOfDepth(tb, w, h, 8, colour, raw)
}

func pngOfDepth(tb testing.TB, w, h uint32, depth, colour byte, raw int64) []byte {
	tb.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colour, 0, 0, 0)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	zeros := make([]byte, 1<<20)
	for n := raw; n > 0; n -= int64(len(zeros)) {
		if _, err := zw.Write(zeros[:min(n, int64(len(zeros)))]); err != nil {
			tb.Fatal(err)
		}
	}
	zw.Close()
	out := append([]byte(nil), pngMagic...)
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// jpegClaiming is a JPEG whose frame header says w×h and which has no
// scan at all.
func jpegClaiming(w, h uint16) []byte {
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0}
	out := []byte{0xff, 0xd8}
	out = append(out, jpegSegment(0xe0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))...)
	out = append(out, jpegSegment(0xc0, sof)...)
	return append(out, 0xff, 0xd9)
}

// manyScans is a small JPEG whose one scan is repeated n times: each
// scan makes Go's decoder go over the whole picture again.
func manyScans(tb testing.TB, n int) []byte {
	tb.Helper()
	j := encodeJPEG(tb, quadrants(16, 16))
	sos := bytes.Index(j, []byte{0xff, 0xda})
	out := append([]byte(nil), j[:sos]...)
	for range n {
		out = append(out, j[sos:len(j)-2]...)
	}
	return append(out, 0xff, 0xd9)
}

// hidden hides a reader's Size, as a network stream would.
type hidden struct{ r io.Reader }

func (h hidden) Read(p []byte) (int, error) { return h.r.Read(p) }

// counting counts the bytes read through it.
type counting struct {
	r io.Reader
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Every kind of bad file gets its own error, with its key and arguments,
// and an English message; nothing panics.
func TestCleanRefusesBadInput(t *testing.T) {
	lim := DefaultLimits()
	goodJPEG := encodeJPEG(t, photo(400, 300))
	goodPNG := encodePNG(t, quadrants(200, 100))
	fiftyMB := append(append([]byte(nil), goodJPEG...), make([]byte, 50<<20-len(goodJPEG))...)
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, quadrants(40, 30), nil); err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rand.New(rand.NewSource(16)).Read(random)
	bmp := append([]byte("BM"), make([]byte, 60)...)

	sparse := filepath.Join(t.TempDir(), "big.jpg") // 50 MB on disk, most of it a hole
	if err := os.WriteFile(sparse, goodJPEG, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 50<<20); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		r    func() io.Reader
		lim  Limits
		key  string
		args []any
	}{
		{"50 MB image", func() io.Reader { return bytes.NewReader(fiftyMB) }, lim, KeyTooBig, []any{int64(50), int64(12)}},
		{"50 MB file", func() io.Reader {
			f, err := os.Open(sparse)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}, lim, KeyTooBig, []any{int64(50), int64(12)}},
		{"50 MB stream", func() io.Reader { return hidden{bytes.NewReader(fiftyMB)} }, lim, KeyTooBigOver, []any{int64(12)}},
		{"one byte over", func() io.Reader { return bytes.NewReader(goodJPEG) }, Limits{MaxBytes: int64(len(goodJPEG) - 1)}, KeyTooBig, []any{int64(1), int64(0)}},
		{"truncated jpeg", func() io.Reader { return bytes.NewReader(goodJPEG[:len(goodJPEG)/2]) }, lim, KeyBroken, nil},
		{"jpeg cut in its header", func() io.Reader { return bytes.NewReader(goodJPEG[:40]) }, lim, KeyBroken, nil},
		{"truncated png", func() io.Reader { return bytes.NewReader(goodPNG[:len(goodPNG)-30]) }, lim, KeyBroken, nil},
		{"truncated webp", func() io.Reader {
			w := readFixture(t, "photo.webp")
			return bytes.NewReader(w[:len(w)/2])
		}, lim, KeyBroken, nil},
		{"jpeg magic then garbage", func() io.Reader { return bytes.NewReader(append([]byte{0xff, 0xd8, 0xff}, random...)) }, lim, KeyBroken, nil},
		{"webp header then garbage", func() io.Reader {
			return bytes.NewReader(append([]byte("RIFF\x00\x10\x00\x00WEBPVP8 "), random...))
		}, lim, KeyBroken, nil},
		{"png of 0×0", func() io.Reader { return bytes.NewReader(pngOfSize(t, 0, 0, 6, 1)) }, lim, KeyBroken, nil},
		{"png bomb", func() io.Reader { return bytes.NewReader(pngOfSize(t, 100000, 100000, 6, 1000)) }, lim, KeyTooMany, []any{100000, 100000, int64(10000), int64(40)}},
		{"jpeg bomb", func() io.Reader { return bytes.NewReader(jpegClaiming(60000, 60000)) }, lim, KeyTooMany, []any{60000, 60000, int64(3600), int64(40)}},
		{"inflates past the pixel limit", func() io.Reader {
			return bytes.NewReader(pngOfSize(t, 4000, 4000, 6, 4000*(4000*4+1)))
		}, Limits{MaxPixels: 10_000_000}, KeyTooMany, []any{4000, 4000, int64(16), int64(10)}},
		{"inflates past its size", func() io.Reader { return bytes.NewReader(pngOfSize(t, 1000, 1000, 0, 32<<20)) }, lim, KeyBroken, nil},
		{"jpeg of 10000 scans", func() io.Reader { return bytes.NewReader(manyScans(t, 10000)) }, lim, KeyBroken, nil},
		{"svg", func() io.Reader {
			return strings.NewReader(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
		}, lim, KeyUnsupported, nil},
		{"svg with xml declaration", func() io.Reader {
			return strings.NewReader(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`)
		}, lim, KeyUnsupported, nil},
		{"animated webp", func() io.Reader { return bytes.NewReader(readFixture(t, "animated.webp")) }, lim, KeyUnsupported, nil},
		{"gif", func() io.Reader { return bytes.NewReader(gifBuf.Bytes()) }, lim, KeyUnsupported, nil},
		{"bmp", func() io.Reader { return bytes.NewReader(bmp) }, lim, KeyUnsupported, nil},
		{"html named x.png", func() io.Reader {
			return strings.NewReader("<!DOCTYPE html><html><body><script>document.cookie</script></body></html>")
		}, lim, KeyUnsupported, nil},
		{"random bytes", func() io.Reader { return bytes.NewReader(random) }, lim, KeyUnsupported, nil},
		{"zeros", func() io.Reader { return bytes.NewReader(make([]byte, 1024)) }, lim, KeyUnsupported, nil},
		{"zero bytes", func() io.Reader { return bytes.NewReader(nil) }, lim, KeyEmpty, nil},
		{"zero bytes stream", func() io.Reader { return hidden{strings.NewReader("")} }, lim, KeyEmpty, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			p, err := Clean(tc.r(), tc.lim)
			runtime.ReadMemStats(&after)
			var e *Error
			if !errors.As(err, &e) {
				if p != nil {
					t.Fatalf("Clean made a %s of %d×%d; want the error %s", p.Type, p.Width, p.Height, tc.key)
				}
				t.Fatalf("Clean = %v; want an *Error %s", err, tc.key)
			}
			if e.Key != tc.key {
				t.Fatalf("key %s (%v), want %s", e.Key, e, tc.key)
			}
			if tc.args != nil && !equalArgs(e.Args, tc.args) {
				t.Errorf("args %#v, want %#v", e.Args, tc.args)
			}
			if msg := e.Error(); msg == "" || strings.HasPrefix(msg, "!") || strings.Contains(msg, "%!") {
				t.Errorf("English message %q: the i18n key or its arguments are wrong", msg)
			}
			// Nothing was decoded beyond the header: far less than the
			// file (50 MB) or its pixels (gigabytes).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("refusing it allocated %d MB", alloc>>20)
			}
		})
	}
}

func equalArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Scans are counted right: camera and progressive JPEGs pass, and a JPEG
// that repeats its scan is refused only past maxScans.
func TestJPEGScans(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  []byte
		scans int
	}{
		{"go's baseline", encodeJPEG(t, photo(64, 48)), 1},
		{"camera with exif", cameraJPEG(t, photo(64, 48), 6), 1},
		{"progressive", readFixture(t, "progressive420.jpg"), 10},
		{"repeated scan", manyScans(t, maxScans), maxScans},
	} {
		var j jpegHeader
		j.read(tc.data)
		if j.scans != tc.scans {
			t.Errorf("%s: %d scans, want %d", tc.name, j.scans, tc.scans)
		}
		if _, err := Clean(bytes.NewReader(tc.data), Limits{}); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Clean reads at most MaxBytes+1 bytes of a stream, never the rest.
func TestCleanReadsNoMoreThanTheLimit(t *testing.T) {
	c := &counting{r: hidden{bytes.NewReader(make([]byte, 50<<20))}}
	_, err := Clean(c, Limits{MaxBytes: 1 << 20})
	var e *Error
	if !errors.As(err, &e) || e.Key != KeyTooBigOver {
		t.Fatalf("Clean = %v, want %s", err, KeyTooBigOver)
	}
	if c.n > 1<<20+1 {
		t.Errorf("read %d bytes, want at most %d", c.n, 1<<20+1)
	}
}

// A picture of a kind that needs more memory to decode a pixel (here a
// 16-bit PNG, 8 bytes a pixel) may have fewer pixels, and the message
// says how many.
func TestCleanLimitsPixelsByDecodeCost(t *testing.T) {
	// Refused on its header alone, before its (tiny) image data is read.
	_, err := Clean(bytes.NewReader(pngOfDepth(t, 2000, 1500, 16, 6, 1)), Limits{MaxPixels: 5_000_000})
	var e *Error
	if !errors.As(err, &e) || e.Key != KeyTooMany {
		t.Fatalf("Clean = %v, want %s", err, KeyTooMany)
	}
	if want := []any{2000, 1500, int64(3), int64(2)}; !equalArgs(e.Args, want) {
		t.Errorf("args %v, want %v", e.Args, want)
	}
	// 0.6 MP of 16-bit pixels fit in the budget of 1.5 MP (0.88 MP of them).
	data := encodePNG(t, image.NewRGBA64(image.Rect(0, 0, 1000, 600)))
	if _, err := Clean(bytes.NewReader(data), Limits{MaxPixels: 1_500_000}); err != nil {
		t.Errorf("with room for it: %v", err)
	}
}
