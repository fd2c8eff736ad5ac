package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// jpegQuality is a photo's: artefacts are not visible on a phone or a
// projector, and a 1600×1200 photo is about 200–300 KB.
const jpegQuality = 82

// encode writes img with no metadata (Go's encoders write none). A
// picture with transparency is a PNG; one of 256 colours or fewer (a
// drawing, a diagram) a paletted PNG; a photo (a JPEG came in) a JPEG.
// Otherwise (an opaque PNG or WebP of many colours: a screenshot, a
// scaled diagram, or a photo) it is a PNG when that is at most twice the
// JPEG's size, since text and lines stay sharp in it, and a JPEG if not.
func encode(img *image.RGBA, photo bool) (*Picture, error) {
	p := &Picture{Width: img.Rect.Dx(), Height: img.Rect.Dy()}
	opaque := img.Opaque()
	if !photo || !opaque {
		if pal, ok := fewColours(img, 256); ok {
			return p.png(pal)
		}
	}
	if !opaque {
		return p.png(img)
	}
	j, err := p.jpeg(img)
	if err != nil || photo {
		return j, err
	}
	asJPEG := len(j.Data)
	j.Data = nil
	pp, err := p.png(img)
	if err != nil || len(pp.Data) <= 2*asJPEG {
		return pp, err
	}
	return p.jpeg(img)
}

func (p *Picture) png(img image.Image) (*Picture, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("picture: encode png: %w", err)
	}
	return &Picture{Data: buf.Bytes(), Type: "image/png", Ext: ".png", Width: p.Width, Height: p.Height}, nil
}

func (p *Picture) jpeg(img image.Image) (*Picture, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return nil, fmt.Errorf("picture: encode jpeg: %w", err)
	}
	return &Picture{Data: buf.Bytes(), Type: "image/jpeg", Ext: ".jpg", Width: p.Width, Height: p.Height}, nil
}

// fewColours is img as a paletted picture if it has at most n colours.
func fewColours(img *image.RGBA, n int) (*image.Paletted, bool) {
	index := map[color.RGBA]uint8{}
	var pal color.Palette
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewPaletted(img.Rect, nil)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			c := color.RGBA{row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]}
			i, ok := index[c]
			if !ok {
				if len(pal) == n {
					return nil, false
				}
				i = uint8(len(pal))
				index[c] = i
				pal = append(pal, c)
			}
			out.Pix[y*out.Stride+x] = i
		}
	}
	out.Palette = pal
	return out, true
}
