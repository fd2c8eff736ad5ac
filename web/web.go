// Package web holds the box's HTML templates and static assets, embedded in
// the binary.
package web

import "embed"

// Templates are the html/template pages: layout.html plus one file a page.
//
//go:embed templates/*.html
var Templates embed.FS

// Static are the files served under /static/: the stylesheet, icons, and
// vendored third-party assets (KaTeX's stylesheet and fonts) with their
// licences.
//
//go:embed static
var Static embed.FS
