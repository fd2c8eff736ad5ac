package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"sync"
	"testing"
)

// Every format comes in, and goes out as JPEG (photos) or PNG
// (transparency, drawings), at its size or scaled to MaxSide.
func TestCleanFormats(t *testing.T) {
	lim := Limits{MaxSide: 320} // small pictures: the race detector is slow
	for _, tc := range []struct {
		name     string
		data     []byte
		wantType string
		w, h     int
		alpha    bool // the output keeps transparency
	}{
		{"phone jpeg", encodeJPEG(t, photo(320, 240)), "image/jpeg", 320, 240, false},
		{"large jpeg scaled", encodeJPEG(t, photo(1200, 900)), "image/jpeg", 320, 240, false},
		{"tall jpeg scaled", encodeJPEG(t, photo(300, 1000)), "image/jpeg", 96, 320, false},
		{"progressive 4:2:0 jpeg", readFixture(t, "progressive420.jpg"), "image/jpeg", 320, 240, false},
		{"progressive 4:4:4 jpeg", readFixture(t, "progressive444.jpg"), "image/jpeg", 320, 240, false},
		{"grey jpeg", readFixture(t, "grayprogressive.jpg"), "image/jpeg", 320, 240, false},
		{"cmyk jpeg", readFixture(t, "cmyk.jpg"), "image/jpeg", 150, 103, false},
		{"png diagram", encodePNG(t, quadrants(300, 200)), "image/png", 300, 200, false},
		{"png with transparency", encodePNG(t, translucent(120, 90)), "image/png", 120, 90, true},
		{"png photo", encodePNG(t, photo(300, 200)), "image/jpeg", 300, 200, false},
		{"png diagram scaled", encodePNG(t, quadrants(1280, 400)), "image/png", 320, 100, false},
		{"png a line long", encodePNG(t, quadrants(60000, 2)), "image/png", 320, 1, false},
		{"webp lossy photo", readFixture(t, "photo.webp"), "image/jpeg", 320, 240, false},
		{"webp lossy with alpha", readFixture(t, "alpha.webp"), "image/png", 200, 150, true},
		{"webp lossless diagram", readFixture(t, "diagram.webp"), "image/png", 240, 160, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Clean(bytes.NewReader(tc.data), lim)
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			if p.Type != tc.wantType || p.Width != tc.w || p.Height != tc.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", p.Type, p.Width, p.Height, tc.wantType, tc.w, tc.h)
			}
			img := decodeOutput(t, p)
			_, _, _, a := img.At(p.Width-1, p.Height-1).RGBA()
			if got := a < 0xffff; got != tc.alpha {
				t.Errorf("bottom-right pixel transparent: %v, want %v", got, tc.alpha)
			}
		})
	}
}

// translucent is a picture whose left half is transparent and right half
// half-transparent red.
func translucent(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{200, 0, 0, 128})
		}
	}
	return img
}

// What a camera or an editor writes into a file (EXIF with the camera's
// make and the GPS position, XMP, ICC profiles, comments, text chunks) is
// in the input and nowhere in the output.
func TestCleanStripsMetadata(t *testing.T) {
	jpegSecrets := []string{"Exif", "SecretPhoneCo", "WGS-84-SECRETGPS", "GPSLatitude", "ICC_PROFILE", "SECRETICC", "SECRETCOMMENT", "xmpmeta"}
	pngSecrets := []string{"SecretPhoneCo", "WGS-84-SECRETGPS", "GPSLatitude", "SECRETICC", "SECRETPNGTEXT", "xmpmeta"}
	webpSecrets := []string{"Exif", "SecretPhoneCo", "WGS-84-SECRETGPS", "GPSLatitude", "SECRETICC", "xmpmeta"}
	for _, tc := range []struct {
		name    string
		data    []byte
		present []string
	}{
		{"jpeg", cameraJPEG(t, photo(400, 300), 1), jpegSecrets},
		{"jpeg turned", cameraJPEG(t, photo(400, 300), 6), jpegSecrets},
		{"png", taggedPNG(t, quadrants(200, 100)), pngSecrets},
		{"png photo", taggedPNG(t, photo(300, 200)), pngSecrets},
		{"webp", taggedWebP(t, readFixture(t, "photo.webp"), 320, 240), webpSecrets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.present {
				if !bytes.Contains(tc.data, []byte(s)) {
					t.Fatalf("the input lacks %q: the fixture is wrong", s)
				}
			}
			p, err := Clean(bytes.NewReader(tc.data), Limits{})
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			decodeOutput(t, p)
			for _, s := range secrets {
				if i := bytes.Index(p.Data, []byte(s)); i >= 0 {
					t.Errorf("the cleaned %s holds %q at byte %d", p.Type, s, i)
				}
			}
			if p.Type == "image/jpeg" {
				for i := 2; i+1 < len(p.Data) && p.Data[i] == 0xff; {
					m := p.Data[i+1]
					if m >= 0xe0 && m <= 0xef || m == 0xfe {
						t.Errorf("the cleaned JPEG has an APP or comment segment %#x", m)
					}
					if m == 0xda {
						break
					}
					i += 2 + int(p.Data[i+2])<<8 + int(p.Data[i+3])
				}
			}
			if p.Type == "image/png" {
				for _, c := range []string{"tEXt", "iTXt", "zTXt", "eXIf", "iCCP", "tIME"} {
					if bytes.Contains(p.Data, []byte(c)) {
						t.Errorf("the cleaned PNG has a %s chunk", c)
					}
				}
			}
		})
	}
}

