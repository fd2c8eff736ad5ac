// Package markup renders the Markdown of lessons and exercise texts, with TeX
// formulas, to HTML fragments. It runs when a pack is built; see the Lessons
// section of docs/pack-format.md for what authors may write.
//
// The Markdown is CommonMark with GFM tables, plus $…$ and $$…$$ formulas
// rendered by KaTeX (see math.go). Raw HTML is escaped, never passed through,
// so a pack cannot carry scripts or markup of its own.
package markup

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/mitstem/stembox/internal/katex"
)

// Renderer turns Markdown with formulas into HTML. It is safe for
// concurrent use; formulas are rendered as its Formulas allow (a
// katex.Renderer renders one at a time, a katex.Pool several).
type Renderer struct {
	md goldmark.Markdown
}

// Formulas renders a TeX formula to HTML: a *katex.Renderer (pack builds)
// or a *katex.Pool (the studio's preview).
type Formulas interface {
	Render(tex string, display bool) (string, error)
}

var _ Formulas = (*katex.Renderer)(nil)
var _ Formulas = (*katex.Pool)(nil)

// New returns a Renderer that renders formulas with k.
func New(k Formulas) *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			&mathExtension{k: k},
		),
		goldmark.WithRendererOptions(
			renderer.WithNodeRenderers(util.Prioritized(safeRenderer{}, 100)),
		),
	)
	return &Renderer{md: md}
}

// Options adjust one rendering.
type Options struct {
	// ResolveLink is called with the destination of every link and image, as
	// written in the source (relative paths, absolute http(s) URLs, mailto:
	// of e-mail autolinks alike), and returns what the HTML should point to.
	// An error aborts the rendering. If nil, destinations stay as written.
	ResolveLink func(dest string) (string, error)

	// App is called with the id of every app a lesson embeds ("::app ID",
	// see app.go) and returns what to embed; an error aborts the
	// rendering. If nil, such paragraphs stay text.
	App func(id string) (App, error)

	// FormulaError, when set, is called with each formula that cannot be
	// rendered (a *katex.ParseError, ErrUnclosedDisplay, or KaTeX giving
	// up on it) and returns
	// the HTML to show in its place, so that the rest still renders: the
	// studio's preview shows a teacher her mistake where she made it. If
	// nil, such a formula is an error, as in a pack build.
	FormulaError func(tex string, display bool, err error) string
}

// bom is the byte order mark that Windows editors put at the start of a
// UTF-8 file; it would hide the title's '#'.
const bom = "\ufeff"

// Doc is a rendered lesson.
type Doc struct {
	Title string // plain text of the lesson's first level-1 heading
	HTML  string // the lesson without that heading
}

// Lesson renders a lesson. Its first level-1 heading is the title: Doc.Title
// holds its plain text and Doc.HTML lacks it, since the page prints the title
// itself. A lesson without one is an error. Errors name the line of src.
func (r *Renderer) Lesson(src []byte, opt Options) (Doc, error) {
	src = bytes.TrimPrefix(src, []byte(bom))
	doc := r.md.Parser().Parse(text.NewReader(src))
	var title *ast.Heading
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		if h, ok := c.(*ast.Heading); ok && h.Level == 1 {
			title = h
			break
		}
	}
	if title == nil {
		return Doc{}, errors.New("markup: no title: a lesson starts with a level-1 heading, # Title")
	}
	d := Doc{Title: plainText(title, src)}
	if d.Title == "" {
		return Doc{}, fmt.Errorf("markup: line %d: the title heading is empty", lineAt(src, blockStart(title)))
	}
	doc.RemoveChild(doc, title)
	html, err := r.render(doc, src, opt)
	if err != nil {
		return Doc{}, err
	}
	d.HTML = html
	return d, nil
}

// Inline renders a short text: an exercise prompt, a choice or feedback.
// When it is a single paragraph, the result lacks the surrounding <p> so
// that it can stand inside a <label> or <button>; several blocks keep their
// tags. Errors name the line of src.
func (r *Renderer) Inline(src string, opt Options) (string, error) {
	source := []byte(strings.TrimPrefix(src, bom))
	doc := r.md.Parser().Parse(text.NewReader(source))
	if p := doc.FirstChild(); p != nil && p.NextSibling() == nil && p.Kind() == ast.KindParagraph {
		for c := p.FirstChild(); c != nil; {
			next := c.NextSibling()
			doc.AppendChild(doc, c)
			c = next
		}
		doc.RemoveChild(doc, p)
	}
	html, err := r.render(doc, source, opt)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(html, "\n"), nil
}

