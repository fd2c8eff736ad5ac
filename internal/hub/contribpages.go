package hub

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/upstream/wire"
	"github.com/mitstem/stembox/web"
)

// The contributions' HTTP: the box endpoint that receives them, and the
// operator's pages that list, preview and publish them (contributions.go).

func (h *Hub) contributionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+wire.PathContributions, h.boxOnly(h.handleContribute))
	mux.HandleFunc("GET /contributions", h.operatorPage(h.handleContributions))
	mux.HandleFunc("GET /contributions/{sha}", h.operatorPage(h.handleContribution))
	mux.HandleFunc("GET /contributions/{sha}/preview", h.operatorPage(h.handleContributionPreview))
	mux.HandleFunc("GET /contributions/{sha}/archive", h.operatorPage(h.handleContributionArchive))
	mux.HandleFunc("POST /contributions/{sha}/publish", h.operatorPage(h.handlePublishContribution))
	mux.HandleFunc("POST /box-keys/{box}/reset", h.operatorPage(h.handleResetBoxKey))
}

// handleContribute takes a pack a box's teachers made: the body is the
// .stempack, HeaderBoxKey the box's public key.
func (h *Hub) handleContribute(w http.ResponseWriter, r *http.Request) {
	id := boxOf(r)
	if err := h.ingest.check("contributions:"+id.Credential, "contributions"); err != nil {
		h.failJSON(w, r, err)
		return
	}
	if r.ContentLength > MaxContribution {
		h.failJSON(w, r, failure.Errorf(failure.TooLarge, "a contribution may be at most %d bytes", MaxContribution))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxContribution))
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	res, err := h.store.Contribute(r.Context(), id, r.Header.Get(wire.HeaderBoxKey), body)
	if err != nil {
		if k := failure.KindOf(err); k == failure.Invalid || k == failure.Conflict {
			h.log.Warn("contribution refused", "box", id.BoxID, "school", id.SchoolID, "err", err)
		}
		h.failJSON(w, r, err)
		return
	}
	if !res.Known {
		h.log.Info("contribution received", "box", id.BoxID, "school", id.SchoolID, "pack", res.ID, "version", res.Version, "sha256", res.SHA256)
	}
	writeJSON(w, http.StatusOK, res)
}

type contributionsData struct {
	Contributions []Contribution
	Keys          []boundKeyRow
}

type boundKeyRow struct {
	BoundKey
	Fingerprint string
}

