package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

type format int

const (
	formatJPEG format = iota + 1
	formatPNG
	formatWebP
)

// file is what the header of a picture says, read before any pixel is
// decoded.
type file struct {
	format        format
	width, height int
	perPixel      float64 // bytes the decoder holds a pixel (jpegHeader.decodeCost, …)
	orientation   int     // EXIF orientation, 1–8 (1 = as stored)
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// sniff recognises the three formats from their first bytes.
func sniff(data []byte) format {
	switch {
	case bytes.HasPrefix(data, pngMagic):
		return formatPNG
	case len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff:
		return formatJPEG
	case len(data) >= 16 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return formatWebP
	}
	return 0
}

// inspect reads the header of data: its format, its size in pixels, what
// decoding it will cost, and the orientation of a JPEG photo.
func inspect(data []byte) (*file, error) {
	f := &file{format: sniff(data), orientation: 1}
	var (
		cfg image.Config
		err error
	)
	r := bytes.NewReader(data)
	switch f.format {
	case formatJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case formatPNG:
		cfg, err = png.DecodeConfig(r)
	case formatWebP:
		cfg, err = webp.DecodeConfig(r)
	default:
		return nil, fail(KeyUnsupported, nil)
	}
	if err != nil {
		return nil, fail(KeyBroken, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fail(KeyBroken, nil)
	}
	if f.format == formatWebP && string(data[12:16]) == "VP8X" && len(data) > 20 && data[20]&0x02 != 0 {
		return nil, fail(KeyUnsupported, errors.New("picture: an animated webp"))
	}
	f.width, f.height = cfg.Width, cfg.Height
	switch f.format {
	case formatJPEG:
		var j jpegHeader
		j.read(data)
		if j.scans > maxScans {
			return nil, fail(KeyBroken, fmt.Errorf("picture: a jpeg of %d scans, over %d", j.scans, maxScans))
		}
		f.orientation = j.orientation
		f.perPixel = j.decodeCost()
	case formatPNG:
		f.perPixel = pngDecodeCost(data, f.height)
	case formatWebP:
		f.perPixel = webpDecodeCost(data)
	}
	// resize holds about 16 bytes of filter weights for every source row
	// and column: nothing for a photo, much for a picture of 1 pixel by
	// millions (which the pixel limit alone would let in).
	f.perPixel += 20 * float64(f.width+f.height) / (float64(f.width) * float64(f.height))
	return f, nil
}

// jpegHeader is what Clean needs from the segments before a JPEG's first
// scan.
type jpegHeader struct {
	progressive bool
	components  int
	samples     float64 // samples a pixel over all components: 1.5 for 4:2:0 colour
	orientation int
	scans       int
}

// maxScans is the most scans a JPEG may have. Go's decoder goes over every
// block of the picture in each scan, so a file of a million tiny scans
// would keep a core busy for hours. A camera writes 1 scan (3 for colour
// not interleaved), a progressive encoder about 10.
const maxScans = 64

func (j *jpegHeader) read(data []byte) {
	j.orientation = 1
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return // not a marker: the decoder will say what is wrong
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0x01 || marker == 0xd8 || marker >= 0xd0 && marker <= 0xd7: // no length
			i += 2
			continue
		case marker == 0xd9: // the end
			return
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return
		}
		if marker == 0xda { // a scan: its header, then entropy-coded data up to the next marker
			j.scans++
			for i += 2 + n; i+1 < len(data); i++ {
				if data[i] == 0xff && data[i+1] != 0 && data[i+1] != 0xff && (data[i+1] < 0xd0 || data[i+1] > 0xd7) {
					break
				}
			}
			continue
		}
		seg := data[i+4 : i+2+n]
		switch {
		case marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) && j.orientation == 1:
			j.orientation = exifOrientation(seg[6:])
		case marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			j.sof(marker, seg)
		}
		i += 2 + n
	}
}

// sof reads a start-of-frame segment: precision, height, width, then per
// component its id, sampling factors and quantisation table.
func (j *jpegHeader) sof(marker byte, seg []byte) {
	j.progressive = marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce
	if len(seg) < 6 {
		return
	}
	n := int(seg[5])
	if len(seg) < 6+3*n || n == 0 {
		return
	}
	hmax, vmax, sum := 1, 1, 0
	for k := range n {
		hv := seg[6+3*k+1]
		h, v := int(hv>>4), int(hv&15)
		hmax, vmax, sum = max(hmax, h), max(vmax, v), sum+h*v
	}
	j.components = n
	j.samples = float64(sum) / float64(hmax*vmax)
}

// decodeCost is what Go's JPEG decoder holds a pixel: one byte a sample;
// a progressive JPEG also keeps every DCT coefficient (an int32 a sample)
// until its last scan; a 4-component (CMYK) JPEG is converted into a
// 4-byte-a-pixel picture besides.
func (j *jpegHeader) decodeCost() float64 {
	s := max(j.samples, 1)
	cost := s
	if j.progressive {
		cost += 4 * s
	}
	if j.components == 4 {
		cost += 4
	}
	return cost + 0.5 // margins: blocks padded to whole MCUs
}

// exifOrientation is tag 0x0112 of the first IFD of a TIFF structure (the
// body of an Exif segment), or 1 when it has none or cannot be read.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[off:]))
	for k := range n {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			break
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // Orientation, SHORT
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			break
		}
	}
	return 1
}

// pngDecodeCost is what Go's PNG decoder holds a pixel of a picture h
// pixels high, from the IHDR chunk: 8 bytes for 16-bit samples, 1 for a
// palette, else 4 (grey with a transparent colour becomes NRGBA); an
// interlaced PNG holds each pass besides the picture; and the decoder
// holds two rows of raw samples (up to 8 bytes a pixel), which matter
// only for a picture a few pixels high.
func pngDecodeCost(data []byte, h int) float64 {
	if len(data) < 29 || string(data[12:16]) != "IHDR" {
		return 8
	}
	depth, colour, interlace := data[24], data[25], data[28]
	cost := 4.0
	switch {
	case depth == 16:
		cost = 8
	case colour == 3:
		cost = 1
	}
	if interlace != 0 {
		cost *= 2
	}
	return cost + 0.5 + 16/float64(h)
}

// webpDecodeCost is what x/image/webp holds a pixel: a lossy picture is
// 4:2:0 YCbCr (1.5 bytes); a lossless one is decoded as NRGBA, which a
// colour-indexing transform copies once (8 bytes); a lossy picture with an
// alpha channel adds the alpha plane and its lossless decoding.
func webpDecodeCost(data []byte) float64 {
	if len(data) < 16 {
		return 12
	}
	switch string(data[12:16]) {
	case "VP8 ":
		return 2
	case "VP8L":
		return 9
	}
	return 12 // VP8X: lossless, or lossy with alpha
}
