package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
)

// pageCache holds rendered pages that are the same for every learner (a
// lesson in one UI language), so serving one costs a map look-up. Keys name
// the installed pack version, so an update makes new keys; the cache is
// emptied when it reaches its size.
type pageCache struct {
	mu      sync.RWMutex
	max     int
	entries map[pageKey]*cachedBody
}

// pageKey names a cached page; a struct key costs no allocation to build.
type pageKey struct{ pack, name, page, lang string }

var noCacheValue = []string{"no-cache"}

func newPageCache(max int) *pageCache {
	return &pageCache{max: max, entries: map[pageKey]*cachedBody{}}
}

func (c *pageCache) get(key pageKey) *cachedBody {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.entries[key]
}

func (c *pageCache) put(key pageKey, body []byte, modified time.Time) *cachedBody {
	sum := sha256.Sum256(body)
	p := newCachedBody(body, gzipBytes(body), "text/html; charset=utf-8", `"`+hex.EncodeToString(sum[:12])+`"`).withModified(modified)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.entries = map[pageKey]*cachedBody{}
	}
	c.entries[key] = p
	return p
}

func (s *Server) handleLesson(w http.ResponseWriter, r *http.Request) {
	p, err := s.pack(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lessonID := r.PathValue("lesson")
	lang := s.lang(r)
	var cp *cachedBody
	if v := viewerOf(r); v.Kind != "" {
		// A signed-in viewer sees their name in the header: render for them.
		body, err := s.renderLesson(r, v, p, lessonID, lang)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sum := sha256.Sum256(body)
		cp = newCachedBody(body, gzipFast(body), "text/html; charset=utf-8", `"`+hex.EncodeToString(sum[:12])+`"`)
		w.Header().Set("Cache-Control", "private, no-cache")
		writeCached(w, r, cp)
		return
	}
	key := pageKey{p.Manifest.ID, p.Name, lessonID, lang}
	if cp = s.lessons.get(key); cp == nil {
		body, err := s.renderLesson(r, anonymous, p, lessonID, lang)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cp = s.lessons.put(key, body, p.Installed)
	}
	w.Header()["Cache-Control"] = noCacheValue
	writeCached(w, r, cp)
}

// filesURL is where a pack's files are served from; it names the installed
// version, so the files may be cached for good.
func filesURL(p *content.Pack) string {
	return "/files/" + p.Manifest.ID + "/" + p.Name + "/"
}

// rewritePackLinks points a built lesson's "pack:" links at this box's URLs.
func rewritePackLinks(html []byte, p *content.Pack) []byte {
	prefix := []byte(filesURL(p))
	html = bytes.ReplaceAll(html, []byte(`src="`+content.PackURLScheme), append([]byte(`src="`), prefix...))
	return bytes.ReplaceAll(html, []byte(`href="`+content.PackURLScheme), append([]byte(`href="`), prefix...))
}

// packHTML is an exercise's text, built from the pack's Markdown (raw HTML
// escaped, the pack's signature verified), with its pictures ("pack:"
// links, as a teacher's photo in a studio set) pointed at this box.
func packHTML(html string, p *content.Pack) template.HTML {
	return template.HTML(rewritePackLinks([]byte(html), p))
}

// withPackLinks is it with the "pack:" links of its prompt and choices
// pointed at this box, for a live session, whose pages show them as sent.
func withPackLinks(it learn.Item, p *content.Pack) learn.Item {
	fix := func(t learn.Text) learn.Text {
		out := make(learn.Text, len(t))
		for l, h := range t {
			out[l] = string(rewritePackLinks([]byte(h), p))
		}
		return out
	}
	it.Prompt = fix(it.Prompt)
	it.Choices = slices.Clone(it.Choices)
	for i := range it.Choices {
		it.Choices[i].Text = fix(it.Choices[i].Text)
	}
	return it
}

func (s *Server) renderLesson(r *http.Request, v *viewer, p *content.Pack, lessonID, lang string) ([]byte, error) {
	m := &p.Manifest
	l, i, ok := m.Lesson(lessonID)
	if !ok {
		return nil, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_lesson", lessonID))
	}
	cl := contentLang(lang, m.Languages)
	first := m.Languages[0]
	body, err := p.LessonHTML(l.ID, cl)
	if err != nil {
		return nil, err
	}
	data := struct {
		PackID, LessonID, PackTitle, ContentLang, Position, Title string
		Notices                                                   []string
		Body                                                      template.HTML
		Set, Prev, Next                                           *link
		Apps                                                      []appLink
	}{
		PackID: m.ID, LessonID: l.ID, PackTitle: m.Title.In(cl, first), ContentLang: cl,
		Position: i18n.T(lang, "lesson.position", i+1, len(m.Lessons)),
		Title:    l.Title.In(cl, first),
		Notices:  notices(lang, cl, m),
		// The HTML was rendered from Markdown with raw HTML escaped when the
		// pack was built, and the pack's signature was verified at install.
		Body: template.HTML(rewritePackLinks(body, p)),
	}
	for _, si := range m.Sets {
		if si.ID == l.Exercises {
			data.Set = setLink(lang, cl, m.ID, si, first)
		}
	}
	for _, a := range lessonApps(p, l.ID, body) {
		data.Apps = append(data.Apps, appLink{ID: a.ID, URL: appURL(m.ID, a.ID), Title: a.Title.In(cl, first)})
	}
	if i > 0 {
		prev := m.Lessons[i-1]
		data.Prev = &link{URL: lessonURL(m.ID, prev.ID), Title: prev.Title.In(cl, first)}
	}
	if i+1 < len(m.Lessons) {
		next := m.Lessons[i+1]
		data.Next = &link{URL: lessonURL(m.ID, next.ID), Title: next.Title.In(cl, first)}
	}
	out, err := s.renderBytes(r, v, r.URL.Path, "lesson", data.Title, bytes.Contains(body, []byte(`class="katex`)), data)
	if err != nil {
		return nil, fmt.Errorf("server: lesson %s/%s: %w", m.ID, l.ID, err)
	}
	return out, nil
}
