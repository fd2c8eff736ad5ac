package markup

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// App is what a lesson's app directive embeds: a paragraph of its own that
// reads "::app ID" becomes the app's page in a sandboxed frame
// (docs/pack-format.md, "Apps").
type App struct {
	ID    string
	Src   string // the frame's URL
	Title string // the frame's accessible name, in the lesson's language
}

// appDirective is the text of a paragraph that embeds an app.
var appDirective = regexp.MustCompile(`^::app[ \t]+([a-z0-9][a-z0-9-]{0,63})[ \t]*$`)

// kindApp is the node an app directive becomes.
var kindApp = ast.NewNodeKind("App")

type appNode struct {
	ast.BaseBlock
	app App
}

func (n *appNode) Kind() ast.NodeKind { return kindApp }

func (n *appNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"ID": n.app.ID}, nil)
}

// embedApps replaces the app directives among doc's blocks by the apps
// opt.App names. Without opt.App, directives stay text.
func embedApps(doc ast.Node, src []byte, opt Options) error {
	if opt.App == nil {
		return nil
	}
	for c := doc.FirstChild(); c != nil; {
		next := c.NextSibling()
		if c.Kind() == ast.KindParagraph {
			var raw []byte
			for i := range c.Lines().Len() {
				raw = append(raw, segValue(c.Lines().At(i), src)...)
			}
			if m := appDirective.FindSubmatch(bytes.TrimSpace(raw)); m != nil {
				a, err := opt.App(string(m[1]))
				if err != nil {
					return fmt.Errorf("line %d: app %q: %w", lineAt(src, blockStart(c)), m[1], err)
				}
				doc.ReplaceChild(doc, c, &appNode{app: a})
			} else if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("::app")) {
				return fmt.Errorf("line %d: an app is embedded by a paragraph of its own that reads \"::app ID\"", lineAt(src, blockStart(c)))
			}
		}
		c = next
	}
	return nil
}

// renderApp writes an app's sandboxed frame: scripts may run, in an origin
// of their own (no cookies, no storage of the box, no API with the
// learner's session), with no forms, popups or navigation of the page.
func renderApp(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	a := node.(*appNode).app
	_, _ = w.WriteString(`<figure class="app" data-app="`)
	_, _ = w.Write(util.EscapeHTML([]byte(a.ID)))
	_, _ = w.WriteString(`"><iframe src="`)
	writeURL(w, []byte(a.Src))
	_, _ = w.WriteString(`" sandbox="allow-scripts" title="`)
	_, _ = w.Write(util.EscapeHTML([]byte(a.Title)))
	_, _ = w.WriteString(`" data-app="`)
	_, _ = w.Write(util.EscapeHTML([]byte(a.ID)))
	_, _ = w.WriteString(`"></iframe></figure>` + "\n")
	return ast.WalkSkipChildren, nil
}
