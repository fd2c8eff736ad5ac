package markup

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// This file is the goldmark extension for TeX formulas:
//
//   - $…$ is inline math. As in Pandoc, the opening $ must be followed by a
//     non-space and the closing $ preceded by a non-space and not followed by
//     a digit; and the next $ must be that closing one. So "from $5 to $10"
//     stays text, and so does an unmatched $. A formula may go on over the
//     lines of its paragraph.
//   - $$…$$ is display math and may span lines. An unclosed $$ is an error.
//     Display math that stands on lines of its own becomes a block of its
//     own (splitting its paragraph), not a <p>.
//   - \$ is a literal dollar, in text and inside formulas (where TeX reads it
//     as one). Code spans and code blocks are never scanned.

var (
	kindMath      = ast.NewNodeKind("Math")
	kindMathBlock = ast.NewNodeKind("MathBlock")
)

// mathNode is a formula in a line of text: $…$, or $$…$$ with text around it.
type mathNode struct {
	ast.BaseInline
	tex      []byte
	display  bool
	unclosed bool // $$ without its closing $$: rendering fails with the line
	forgive  formulaError
}

// formulaError is Options.FormulaError.
type formulaError = func(tex string, display bool, err error) string

// ErrUnclosedDisplay is the error of $$ without its closing $$, given to
// Options.FormulaError.
var ErrUnclosedDisplay = errors.New("$$ without a closing $$ in its paragraph")

// forgive gives every formula of doc the function that renders its error.
func forgive(doc ast.Node, f formulaError) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n := n.(type) {
			case *mathNode:
				n.forgive = f
			case *mathBlock:
				n.forgive = f
			}
		}
		return ast.WalkContinue, nil
	})
}

func (n *mathNode) Kind() ast.NodeKind { return kindMath }

func (n *mathNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{
		"TeX":     string(n.tex),
		"Display": fmt.Sprint(n.display),
	}, nil)
}

// mathBlock is display math standing on lines of its own.
type mathBlock struct {
	ast.BaseBlock
	tex     []byte
	forgive formulaError
}

func (n *mathBlock) Kind() ast.NodeKind { return kindMathBlock }

func (n *mathBlock) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"TeX": string(n.tex)}, nil)
}

// mathExtension adds formulas to goldmark, rendered with k.
type mathExtension struct {
	k Formulas
}

func (e *mathExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithInlineParsers(util.Prioritized(mathParser{}, 150)),
		parser.WithASTTransformers(util.Prioritized(mathBlockTransformer{}, 100)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(&mathRenderer{k: e.k}, 100)))
}

// mathParser parses $…$ and $$…$$ into mathNodes.
type mathParser struct{}

func (mathParser) Trigger() []byte { return []byte{'$'} }

func (mathParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, seg := block.PeekLine()
	if len(line) == 0 || line[0] != '$' {
		return nil
	}
	var n *mathNode
	if len(line) > 1 && line[1] == '$' {
		n = parseDisplayMath(block)
	} else {
		n = parseInlineMath(block)
	}
	if n == nil {
		return nil // not a typed nil: goldmark compares with nil
	}
	n.SetPos(seg.Start)
	return n
}

// parseInlineMath parses $…$, or returns nil to leave the $ as text.
func parseInlineMath(block text.Reader) *mathNode {
	line, _ := block.PeekLine()
	if len(line) < 2 || util.IsSpace(line[1]) {
		return nil
	}
	block.Advance(1)
	var tex []byte
	for {
		line, _ := block.PeekLine()
		if line == nil {
			return nil
		}
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++ // an escaped character, \$ included, is part of the formula
			case '$':
				// TeX has no unescaped $ inside a formula: a $ that cannot
				// close this one means the opening $ was a dollar sign.
				if i == 0 || util.IsSpace(line[i-1]) || (i+1 < len(line) && isDigit(line[i+1])) {
					return nil
				}
				block.Advance(i + 1)
				return &mathNode{tex: append(tex, line[:i]...)}
			}
		}
		tex = append(tex, line...)
		block.AdvanceLine()
	}
}

// parseDisplayMath parses $$…$$, which may span the lines of its paragraph.
func parseDisplayMath(block text.Reader) *mathNode {
	block.Advance(2)
	var tex []byte
	for {
		line, _ := block.PeekLine()
		if line == nil {
			return &mathNode{tex: bytes.TrimSpace(tex), display: true, unclosed: true}
		}
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '$':
				if i+1 < len(line) && line[i+1] == '$' {
					tex = bytes.TrimSpace(append(tex, line[:i]...))
					block.Advance(i + 2)
					if len(tex) == 0 {
						return nil // "$$$$" is text
					}
					return &mathNode{tex: tex, display: true}
				}
			}
		}
		tex = append(tex, line...)
		block.AdvanceLine()
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// mathBlockTransformer turns display math that stands on lines of its own
// into a mathBlock, splitting the paragraph (or the text block of a tight
// list item) around it.
type mathBlockTransformer struct{}

