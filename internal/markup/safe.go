package markup

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// safeRenderer overrides goldmark's HTML renderer where a pack's text must
// not become markup, and for images and autolinks:
//
//   - raw HTML, inline or as a block, is shown escaped, as text; HTML
//     comments are dropped (authors leave notes in them);
//   - images get loading="lazy" and their alt text as plain text;
//   - autolinks (<https://…>) point where Options.ResolveLink said.
type safeRenderer struct{}

func (safeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(kindApp, renderApp)
}

func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	if n.Segments.Len() > 0 && bytes.HasPrefix(segValue(n.Segments.At(0), source), []byte("<!--")) {
		return ast.WalkSkipChildren, nil
	}
	for i := range n.Segments.Len() {
		_, _ = w.Write(util.EscapeHTML(segValue(n.Segments.At(i), source)))
	}
	return ast.WalkSkipChildren, nil
}

func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.HTMLBlock)
	if n.HTMLBlockType == ast.HTMLBlockType2 { // <!-- … -->
		return ast.WalkSkipChildren, nil
	}
	var raw []byte
	for i := range n.Lines().Len() {
		raw = append(raw, segValue(n.Lines().At(i), source)...)
	}
	if n.HasClosure() {
		raw = append(raw, n.ClosureLine.Value(source)...)
	}
	_, _ = w.WriteString("<p>")
	_, _ = w.Write(util.EscapeHTML(bytes.TrimRight(raw, "\r\n")))
	_, _ = w.WriteString("</p>\n")
	return ast.WalkSkipChildren, nil
}

func renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	_, _ = w.WriteString(`<img src="`)
	writeURL(w, n.Destination)
	_, _ = w.WriteString(`" alt="`)
	_, _ = w.Write(util.EscapeHTML([]byte(plainText(n, source))))
	_ = w.WriteByte('"')
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	_, _ = w.WriteString(` loading="lazy">`)
	return ast.WalkSkipChildren, nil
}

// hrefAttr is the attribute in which prepare leaves an autolink's resolved
// destination.
const hrefAttr = "href"

func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	dest := autoLinkDest(n, source)
	if v, ok := n.AttributeString(hrefAttr); ok {
		dest, _ = v.([]byte)
	}
	_, _ = w.WriteString(`<a href="`)
	writeURL(w, dest)
	_, _ = w.WriteString(`">`)
	_, _ = w.Write(util.EscapeHTML(n.Label(source)))
	_, _ = w.WriteString(`</a>`)
	return ast.WalkSkipChildren, nil
}

// autoLinkDest is where an autolink points as written.
func autoLinkDest(n *ast.AutoLink, source []byte) []byte {
	url := n.URL(source)
	if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(url), []byte("mailto:")) {
		url = append([]byte("mailto:"), url...)
	}
	return url
}

// segValue is the text of s in source.
func segValue(s text.Segment, source []byte) []byte { return s.Value(source) }

// writeURL writes dest escaped for an attribute, or nothing if it is a
// javascript:, vbscript:, file: or non-image data: URL.
func writeURL(w util.BufWriter, dest []byte) {
	u := util.URLEscape(dest, true)
	if html.IsDangerousURL(u) {
		return
	}
	_, _ = w.Write(util.EscapeHTML(u))
}
