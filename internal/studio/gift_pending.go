package studio

import "errors"

// FromGIFT stands in for h-core's; this file goes when it is merged.
func FromGIFT(name string, src []byte, lang string) (Doc, error) {
	return Doc{}, errors.New("GIFT import is not built yet")
}
