package picture

import (
	"bytes"
	"image"
	"image/color"
	"runtime"
	"testing"
)

// allocated is what f allocated, in bytes (an upper bound of what it held
// at its peak).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The decoders allocate no more than inspect's estimate (perPixel), which
// the pixel limit is made from: the estimate is what keeps a box's memory
// bounded, so it must not be an underestimate for any kind of file.
func TestDecodeCostCoversTheDecoders(t *testing.T) {
	if raceEnabled {
		t.Skip("it measures the decoders' allocations as the box runs them, without the race detector")
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"baseline 4:2:0 jpeg", encodeJPEG(t, photo(1000, 800))},
		{"baseline 4:4:4 jpeg", readFixture(t, "baseline444.jpg")},
		{"progressive 4:2:0 jpeg", readFixture(t, "progressive420.jpg")},
		{"progressive 4:4:4 jpeg", readFixture(t, "progressive444.jpg")},
		{"progressive grey jpeg", readFixture(t, "grayprogressive.jpg")},
		{"cmyk jpeg", readFixture(t, "cmyk.jpg")},
		{"rgba png", encodePNG(t, translucent(1000, 800))},
		{"rgb png", encodePNG(t, photo(1000, 800))},
		{"grey png", encodePNG(t, image.NewGray(image.Rect(0, 0, 1000, 800)))},
		{"16-bit png", encodePNG(t, image.NewRGBA64(image.Rect(0, 0, 1000, 800)))},
		{"paletted png", encodePNG(t, image.NewPaletted(image.Rect(0, 0, 1000, 800), color.Palette{red, blue}))},
		{"lossy webp", readFixture(t, "photo.webp")},
		{"lossy webp with alpha", readFixture(t, "alpha.webp")},
		{"lossless webp", readFixture(t, "smooth-lossless.webp")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := inspect(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			var decodeErr error
			got := allocated(func() { _, decodeErr = f.decode(bytes.NewReader(tc.data)) })
			if decodeErr != nil {
				t.Fatal(decodeErr)
			}
			pixels := float64(f.width * f.height)
			const fixed = 256 << 10 // tables, buffers of a row
			if est := f.perPixel*pixels + fixed; float64(got) > est {
				t.Errorf("decoding %d×%d allocated %.2f bytes a pixel, over the estimate of %.2f",
					f.width, f.height, float64(got-fixed)/pixels, f.perPixel)
			} else {
				t.Logf("%d×%d: %.2f bytes a pixel, estimate %.2f", f.width, f.height, float64(got)/pixels, f.perPixel)
			}
		})
	}
}

// worstCase is a PNG at the default limits that costs the most to clean:
// 40 MP of 8-bit RGBA with transparency (4.5 bytes a pixel to decode, the
// most any kind of file may cost under the default limits is 5), drawn so
// that it compresses under 12 MB.
func worstCase(tb testing.TB) []byte {
	tb.Helper()
	const w, h = 7300, 5475 // 39.97 MP
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(x/29), uint8(y/23), uint8((x+y)/50), uint8(128+x%128)
		}
	}
	data := encodePNG(tb, img)
	if int64(len(data)) > DefaultLimits().MaxBytes {
		tb.Fatalf("the worst case is %d MB, over the size limit", len(data)>>20)
	}
	return data
}

// The worst picture the default limits let in is cleaned in well under
// 300 MB, so that a box with 1 GB survives two teachers uploading one at
// the same moment.
func TestWorstCaseMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("40 megapixels: slow, and the race detector's memory is not the box's")
	}
	data := worstCase(t)
	var p *Picture
	var err error
	got := allocated(func() { p, err = Clean(bytes.NewReader(data), DefaultLimits()) })
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 1600 || p.Height != 1200 || p.Type != "image/png" {
		t.Errorf("got %s %d×%d, want image/png 1600×1200", p.Type, p.Width, p.Height)
	}
	t.Logf("cleaning a 40 MP RGBA PNG (%.1f MB) allocated %d MB in all", float64(len(data))/(1<<20), got>>20)
	if got > 300<<20 {
		t.Errorf("cleaning the worst case allocated %d MB, want under 300 MB", got>>20)
	}
}

// A 12 MP photo from a phone's camera, as JPEG.
func BenchmarkClean12MP(b *testing.B) {
	data := encodeJPEG(b, photo(4032, 3024))
	benchmarkClean(b, data)
}

// The worst case of the default limits (see worstCase).
func BenchmarkClean40MPWorstCase(b *testing.B) {
	benchmarkClean(b, worstCase(b))
}

func benchmarkClean(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Clean(bytes.NewReader(data), DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MB-alloc/op")
	// Processor time, GC included: wall time (ns/op) on a loaded machine
	// counts the other programs' turns too.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}