func (mathBlockTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var blocks []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindParagraph, ast.KindTextBlock:
			blocks = append(blocks, n)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, b := range blocks {
		splitDisplayMath(b, reader.Source())
	}
}

// splitDisplayMath replaces block b with the blocks it holds: runs of inline
// content in blocks of b's kind, and mathBlocks for its standalone display
// math. It leaves b alone if it holds no standalone display math.
func splitDisplayMath(b ast.Node, source []byte) {
	var parts []ast.Node // mathBlocks and groups of inline nodes, in order
	var run []ast.Node
	split := false
	flush := func() {
		if len(run) == 0 {
			return
		}
		if t, ok := run[len(run)-1].(*ast.Text); ok {
			t.SetSoftLineBreak(false)
			t.SetHardLineBreak(false)
		}
		var nb ast.Node = ast.NewParagraph()
		if b.Kind() == ast.KindTextBlock {
			nb = ast.NewTextBlock()
		}
		for _, c := range run {
			nb.AppendChild(nb, c)
		}
		parts = append(parts, nb)
		run = nil
	}
	for c := b.FirstChild(); c != nil; c = c.NextSibling() {
		m, ok := c.(*mathNode)
		if !ok || !m.display || m.unclosed || !endsLine(c.PreviousSibling()) || !startsLine(c.NextSibling(), source) {
			run = append(run, c)
			continue
		}
		split = true
		flush()
		mb := &mathBlock{tex: m.tex, forgive: m.forgive}
		mb.SetPos(m.Pos())
		parts = append(parts, mb)
		if next := c.NextSibling(); next != nil {
			c = next // the blank text ending the formula's line
		}
	}
	if !split {
		return
	}
	flush()
	parent := b.Parent()
	for _, p := range parts {
		parent.InsertBefore(parent, b, p)
	}
	parent.RemoveChild(parent, b)
}

// endsLine reports whether n, the node before a formula, ends its line.
func endsLine(n ast.Node) bool {
	if n == nil {
		return true
	}
	t, ok := n.(*ast.Text)
	return ok && (t.SoftLineBreak() || t.HardLineBreak())
}

// startsLine reports whether n, the node after a formula, is nothing but the
// end of the formula's line.
func startsLine(n ast.Node, source []byte) bool {
	if n == nil {
		return true
	}
	t, ok := n.(*ast.Text)
	return ok && (t.SoftLineBreak() || t.HardLineBreak() || t.NextSibling() == nil) &&
		len(bytes.TrimSpace(t.Segment.Value(source))) == 0
}

// mathRenderer renders mathNodes and mathBlocks with KaTeX.
type mathRenderer struct {
	k Formulas
}

func (r *mathRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindMath, r.renderMath)
	reg.Register(kindMathBlock, r.renderMathBlock)
}

func (r *mathRenderer) renderMath(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*mathNode)
	if n.unclosed {
		if n.forgive != nil {
			_, _ = w.WriteString(n.forgive(string(n.tex), true, ErrUnclosedDisplay))
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkStop, fmt.Errorf("line %d: %w", lineAt(source, n.Pos()), ErrUnclosedDisplay)
	}
	return ast.WalkSkipChildren, r.write(w, source, n.tex, n.display, n.Pos(), n.forgive)
}

func (r *mathRenderer) renderMathBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*mathBlock)
	if err := r.write(w, source, n.tex, true, n.Pos(), n.forgive); err != nil {
		return ast.WalkStop, err
	}
	_ = w.WriteByte('\n')
	return ast.WalkSkipChildren, nil
}

func (r *mathRenderer) write(w util.BufWriter, source, tex []byte, display bool, pos int, forgive formulaError) error {
	html, err := r.k.Render(string(tex), display)
	if err != nil && forgive != nil {
		html, err = forgive(string(tex), display, err), nil
	}
	if err != nil {
		return fmt.Errorf("line %d: formula \"%s\": %w", lineAt(source, pos), oneLine(tex), err)
	}
	_, _ = w.WriteString(html)
	return nil
}

// oneLine shortens a formula for an error message.
func oneLine(tex []byte) string {
	s := strings.Join(strings.Fields(string(tex)), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:77]) + "…"
	}
	return s
}
