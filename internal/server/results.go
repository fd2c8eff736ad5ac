package server

import (
	"bytes"
	"net/http"

	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/school"
)

// handleExportResults writes every answer of the class as CSV, one row an
// answer: the same file as stembox admin export-results --class CODE.
func (s *Server) handleExportResults(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	var buf bytes.Buffer
	if err := gradebook.WriteResults(r.Context(), s.db, []school.Class{c}, &buf); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="results-`+c.Code+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes()) // with its BOM
}