// render resolves links, names headings and renders doc.
func (r *Renderer) render(doc ast.Node, src []byte, opt Options) (string, error) {
	if err := embedApps(doc, src, opt); err != nil {
		return "", fmt.Errorf("markup: %w", err)
	}
	if err := prepare(doc, src, opt); err != nil {
		return "", fmt.Errorf("markup: %w", err)
	}
	if opt.FormulaError != nil {
		forgive(doc, opt.FormulaError)
	}
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		return "", fmt.Errorf("markup: %w", err)
	}
	return buf.String(), nil
}

// prepare checks and rewrites link and image destinations through
// opt.ResolveLink, checks that images have alt text, and gives headings ids.
func prepare(doc ast.Node, src []byte, opt Options) error {
	var nodes []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n.Kind() {
			case ast.KindLink, ast.KindImage, ast.KindAutoLink, ast.KindHeading:
				nodes = append(nodes, n)
			}
		}
		return ast.WalkContinue, nil
	})
	resolve := func(what string, n ast.Node, dest []byte) ([]byte, error) {
		if opt.ResolveLink == nil {
			return dest, nil
		}
		got, err := opt.ResolveLink(string(dest))
		if err != nil {
			return nil, fmt.Errorf("line %d: %s \"%s\": %w", lineAt(src, inlineStart(n)), what, dest, err)
		}
		return []byte(got), nil
	}
	ids := make(map[string]bool)
	for _, n := range nodes {
		switch n := n.(type) {
		case *ast.Link:
			dest, err := resolve("link", n, n.Destination)
			if err != nil {
				return err
			}
			n.Destination = dest
		case *ast.Image:
			if strings.TrimSpace(plainText(n, src)) == "" {
				return fmt.Errorf("line %d: image \"%s\" has no alt text: describe it in the lesson's language, ![…](%s)",
					lineAt(src, inlineStart(n)), n.Destination, n.Destination)
			}
			dest, err := resolve("image", n, n.Destination)
			if err != nil {
				return err
			}
			n.Destination = dest
		case *ast.AutoLink:
			dest, err := resolve("link", n, autoLinkDest(n, src))
			if err != nil {
				return err
			}
			n.SetAttributeString(hrefAttr, dest)
		case *ast.Heading:
			n.SetAttributeString("id", []byte(uniqueID(ids, slug(plainText(n, src)))))
		}
	}
	return nil
}

// plainText is the text of n's inline content without markup: formulas as
// their TeX, images as their alt text, runs of spaces and line breaks as one
// space.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				v := c.Segment.Value(src)
				if !c.IsRaw() {
					v = util.UnescapePunctuations(v)
					v = util.ResolveNumericReferences(v)
					v = util.ResolveEntityNames(v)
				}
				b.Write(v)
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *mathNode:
				b.Write(c.tex)
			case *ast.AutoLink:
				b.Write(c.Label(src))
			case *ast.RawHTML:
				for i := range c.Segments.Len() {
					b.Write(segValue(c.Segments.At(i), src))
				}
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// slug makes a heading's text into an id: lower-case letters and digits of
// any script, words joined by '-'.
func slug(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if gap && b.Len() > 0 {
				b.WriteByte('-')
			}
			gap = false
			b.WriteRune(r)
			continue
		}
		gap = true
	}
	if b.Len() == 0 {
		return "section"
	}
	return b.String()
}

// uniqueID returns id, or id-2, id-3, … if it is taken, and records it.
func uniqueID(taken map[string]bool, id string) string {
	u := id
	for i := 2; taken[u]; i++ {
		u = fmt.Sprintf("%s-%d", id, i)
	}
	taken[u] = true
	return u
}

// lineAt is the 1-based line of byte offset off in src.
func lineAt(src []byte, off int) int {
	if off < 0 {
		return 0
	}
	return bytes.Count(src[:min(off, len(src))], []byte("\n")) + 1
}

// inlineStart is the offset where inline node n starts in the source, or
// where its block does if the parser did not record it.
func inlineStart(n ast.Node) int {
	for p := n; p != nil; p = p.Parent() {
		if p.Pos() >= 0 {
			return p.Pos()
		}
		if p.Type() == ast.TypeBlock {
			return blockStart(p)
		}
	}
	return -1
}

// blockStart is the offset of the first line of block n, or -1.
func blockStart(n ast.Node) int {
	if n.Pos() >= 0 {
		return n.Pos()
	}
	if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
		return n.Lines().At(0).Start
	}
	return -1
}