func (h *Hub) handleContributions(w http.ResponseWriter, r *http.Request, s *Session) {
	cs, err := h.store.Contributions(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	keys, err := h.store.BoundKeys(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	d := contributionsData{Contributions: cs}
	for _, k := range keys {
		d.Keys = append(d.Keys, boundKeyRow{BoundKey: k, Fingerprint: content.Fingerprint(k.Key)})
	}
	h.render(w, r, http.StatusOK, "hub-contributions", "hub.contrib.title", s, page{Data: d, Notice: r.FormValue("notice")})
}

type contributionData struct {
	C        Contribution
	Signing  string // the programme key's id, if the hub has it
	Schools  []School
	Regions  []string
	Resign   string // the offline re-signing command
	Download string
}

func (h *Hub) handleContribution(w http.ResponseWriter, r *http.Request, s *Session) {
	c, _, err := h.store.Contribution(r.Context(), r.PathValue("sha"))
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	schools, err := h.store.Schools(r.Context())
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	d := contributionData{C: c, Schools: schools, Regions: regionsOf(schools), Download: "/contributions/" + c.SHA256 + "/archive"}
	if h.signer != nil {
		d.Signing = h.signer.Public().ID
	} else {
		d.Resign = "stembox pack sign --key PROGRAMME-KEY --out DIR " + content.ArchiveName(c.PackID, c.Version)
	}
	h.render(w, r, http.StatusOK, "hub-contribution", "hub.contrib.one", s, page{Data: d, Notice: r.FormValue("notice")})
}

// handleContributionArchive sends the archive as the box sent it (to
// re-sign it offline).
func (h *Hub) handleContributionArchive(w http.ResponseWriter, r *http.Request, s *Session) {
	c, archive, err := h.store.Contribution(r.Context(), r.PathValue("sha"))
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": content.ArchiveName(c.PackID, c.Version)}))
	w.Write(archive)
}

func (h *Hub) handlePublishContribution(w http.ResponseWriter, r *http.Request, s *Session) {
	rq := Requirement{Scope: r.PostFormValue("scope"), Value: r.PostFormValue("value")}
	if rq.Scope == "region" {
		rq.Value = r.PostFormValue("region")
	}
	sha := r.PathValue("sha")
	res, err := h.store.PublishContribution(r.Context(), sha, h.signer, h.keys, []Requirement{rq})
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	h.log.Info("contribution published, re-signed", "sha256", sha, "pack", res.ID, "version", res.Version, "scope", rq.Scope, "value", rq.Value, "operator", s.Operator.Name)
	msg := i18n.T(h.lang(r), "hub.packs.published", res.ID, res.Version, res.NewFiles)
	http.Redirect(w, r, "/contributions/"+url.PathEscape(sha)+"?notice="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (h *Hub) handleResetBoxKey(w http.ResponseWriter, r *http.Request, s *Session) {
	box := r.PathValue("box")
	if err := h.store.ResetBoxKey(r.Context(), box); err != nil {
		h.failPage(w, r, s, err)
		return
	}
	h.log.Info("box key binding reset", "box", box, "operator", s.Operator.Name)
	http.Redirect(w, r, "/contributions", http.StatusSeeOther)
}

// uploaded reads the files of a multipart form's field by name (the
// contributions uploaded beside a bundle on the import page).
func uploaded(r *http.Request, field string) func(name string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if r.MultipartForm == nil {
			return nil, fs.ErrNotExist
		}
		for _, fh := range r.MultipartForm.File[field] {
			if fh.Filename != name {
				continue
			}
			if fh.Size > MaxContribution {
				return nil, failure.Errorf(failure.TooLarge, "%s is larger than a contribution may be", name)
			}
			f, err := fh.Open()
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return io.ReadAll(io.LimitReader(f, MaxContribution))
		}
		return nil, fs.ErrNotExist
	}
}

// handleContributionPreview shows what the pack holds: its lessons as the
// box renders them, its sets' questions with their answers. The HTML is the
// box's, not the hub's: it is served as a sandboxed document (no scripts,
// no forms, its own origin), framed only by the hub's own page.
func (h *Hub) handleContributionPreview(w http.ResponseWriter, r *http.Request, s *Session) {
	_, archive, err := h.store.Contribution(r.Context(), r.PathValue("sha"))
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	doc, err := previewDoc(archive, h.lang(r))
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	hd.Del("X-Frame-Options")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.Write(doc)
}

type previewLesson struct {
	Title, Lang string
	HTML        template.HTML
}

type previewItem struct {
	N        int
	Kind     string
	Prompt   template.HTML
	Choices  []previewChoice
	Answers  []string
	Feedback template.HTML
}

type previewChoice struct {
	Text     template.HTML
	Right    bool
	Weight   string
	Feedback template.HTML
}

type previewSet struct {
	Title string
	Lang  string
	Items []previewItem
}

var previewTmpl = template.Must(template.New("preview").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>{{.KatexCSS}}</style>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem}
section{border-top:2px solid #ddd;margin-top:1.5rem}.right{color:#0b6e4f;font-weight:bold}.meta{color:#666;font-size:.9em}
.feedback{color:#555;font-style:italic}img,svg{max-width:100%;max-height:16rem;height:auto}</style></head><body>
<p class="meta">{{.ID}} {{.Version}}</p>
{{- range .Lessons}}
<section lang="{{.Lang}}"><h2>{{.Title}} <span class="meta">({{.Lang}})</span></h2>{{.HTML}}</section>
{{- end}}
{{- range .Sets}}
<section lang="{{.Lang}}"><h2>{{.Title}} <span class="meta">({{.Lang}})</span></h2>
<ol>{{range .Items}}<li><span class="meta">{{.Kind}}</span> {{.Prompt}}
{{- if .Choices}}<ul>{{range .Choices}}<li{{if .Right}} class="right"{{end}}>{{if .Right}}✓ {{end}}{{.Text}} <span class="meta">{{.Weight}}</span>{{with .Feedback}} <span class="feedback">{{.}}</span>{{end}}</li>{{end}}</ul>{{end}}
{{- if .Answers}}<ul>{{range .Answers}}<li class="right">✓ {{.}}</li>{{end}}</ul>{{end}}
{{- with .Feedback}}<p class="feedback">{{.}}</p>{{end}}</li>{{end}}</ol></section>
{{- end}}
</body></html>`))

// previewDoc renders a contributed pack for the operator, in every
// language it has (the page's first).
func previewDoc(archive []byte, lang string) ([]byte, error) {
	a, err := content.InspectArchive(bytes.NewReader(archive), int64(len(archive)), content.DefaultLimits)
	if err != nil {
		return nil, err
	}
	m := &a.Manifest
	langs := []string{}
	for _, l := range m.Languages {
		if l == lang {
			langs = append([]string{l}, langs...)
		} else {
			langs = append(langs, l)
		}
	}
	d := struct {
		Title, ID, Version string
		KatexCSS           template.CSS
		Lessons            []previewLesson
		Sets               []previewSet
	}{Title: m.Title.In(lang, m.Languages[0]), ID: m.ID, Version: m.Version, KatexCSS: katexCSS()}
	for _, l := range m.Lessons {
		for _, lg := range langs {
			rc, err := a.Open(content.LessonPath(l.ID, lg))
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(io.LimitReader(rc, 4<<20))
			rc.Close()
			if err != nil {
				return nil, err
			}
			html := inlinePictures(a, string(b))
			d.Lessons = append(d.Lessons, previewLesson{Title: l.Title.In(lg, m.Languages[0]), Lang: lg, HTML: template.HTML(html)}) // sandboxed: see handleContributionPreview
		}
	}
	sets, err := a.Sets()
	if err != nil {
		return nil, err
	}
	for _, info := range m.Sets {
		for _, lg := range info.Languages {
			d.Sets = append(d.Sets, previewSetOf(a, sets[info.ID], info, lg, m.Languages[0]))
		}
	}
	var buf bytes.Buffer
	if err := previewTmpl.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func previewSetOf(a *content.Archive, set *learn.Set, info content.SetInfo, lang, fallback string) previewSet {
	html := func(t learn.Text) template.HTML { return template.HTML(inlinePictures(a, t.In(lang, fallback))) } // the pack's rendered HTML, sandboxed
	ps := previewSet{Title: info.Title.In(lang, fallback), Lang: lang}
	for i, it := range set.Items {
		pi := previewItem{N: i + 1, Kind: string(it.Kind), Prompt: html(it.Prompt), Feedback: html(it.Feedback.General)}
		for _, c := range it.Choices {
			pi.Choices = append(pi.Choices, previewChoice{Text: html(c.Text), Right: c.Weight > 0, Weight: fmt.Sprintf("%+.0f%%", c.Weight*100), Feedback: html(c.Feedback)})
		}
		switch it.Kind {
		case learn.TrueFalse:
			pi.Answers = []string{fmt.Sprint(it.Truth)}
		case learn.Numeric:
			unit := it.Unit.In(lang, fallback)
			for _, n := range it.Numbers {
				a := fmt.Sprintf("%g … %g", n.Min, n.Max)
				if n.Min == n.Max {
					a = fmt.Sprintf("%g", n.Min)
				}
				pi.Answers = append(pi.Answers, strings.TrimSpace(a+" "+unit))
			}
		case learn.ShortText:
			for _, t := range it.Texts {
				if t.Lang == "" || t.Lang == lang {
					pi.Answers = append(pi.Answers, t.Text)
				}
			}
		}
		ps.Items = append(ps.Items, pi)
	}
	return ps
}

// packSrc finds the pack's own pictures in rendered HTML ("pack:media/…").
var packSrc = regexp.MustCompile(`src="pack:([^"]+)"`)

// inlinePictures puts the pack's pictures into the HTML as data: URLs, the
// only pictures the sandboxed preview loads.
func inlinePictures(a *content.Archive, html string) string {
	return packSrc.ReplaceAllStringFunc(html, func(m string) string {
		p := packSrc.FindStringSubmatch(m)[1]
		typ := mime.TypeByExtension(path.Ext(p))
		if !strings.HasPrefix(typ, "image/") {
			return m
		}
		rc, err := a.Open(p)
		if err != nil {
			return m
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		if err != nil {
			return m
		}
		return `src="data:` + typ + `;base64,` + base64.StdEncoding.EncodeToString(b) + `"`
	})
}

var katexOnce = sync.OnceValue(func() template.CSS {
	b, err := fs.ReadFile(web.Static, "static/vendor/katex/katex.min.css")
	if err != nil {
		return ""
	}
	// The vendored stylesheet, without its fonts: the sandbox loads none,
	// and a font that never comes must not hold the text back.
	return template.CSS(fontFace.ReplaceAll(b, nil))
})

var fontFace = regexp.MustCompile(`@font-face\{[^}]*\}`)

func katexCSS() template.CSS { return katexOnce() }
