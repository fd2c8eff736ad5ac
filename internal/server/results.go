package server

import (
	"bytes"
	"net/http"

	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/school"
)

// handleExportResults writes every answer of the class as CSV, one row an
// answer, questions and answers in the page's language and times in the
// box's zone: the same file as stembox admin export-results --class CODE
// --lang LANG. ?sep=semicolon writes it for a spreadsheet set to Russian.
func (s *Server) handleExportResults(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	var buf bytes.Buffer
	f := gradebook.ResultsFormat{Lib: s.lib, SetAt: s.setAt, Lang: s.lang(r), Zone: s.zone(), Semicolons: r.URL.Query().Get("sep") == "semicolon"}
	if err := gradebook.WriteResults(r.Context(), s.db, []school.Class{c}, &buf, f); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="results-`+c.Code+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes()) // with its BOM
}
