package server

import (
	"net/http"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/school"
)

// The class's heatmap: students × assignments. A column is headed by its
// number and a short title (the full one is in the key under the grid and
// in a tooltip); a cell shows right of answered and, apart from it, the
// mastery as its colour and icon; who struggles (learn.NeedsHelp) is
// flagged in the grid and listed above it.

type heatmapColumn struct {
	assignmentView
	N        int
	Analysis string // the set's item analysis, for a set
	Mastered int    // students who mastered it
}

type heatmapRow struct {
	Student school.Student
	URL     string // the student's report
	Cells   []cell
	Help    bool
}

// helpEntry is a student who needs help, and with which columns.
type helpEntry struct {
	Student school.Student
	URL     string
	Columns []heatmapColumn
}

type heatmapPage struct {
	Class    school.Class
	Columns  []heatmapColumn
	Rows     []heatmapRow
	Help     []helpEntry
	Rule     string
	HelpRule string
}

// wide: the grid takes the laptop's whole width, not the reading column's.
func (heatmapPage) wide() bool { return true }

// handleHeatmap shows students × assignments, coloured by mastery.
func (s *Server) handleHeatmap(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	lang := s.lang(r)
	students, as, grid, err := s.classProgress(r.Context(), c, lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rule, _ := learn.ParseMasteryRule(c.Mastery)
	p := heatmapPage{Class: c, Rule: masteryText(lang, rule),
		HelpRule: i18n.T(lang, "heatmap.help_rule", learn.HelpMinAttempts, learn.HelpWrongRun)}
	for j, a := range as {
		col := heatmapColumn{assignmentView: a, N: j + 1}
		if a.Kind == "set" {
			col.Analysis = classURL(c) + "/sets/" + a.Pack + "/" + a.Ref
		}
		p.Columns = append(p.Columns, col)
	}
	for i, st := range students {
		row := heatmapRow{Student: st, URL: classURL(c) + "/students/" + st.ID, Cells: grid[i]}
		var help []heatmapColumn
		for j := range as {
			cl := &row.Cells[j]
			if as[j].Kind == "set" && cl.Status != "new" {
				cl.URL = row.URL
			}
			if cl.Status == "mastered" {
				p.Columns[j].Mastered++
			}
			if cl.Help {
				help = append(help, p.Columns[j])
			}
		}
		if len(help) > 0 {
			row.Help = true
			p.Help = append(p.Help, helpEntry{Student: st, URL: row.URL, Columns: help})
		}
		p.Rows = append(p.Rows, row)
	}
	s.render(w, r, http.StatusOK, "heatmap", i18n.T(lang, "heatmap.title", c.Name), false, p)
}
