// Package picture stands in for h-picture's until it is merged; this file
// goes then.
package picture

import (
	"bytes"
	"image"
	_ "image/jpeg"
	"image/png"
	"io"
)

type Limits struct {
	MaxBytes  int64
	MaxPixels int64
	MaxSide   int
}

func DefaultLimits() Limits { return Limits{MaxBytes: 12 << 20, MaxPixels: 40 << 20, MaxSide: 1600} }

type Picture struct {
	Data          []byte
	Type, Ext     string
	Width, Height int
}

type Error struct {
	Key  string
	Args []any
}

func (e *Error) Error() string { return e.Key }

func Clean(r io.Reader, lim Limits) (*Picture, error) {
	b, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > lim.MaxBytes {
		return nil, &Error{Key: "picture.too_big", Args: []any{lim.MaxBytes >> 20}}
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, &Error{Key: "picture.not_picture"}
	}
	var out bytes.Buffer
	png.Encode(&out, img)
	return &Picture{Data: out.Bytes(), Type: "image/png", Ext: ".png", Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}, nil
}
