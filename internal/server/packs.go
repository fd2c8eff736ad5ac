package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
)

// contentLang is the language a pack is shown in for a UI language: the
// first of the UI language's fallbacks (Tajik, then Russian, then English
// for a Tajik reader) that the pack has, else the pack's first language.
func contentLang(ui string, langs []string) string {
	for _, want := range i18n.Fallbacks(ui) {
		if slices.Contains(langs, want) {
			return want
		}
	}
	if len(langs) > 0 {
		return langs[0]
	}
	return ui
}

func langName(code string) string {
	for _, l := range i18n.Languages {
		if l.Code == code {
			return l.Name
		}
	}
	return code
}

// notices says when content is not in the UI language, or is a draft
// translation.
func notices(ui, shown string, m *content.Manifest) []string {
	var out []string
	if shown != ui {
		out = append(out, i18n.T(ui, "notice.other_language", langName(ui), langName(shown)))
	}
	if slices.Contains(m.DraftLanguages, shown) {
		out = append(out, i18n.T(ui, "notice.draft"))
	}
	return out
}

func (s *Server) pack(r *http.Request) (*content.Pack, error) {
	id := r.PathValue("pack")
	p, ok := s.lib.Pack(id)
	if !ok {
		return nil, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_pack", id))
	}
	return p, nil
}

func gradesText(lang string, grades []int) string {
	parts := make([]string, len(grades))
	for i, g := range grades {
		parts[i] = fmt.Sprint(g)
	}
	if len(grades) > 1 && grades[len(grades)-1]-grades[0] == len(grades)-1 {
		return i18n.T(lang, "pack.grades", fmt.Sprintf("%d–%d", grades[0], grades[len(grades)-1]))
	}
	return i18n.T(lang, "pack.grades", strings.Join(parts, ", "))
}

func exerciseCount(m *content.Manifest) int {
	n := 0
	for _, s := range m.Sets {
		n += s.Items
	}
	return n
}

type catalogueSubject struct {
	Name  string
	Packs []catalogueCard
}

type catalogueCard struct {
	ID, Title, TitleLang, Description string
	Grades, Lessons, Exercises        string
	Languages                         []catalogueLang
}

type catalogueLang struct {
	Code, Name, Note string
	Draft            bool
}

func (s *Server) handleCatalogue(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	var subjects []catalogueSubject
	for _, p := range s.lib.Packs() {
		m := &p.Manifest
		if len(subjects) == 0 || subjects[len(subjects)-1].Name != i18n.T(lang, "subject."+m.Subject) {
			subjects = append(subjects, catalogueSubject{Name: i18n.T(lang, "subject."+m.Subject)})
		}
		cl := contentLang(lang, m.Languages)
		card := catalogueCard{
			ID: m.ID, Title: m.Title.In(cl, m.Languages[0]), TitleLang: cl, Description: m.Description.In(cl, m.Languages[0]),
			Grades:    gradesText(lang, m.Grades),
			Lessons:   i18n.N(lang, "pack.lessons", len(m.Lessons)),
			Exercises: i18n.N(lang, "pack.exercises", exerciseCount(m)),
		}
		for _, l := range m.Languages {
			cl := catalogueLang{Code: l, Name: langName(l), Draft: slices.Contains(m.DraftLanguages, l)}
			if cl.Draft {
				cl.Note = i18n.T(lang, "notice.draft")
			}
			card.Languages = append(card.Languages, cl)
		}
		subjects[len(subjects)-1].Packs = append(subjects[len(subjects)-1].Packs, card)
	}
	s.render(w, r, http.StatusOK, "catalogue", i18n.T(lang, "catalogue.title"), false, struct{ Subjects []catalogueSubject }{subjects})
}

type link struct{ URL, Title, Label string }

func lessonURL(pack, lesson string) string { return "/packs/" + pack + "/lessons/" + lesson }
func setURL(pack, set string) string       { return "/packs/" + pack + "/sets/" + set }

func setLink(lang, cl, pack string, si content.SetInfo, fallback string) *link {
	return &link{URL: setURL(pack, si.ID), Title: si.Title.In(cl, fallback), Label: i18n.T(lang, "pack.practice", si.Items)}
}

func (s *Server) handlePack(w http.ResponseWriter, r *http.Request) {
	p, err := s.pack(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	m := &p.Manifest
	cl := contentLang(lang, m.Languages)
	first := m.Languages[0]
	sets := map[string]content.SetInfo{}
	for _, si := range m.Sets {
		sets[si.ID] = si
	}
	type lessonRow struct {
		URL, Title string
		Set        *link
	}
	data := struct {
		ID, Title, Description, ContentLang string
		Meta                                string
		Notices                             []string
		Lessons                             []lessonRow
		Extra                               []*link
		Apps                                []appLink
	}{
		ID: m.ID, Title: m.Title.In(cl, first), Description: m.Description.In(cl, first), ContentLang: cl,
		Meta:    gradesText(lang, m.Grades) + " · " + i18n.N(lang, "pack.lessons", len(m.Lessons)) + " · " + i18n.N(lang, "pack.exercises", exerciseCount(m)),
		Notices: notices(lang, cl, m),
		Apps:    appLinks(p, cl),
	}
	used := map[string]bool{}
	for _, l := range m.Lessons {
		row := lessonRow{URL: lessonURL(m.ID, l.ID), Title: l.Title.In(cl, first)}
		if si, ok := sets[l.Exercises]; ok {
			row.Set = setLink(lang, cl, m.ID, si, first)
			used[si.ID] = true
		}
		data.Lessons = append(data.Lessons, row)
	}
	for _, si := range m.Sets {
		if !used[si.ID] {
			data.Extra = append(data.Extra, setLink(lang, cl, m.ID, si, first))
		}
	}
	s.render(w, r, http.StatusOK, "pack", data.Title, false, data)
}