// A phone stores a photo as the sensor saw it and writes how to turn it
// upright in the EXIF orientation; the cleaned photo is upright itself.
func TestCleanTurnsPhotosUpright(t *testing.T) {
	// Stored: red top left, green top right, blue bottom left, white
	// bottom right; 80×40.
	for _, tc := range []struct {
		orientation    int
		w, h           int
		tl, tr, bl, br color.RGBA
	}{
		{1, 80, 40, red, green, blue, white},
		{2, 80, 40, green, red, white, blue}, // mirrored
		{3, 80, 40, white, blue, green, red}, // upside down
		{6, 40, 80, blue, red, white, green}, // the phone was held turned: turn right
		{8, 40, 80, green, white, red, blue}, // turned the other way: turn left
	} {
		p, err := Clean(bytes.NewReader(cameraJPEG(t, quadrants(80, 40), tc.orientation)), Limits{})
		if err != nil {
			t.Fatalf("orientation %d: %v", tc.orientation, err)
		}
		img := decodeOutput(t, p)
		if p.Width != tc.w || p.Height != tc.h {
			t.Fatalf("orientation %d: got %d×%d, want %d×%d", tc.orientation, p.Width, p.Height, tc.w, tc.h)
		}
		for _, c := range []struct {
			where string
			x, y  int
			want  color.RGBA
		}{
			{"top left", tc.w / 4, tc.h / 4, tc.tl},
			{"top right", 3 * tc.w / 4, tc.h / 4, tc.tr},
			{"bottom left", tc.w / 4, 3 * tc.h / 4, tc.bl},
			{"bottom right", 3 * tc.w / 4, 3 * tc.h / 4, tc.br},
		} {
			if got := img.At(c.x, c.y); !near(got, c.want) {
				r, g, b, _ := got.RGBA()
				t.Errorf("orientation %d: %s is rgb(%d,%d,%d), want rgb(%d,%d,%d)", tc.orientation, c.where, r>>8, g>>8, b>>8, c.want.R, c.want.G, c.want.B)
			}
		}
	}
}

// near is whether c is within JPEG's error of want.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(v uint32, w uint8) bool { return int(v>>8)-int(w) < 40 && int(w)-int(v>>8) < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// Scaling down smooths: a fine black and white checkerboard becomes grey,
// not a moiré of black and white (what dropping pixels would give).
func TestCleanScalesSmoothly(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 1200, 800))
	for y := range 800 {
		for x := range 1200 {
			if (x+y)%2 == 0 {
				img.Pix[y*img.Stride+x] = 255
			}
		}
	}
	p, err := Clean(bytes.NewReader(encodePNG(t, img)), Limits{MaxSide: 280})
	if err != nil {
		t.Fatal(err)
	}
	out := decodeOutput(t, p)
	if p.Width != 280 || p.Height != 187 {
		t.Fatalf("got %d×%d, want 280×187", p.Width, p.Height)
	}
	for _, pt := range []image.Point{{1, 1}, {140, 93}, {278, 185}, {123, 150}} {
		r, _, _, _ := out.At(pt.X, pt.Y).RGBA()
		if v := r >> 8; v < 110 || v > 145 {
			t.Errorf("pixel %v is %d, want the grey of half black, half white (≈128)", pt, v)
		}
	}
}

// Clean shares nothing between calls: eight at once, twice over, make
// exactly what one alone makes.
func TestCleanInParallel(t *testing.T) {
	inputs := [][]byte{
		cameraJPEG(t, photo(300, 200), 6),
		encodePNG(t, translucent(300, 200)),
		readFixture(t, "photo.webp"),
		readFixture(t, "progressive444.jpg"),
	}
	want := make([][]byte, len(inputs))
	for i, in := range inputs {
		p, err := Clean(bytes.NewReader(in), Limits{MaxSide: 100})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = p.Data
	}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				i := g % len(inputs)
				p, err := Clean(bytes.NewReader(inputs[i]), Limits{MaxSide: 100})
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(p.Data, want[i]) {
					errs <- fmt.Errorf("round %d, input %d: the picture differs from the one made alone", round, i)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
