package server

import (
	"html/template"

	"github.com/mitstem/stembox/internal/learn"
)

// pictureShapes are the icons of picture passwords, drawn in a 40×40 box so
// that children who cannot read yet can tell them apart on any screen.
var pictureShapes = map[string]string{
	"sun":    `<circle cx="20" cy="20" r="9" fill="#f5b400"/><g stroke="#f5b400" stroke-width="3"><path d="M20 2v7M20 31v7M2 20h7M31 20h7M7 7l5 5M28 28l5 5M7 33l5-5M28 12l5-5"/></g>`,
	"moon":   `<path d="M26 5a16 16 0 1 0 9 25A13 13 0 0 1 26 5z" fill="#5c6bc0"/>`,
	"star":   `<path d="M20 3l5 11 12 1-9 8 3 12-11-6-11 6 3-12-9-8 12-1z" fill="#ffb300"/>`,
	"tree":   `<rect x="17" y="26" width="6" height="11" fill="#795548"/><circle cx="20" cy="16" r="12" fill="#2e7d32"/>`,
	"fish":   `<path d="M4 20c7-10 20-10 26 0-6 10-19 10-26 0z" fill="#0288d1"/><path d="M29 20l8-7v14z" fill="#0288d1"/><circle cx="11" cy="18" r="2" fill="#fff"/>`,
	"apple":  `<circle cx="20" cy="23" r="13" fill="#d32f2f"/><path d="M20 10c0-4 3-6 6-7" stroke="#5d4037" stroke-width="3" fill="none"/>`,
	"house":  `<path d="M5 20L20 6l15 14z" fill="#c62828"/><rect x="9" y="20" width="22" height="16" fill="#8d6e63"/><rect x="17" y="26" width="6" height="10" fill="#4e342e"/>`,
	"ball":   `<circle cx="20" cy="20" r="15" fill="#fff" stroke="#212121" stroke-width="2"/><path d="M20 12l7 5-3 8h-8l-3-8z" fill="#212121"/>`,
	"flower": `<g fill="#ec407a"><circle cx="20" cy="10" r="6"/><circle cx="30" cy="18" r="6"/><circle cx="26" cy="29" r="6"/><circle cx="14" cy="29" r="6"/><circle cx="10" cy="18" r="6"/></g><circle cx="20" cy="20" r="5" fill="#fdd835"/>`,
}

// pictureSVG draws a picture-password icon; its name is its alt text.
func pictureSVG(name string) template.HTML {
	shape, ok := pictureShapes[name]
	if !ok {
		return template.HTML(template.HTMLEscapeString(name))
	}
	return template.HTML(`<svg class="icon" viewBox="0 0 40 40" width="48" height="48" role="img" aria-label="` + name + `">` + shape + `</svg>`)
}

func masteryLabel(lang, rule string) string {
	r, err := learn.ParseMasteryRule(rule)
	if err != nil {
		return rule
	}
	return masteryText(lang, r)
}
