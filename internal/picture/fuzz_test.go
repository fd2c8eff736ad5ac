package picture

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzClean: whatever the bytes, Clean neither panics nor returns a
// picture over the limits, and what it returns decodes as what it says.
// The seeds are small pictures of every format, cut and damaged.
//
//	go test -run '^$' -fuzz FuzzClean -fuzztime 60s ./internal/picture/
func FuzzClean(f *testing.F) {
	seeds := [][]byte{
		encodeJPEG(f, photo(48, 32)),
		cameraJPEG(f, quadrants(40, 20), 6),
		encodePNG(f, quadrants(30, 20)),
		encodePNG(f, translucent(30, 20)),
		taggedPNG(f, quadrants(16, 16)),
		readFixture(f, "photo.webp"),
		readFixture(f, "alpha.webp"),
		readFixture(f, "diagram.webp"),
		readFixture(f, "cmyk.jpg"),
		jpegClaiming(60000, 60000),
		[]byte("<svg xmlns='http://www.w3.org/2000/svg'/>"),
		{},
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 64}
	keys := map[string]bool{KeyEmpty: true, KeyUnsupported: true, KeyTooBig: true, KeyTooBigOver: true, KeyTooMany: true, KeyBroken: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Clean(bytes.NewReader(data), lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !keys[e.Key] {
				t.Fatalf("error %v is not a picture.Error with a known key", err)
			}
			return
		}
		if p.Width > lim.MaxSide || p.Height > lim.MaxSide || p.Width < 1 || p.Height < 1 {
			t.Fatalf("picture of %d×%d, over the limit of %d", p.Width, p.Height, lim.MaxSide)
		}
		decodeOutput(t, p)
	})
}
