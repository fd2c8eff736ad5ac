package server

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/studio"
)

// draftRow is a draft as the studio's list shows it.
type draftRow struct {
	ID, Title, Kind, Owner, Updated, Version, URL string
	L, CSRF                                       string // the page's language, the form's token
	Items                                         int
	Mine                                          bool
	Copy                                          bool // offer a copy (another teacher's published work)
}

type studioListView struct {
	Mine, Others []draftRow
	Remix        []packGroup // the sets and lessons of installed packs, to copy
	RemixPack    string      // the pack the teacher came from (?remix=), chosen first
	Notice       string
	Admin        bool
}

// draftTitle is a draft's title in lang, else in its first language that
// has one, else "untitled".
func draftTitle(lang string, d studio.Draft) string {
	if t := d.Doc.Title[lang]; t != "" {
		return t
	}
	for _, l := range append(d.Doc.Languages, draftLangs()...) {
		if t := d.Doc.Title[l]; t != "" {
			return t
		}
	}
	return i18n.T(lang, "studio.untitled")
}

func (s *Server) draftRow(lang string, v *viewer, d studio.Draft, names map[string]string) draftRow {
	row := draftRow{ID: d.ID, Title: draftTitle(lang, d), Kind: i18n.T(lang, "studio.kind."+d.Kind), Owner: names[d.Owner],
		Updated: d.Updated.In(s.zone()).Format("2006-01-02 15:04"), URL: studioURL(d.ID), Items: len(d.Doc.Items),
		Mine: d.Owner == v.User.ID, L: lang, CSRF: v.CSRF}
	if n := len(d.Versions); n > 0 {
		row.Version = d.Versions[n-1].Version
	}
	return row
}

// handleStudio lists the teacher's drafts, with what others published
// (everything, for an admin), and the ways to start a new one.
func (s *Server) handleStudio(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	all, err := s.db.Drafts(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.db.Users(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = u.DisplayName
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Updated.After(all[j].Updated) })
	view := studioListView{RemixPack: r.URL.Query().Get("remix"), Admin: v.isAdmin()}
	for _, d := range all {
		switch {
		case d.Owner == v.User.ID:
			view.Mine = append(view.Mine, s.draftRow(lang, v, d, names))
		case v.isAdmin():
			view.Others = append(view.Others, s.draftRow(lang, v, d, names))
		case len(d.Versions) > 0 && s.cfg.Studio.Signer != nil: // shared once published: its pack, to use or copy
			row := s.draftRow(lang, v, d, names)
			row.URL = "/packs/" + s.studioPackID(d.ID)
			row.Copy = true
			view.Others = append(view.Others, row)
		}
	}
	if r.URL.Query().Get("deleted") != "" {
		view.Notice = i18n.T(lang, "studio.deleted")
	}
	view.Remix = s.remixable(lang, view.RemixPack)
	s.render(w, r, http.StatusOK, "studio", i18n.T(lang, "studio.title"), false, view)
}

// remixable are the sets and lessons of the installed packs, as the class
// page offers them to assign (apps left out), those of the pack first
// first (the one whose page the teacher came from).
func (s *Server) remixable(lang, first string) []packGroup {
	var out []packGroup
	for _, g := range s.assignable(lang) {
		choices := slices.DeleteFunc(g.Choices, func(c packChoice) bool { return strings.Contains(c.Value, "|app|") })
		if len(choices) == 0 {
			continue
		}
		g.Choices = choices
		if first != "" && strings.HasPrefix(choices[0].Value, first+"|") {
			out = append([]packGroup{g}, out...)
		} else {
			out = append(out, g)
		}
	}
	return out
}
