package server

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/markup"
)

// The studio's live preview (docs/studio.md): a teacher's Markdown and TeX,
// rendered by the same markup and KaTeX code that builds packs, so that
// what she sees is what students get. web/static/preview.js posts the text
// of a <textarea data-preview="ID"> a moment after she stops typing.

const (
	// maxPreviewText is the most text one preview renders: a studio text
	// field's limit (studio.Limits), in bytes of UTF-8.
	maxPreviewText = 20 << 10
	// previewCacheBytes bounds the formulas the preview keeps rendered.
	previewCacheBytes = 16 << 20
	// studioMediaPrefix is where the studio serves a draft's pictures.
	studioMediaPrefix = "/teach/studio/media/"
)

// previewer renders previews. KaTeX runs in as many JavaScript runtimes as
// the box has cores, each started the first time it is needed (about 50 ms
// and a few MB each), so a box where nobody writes pays nothing.
//
// At most two previews a core render at once (slots); the others wait their
// turn, so twenty teachers typing cannot take the box's CPU from its
// students, and a teacher who leaves stops waiting.
type previewer struct {
	formulas *katex.Pool
	md       *markup.Renderer
	slots    chan struct{}
}

func newPreviewer() *previewer {
	n := runtime.GOMAXPROCS(0)
	p := katex.NewPool(n, previewCacheBytes)
	return &previewer{formulas: p, md: markup.New(p), slots: make(chan struct{}, 2*n)}
}

func (s *Server) previewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /teach/studio/preview", s.handlePreview)
}

// handlePreview answers POST /teach/studio/preview (form fields text, lang
// and csrf) with the text rendered as an HTML fragment. Problems in the text
// are part of the fragment, never a failed request; only a request that is
// refused (not signed in, no CSRF token, over 20 KB) gets another status,
// with a one-line fragment saying why.
func (s *Server) handlePreview(w http.ResponseWriter, r *http.Request) {
	ui := s.lang(r)
	v := viewerOf(r)
	if !v.isUser() {
		writeFragment(w, http.StatusForbidden, previewNotice(i18n.T(ui, "error.sign_in")))
		return
	}
	if err := s.parseForm(w, r, v); err != nil {
		status, msg := statusOf(err), i18n.T(ui, "error.bad_form")
		switch {
		case errors.Is(err, errCSRF):
			msg = i18n.T(ui, "preview.form_expired")
		case status == http.StatusRequestEntityTooLarge:
			msg = i18n.T(ui, "preview.too_long", maxPreviewText>>10)
		}
		writeFragment(w, status, previewNotice(msg))
		return
	}
	text := r.PostForm.Get("text")
	if len(text) > maxPreviewText {
		writeFragment(w, http.StatusRequestEntityTooLarge, previewNotice(i18n.T(ui, "preview.too_long", maxPreviewText>>10)))
		return
	}
	lang := r.PostForm.Get("lang")
	if !i18n.Supported(lang) {
		lang = ui
	}
	select {
	case s.preview.slots <- struct{}{}:
	case <-r.Context().Done():
		return // the teacher typed on, or left: preview.js drops this answer anyway
	}
	out := s.preview.render(text, lang, ui)
	<-s.preview.slots
	writeFragment(w, http.StatusOK, out)
}

// render renders text, written in lang, with messages in ui.
func (p *previewer) render(text, lang, ui string) string {
	var badLink string
	out, err := p.md.Inline(text, markup.Options{
		ResolveLink: func(dest string) (string, error) {
			u, err := studioLink(dest)
			if err != nil {
				badLink = dest
			}
			return u, err
		},
		FormulaError: func(tex string, display bool, err error) string {
			return formulaProblem(ui, tex, display, err)
		},
	})
	if err != nil {
		why := err.Error()
		if badLink != "" {
			why = i18n.T(ui, "preview.bad_link", badLink)
		}
		return previewNotice(i18n.T(ui, "preview.problem", why))
	}
	return `<div class="preview" lang="` + lang + `">` + out + `</div>`
}

// mediaName is the name of a studio picture (a SHA-256 and an extension).
var mediaName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// studioLink is where a link of a teacher's text points in the preview:
// media/NAME is a picture of her drafts; http, https and mailto links stay;
// anything else is refused, as a pack build would refuse it.
func studioLink(dest string) (string, error) {
	if strings.HasPrefix(dest, "#") {
		return dest, nil
	}
	u, err := url.Parse(dest)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "https", "mailto":
		return dest, nil
	case "":
		if name, ok := strings.CutPrefix(u.Path, "media/"); ok && mediaName.MatchString(name) && !strings.Contains(name, "..") {
			return studioMediaPrefix + name, nil
		}
	}
	return "", fmt.Errorf("link %q is not allowed", dest)
}

// formulaProblem is what the preview shows in place of a formula that
// cannot be rendered: what is wrong, in the page's language, and the
// formula as written.
func formulaProblem(ui, tex string, display bool, err error) string {
	var msg, title string
	var pe *katex.ParseError
	switch {
	case errors.Is(err, markup.ErrUnclosedDisplay):
		msg = i18n.T(ui, "preview.tex_unclosed")
	case errors.As(err, &pe) && pe.Command != "":
		msg = i18n.T(ui, "preview.tex_not_allowed", pe.Command)
	case errors.As(err, &pe) && strings.HasPrefix(pe.Raw, "Undefined control sequence: "):
		msg = i18n.T(ui, "preview.tex_undefined", strings.TrimPrefix(pe.Raw, "Undefined control sequence: "))
	case errors.As(err, &pe):
		// KaTeX's own words are English: they go in the tooltip only.
		title = pe.Message
		msg = i18n.T(ui, "preview.tex_error")
		if pe.Position >= 0 {
			msg += " " + i18n.T(ui, "preview.tex_at", pe.Position+1)
		}
	default:
		msg = i18n.T(ui, "preview.tex_too_complex")
	}
	tag := "span"
	if display {
		tag = "div"
	}
	return `<` + tag + ` class="tex-error" role="note" title="` + html.EscapeString(title) + `"><strong>` + html.EscapeString(msg) + `</strong> <code>` +
		html.EscapeString(tex) + `</code></` + tag + `>`
}

// previewNotice is a fragment that says why there is no preview.
func previewNotice(msg string) string {
	return `<p class="preview-notice" role="status">` + html.EscapeString(msg) + `</p>`
}

func writeFragment(w http.ResponseWriter, status int, fragment string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(fragment))
}
