package picture

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// Colours of the quadrants of a test picture, to see where they end up.
var (
	red   = color.RGBA{230, 20, 20, 255}
	green = color.RGBA{20, 200, 20, 255}
	blue  = color.RGBA{20, 20, 230, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// quadrants is a w×h picture: red top left, green top right, blue bottom
// left, white bottom right.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = white
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// photo is a w×h picture of smooth gradients, like a photo to an encoder.
func photo(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[img.YOffset(x, y)] = uint8((x*3 + y*5 + (x*y)%97) % 256)
			off := img.COffset(x, y)
			img.Cb[off] = uint8(64 + 128*x/w)
			img.Cr[off] = uint8(64 + 128*y/h)
		}
	}
	return img
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Secrets a camera or an editor leaves in a file; none may be in a
// cleaned picture.
var secrets = []string{"Exif", "SecretPhoneCo", "WGS-84-SECRETGPS", "GPSLatitude", "ICC_PROFILE", "SECRETICC", "SECRETCOMMENT", "SECRETPNGTEXT", "xmpmeta", "ns.adobe.com"}

// tiffWithGPS is an EXIF body (a TIFF structure, little-endian): the first
// IFD holds the camera's make, the orientation and a pointer to a GPS IFD
// with a latitude reference and a map datum.
func tiffWithGPS(orientation int) []byte {
	le := binary.LittleEndian
	b := []byte("II\x2a\x00\x08\x00\x00\x00")
	entry := func(tag, typ uint16, count, value uint32) {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, count)
		b = le.AppendUint32(b, value)
	}
	const make_, datum = "SecretPhoneCo\x00", "WGS-84-SECRETGPS\x00"
	// IFD0 at 8: 3 entries, 2+36+4 = 42 bytes; the make at 50; the GPS IFD at 64.
	b = le.AppendUint16(b, 3)
	entry(0x010f, 2, uint32(len(make_)), 50)
	entry(0x0112, 3, 1, uint32(orientation))
	entry(0x8825, 4, 1, 64)
	b = le.AppendUint32(b, 0)
	b = append(b, make_...)
	// GPS IFD at 64: 2 entries, 2+24+4 = 30 bytes; the datum at 94.
	b = le.AppendUint16(b, 2)
	entry(0x0001, 2, 2, uint32('N'))
	entry(0x0012, 2, uint32(len(datum)), 94)
	b = le.AppendUint32(b, 0)
	return append(b, datum...)
}

const xmpPacket = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="38,33.5N"/></x:xmpmeta>`

func jpegSegment(marker byte, body []byte) []byte {
	b := []byte{0xff, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)+2))
	return append(b, body...)
}

// cameraJPEG is img as a JPEG with what a phone's camera and an editor
// add: EXIF (orientation, make, GPS), XMP, an ICC profile and a comment.
func cameraJPEG(tb testing.TB, img image.Image, orientation int) []byte {
	tb.Helper()
	j := encodeJPEG(tb, img)
	var out []byte
	out = append(out, j[:2]...) // SOI
	out = append(out, jpegSegment(0xe1, append([]byte("Exif\x00\x00"), tiffWithGPS(orientation)...))...)
	out = append(out, jpegSegment(0xe1, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmpPacket...))...)
	out = append(out, jpegSegment(0xe2, []byte("ICC_PROFILE\x00\x01\x01fake-profile-SECRETICC"))...)
	out = append(out, jpegSegment(0xfe, []byte("SECRETCOMMENT"))...)
	return append(out, j[2:]...)
}

func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// taggedPNG is img as a PNG with text, EXIF (with GPS), XMP and ICC chunks.
func taggedPNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	p := encodePNG(tb, img)
	const ihdrEnd = 8 + 25
	var out []byte
	out = append(out, p[:ihdrEnd]...)
	out = append(out, pngChunk("iCCP", []byte("SECRETICC\x00\x00x\x9c\x03\x00\x00\x00\x00\x01"))...)
	out = append(out, pngChunk("tEXt", []byte("Comment\x00SECRETPNGTEXT"))...)
	out = append(out, pngChunk("eXIf", tiffWithGPS(1))...)
	out = append(out, pngChunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmpPacket...))...)
	return append(out, p[ihdrEnd:]...)
}

func riffChunk(fourcc string, data []byte) []byte {
	b := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// taggedWebP is the simple lossy WebP file (one VP8 chunk) of w×h put in
// an extended file with ICC, EXIF (with GPS) and XMP chunks.
func taggedWebP(tb testing.TB, simple []byte, w, h int) []byte {
	tb.Helper()
	if string(simple[12:16]) != "VP8 " {
		tb.Fatalf("want a simple lossy WebP, got chunk %q", simple[12:16])
	}
	vp8 := simple[12:]
	vp8x := []byte{0x20 | 0x08 | 0x04, 0, 0, 0,
		byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16),
		byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, riffChunk("ICCP", []byte("fake-profile-SECRETICC"))...)
	body = append(body, vp8...)
	body = append(body, riffChunk("EXIF", append([]byte("Exif\x00\x00"), tiffWithGPS(1)...))...)
	body = append(body, riffChunk("XMP ", []byte(xmpPacket))...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// decodeOutput decodes a cleaned picture with the decoder of its Type and
// checks that its bytes, Type, Ext and size agree.
func decodeOutput(tb testing.TB, p *Picture) image.Image {
	tb.Helper()
	var (
		img image.Image
		err error
	)
	switch p.Type {
	case "image/jpeg":
		if p.Ext != ".jpg" || sniff(p.Data) != formatJPEG {
			tb.Fatalf("type %s, ext %s, but the bytes are format %d", p.Type, p.Ext, sniff(p.Data))
		}
		img, err = jpeg.Decode(bytes.NewReader(p.Data))
	case "image/png":
		if p.Ext != ".png" || sniff(p.Data) != formatPNG {
			tb.Fatalf("type %s, ext %s, but the bytes are format %d", p.Type, p.Ext, sniff(p.Data))
		}
		img, err = png.Decode(bytes.NewReader(p.Data))
	default:
		tb.Fatalf("type %q, want image/jpeg or image/png", p.Type)
	}
	if err != nil {
		tb.Fatalf("the cleaned %s does not decode: %v", p.Type, err)
	}
	if b := img.Bounds(); b.Dx() != p.Width || b.Dy() != p.Height {
		tb.Fatalf("the cleaned picture is %v, Picture says %d×%d", b.Size(), p.Width, p.Height)
	}
	return img
}
