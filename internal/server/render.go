package server

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/redirect"
	"github.com/mitstem/stembox/web"
)

// page is what every template gets: the layout's needs plus the page's Data.
type page struct {
	Lang      string
	Title     string
	Math      bool // the page shows formulas: load KaTeX's stylesheet
	Path      string
	Languages []i18n.Language
	Viewer    *viewer // who is signed in (anonymous on pages cached for all)
	Nav       []navLink
	Wide      bool // the page's main part takes the screen's width (a grid)
	Live      bool // the box runs live sessions: their links are shown
	Data      any
}

// A widePage is page data whose page takes the screen's whole width.
type widePage interface{ wide() bool }

// parseTemplates parses layout.html with each page once, at start.
func parseTemplates(a *assets) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"t":       func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
		"asset":   a.URL,
		"n":       func(lang, key string, n int) string { return i18n.N(lang, key, n) },
		"picture": pictureSVG,
		"mastery": masteryLabel,
		"list":    func(xs ...string) []string { return xs },
		// given is the first word of a name: the menu's button on a phone
		// shows "Zarina", the menu itself "Zarina Rahimova".
		"given": func(name string) string {
			if f := strings.Fields(name); len(f) > 0 {
				return f[0]
			}
			return name
		},
	}
	pages, err := web.Pages("templates/*.html", "templates/layout.html", funcs)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return pages, nil
}

// renderBytes executes a page template into memory for viewer. path is where
// the language switcher returns to.
func (s *Server) renderBytes(r *http.Request, v *viewer, path, name, title string, math bool, data any) ([]byte, error) {
	t, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("server: no template %q", name)
	}
	if v == nil {
		v = anonymous
	}
	p := page{Lang: s.lang(r), Title: title, Math: math, Path: path, Languages: i18n.Languages, Viewer: v,
		Nav: s.navFor(v, path), Live: s.live != nil, Data: data}
	if wp, ok := data.(widePage); ok {
		p.Wide = wp.wide()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, fmt.Errorf("server: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// render writes a page; rendering into memory first means a template error
// becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, math bool, data any) {
	b, err := s.renderBytes(r, viewerOf(r), r.URL.RequestURI(), name, title, math, data)
	if err != nil {
		s.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

const langCookie = "stembox_lang"

// lang is the UI language of a request: the device's choice (a cookie), else
// the browser's preference, else the box's default.
func (s *Server) lang(r *http.Request) string {
	if len(r.Header["Cookie"]) > 0 {
		if c, err := r.Cookie(langCookie); err == nil && i18n.Supported(c.Value) {
			return c.Value
		}
	}
	if l := i18n.Match(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return s.cfg.DefaultLang
}

// handleLang remembers a device's language and goes back to the page it came
// from (only ever a path on this box).
func (s *Server) handleLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if !i18n.Supported(lang) {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 5 * 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, redirect.Local(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
}
