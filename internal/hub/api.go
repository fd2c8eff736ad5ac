package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// The JSON API's handlers (wire/api.go has the bodies a box sends).

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return failure.Wrap(failure.Invalid, err, "the request body is not the JSON expected")
	}
	return nil
}

func (h *Hub) handleEnroll(w http.ResponseWriter, r *http.Request) {
	if err := h.guesses.check("enroll:"+h.clientAddr(r), "enrollment attempts"); err != nil {
		h.failJSON(w, r, err)
		return
	}
	var req wire.EnrollRequest
	if err := decodeJSON(w, r, &req); err != nil {
		h.failJSON(w, r, err)
		return
	}
	if req.BoxID == "" {
		h.failJSON(w, r, failure.Errorf(failure.Invalid, "a box enrolls with its box id"))
		return
	}
	resp, err := h.store.EnrollBox(r.Context(), req)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	h.log.Info("box enrolled", "box", req.BoxID, "school", resp.SchoolID, "name", req.Name)
	writeJSON(w, http.StatusOK, resp)
}

// handleEvents ingests a batch from a box.
func (h *Hub) handleEvents(w http.ResponseWriter, r *http.Request) {
	id := boxOf(r)
	if err := h.ingest.check("events:"+id.Credential, "batches"); err != nil {
		h.failJSON(w, r, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != wire.MediaType || r.Header.Get("Content-Encoding") != "gzip" {
		h.failJSON(w, r, failure.Errorf(failure.Invalid, "send events as %s with Content-Encoding: gzip", wire.MediaType))
		return
	}
	if r.ContentLength > h.cfg.Limits.MaxBatchBytes {
		h.failJSON(w, r, failure.Errorf(failure.TooLarge, "a batch may be at most %d bytes compressed; send fewer events at a time", h.cfg.Limits.MaxBatchBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.Limits.MaxBatchBytes))
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	batch, err := wire.Unmarshal(body, h.wireLimits())
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		h.failJSON(w, r, failure.Wrap(failure.TooLarge, err, err.Error()+fmt.Sprintf(" (at most %d events a batch)", h.cfg.Limits.MaxBatchEvents)))
		return
	case err != nil:
		h.failJSON(w, r, failure.Wrap(failure.Invalid, err, err.Error()))
		return
	}
	resp, err := h.store.Ingest(r.Context(), id, batch, true, len(body))
	if err != nil {
		if failure.KindOf(err) == failure.Conflict {
			h.store.noteRefusal(r.Context(), batch.BoxID, err)
		}
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Hub) handleCatalogue(w http.ResponseWriter, r *http.Request) {
	cat, err := h.store.Catalogue(r.Context(), boxOf(r).SchoolID)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cat)
}

// handlePackPart serves a published pack's manifest, signature or (to
// operators) whole archive.
func (h *Hub) handlePackPart(w http.ResponseWriter, r *http.Request) {
	id, version, part := r.PathValue("id"), r.PathValue("version"), r.PathValue("part")
	if part == "archive" {
		if _, ok := r.Context().Value(operatorKey{}).(Operator); !ok {
			h.failJSON(w, r, failure.Errorf(failure.NotFound, "no such part"))
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+content.ArchiveName(id, version)+`"`)
		if err := h.store.WritePackArchive(r.Context(), id, version, w); err != nil {
			h.log.Error("pack archive", "pack", id, "err", err)
		}
		return
	}
	manifest, sig, err := h.store.PackManifest(r.Context(), id, version)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	switch part {
	case "manifest":
		w.Header().Set("Content-Type", "application/json")
		w.Write(manifest)
	case "signature":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(sig)
	default:
		h.failJSON(w, r, failure.Errorf(failure.NotFound, "a pack has a manifest and a signature, not %q", part))
	}
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// handleFile serves a pack file by its SHA-256, with range requests, so an
// interrupted download resumes where it stopped.
func (h *Hub) handleFile(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if !shaPattern.MatchString(sha) {
		h.failJSON(w, r, failure.Errorf(failure.NotFound, "no file %q", sha))
		return
	}
	br, err := h.store.OpenBlob(r.Context(), sha)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+sha+`"`)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, br)
}

func (h *Hub) handleAPICreateSchool(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string  `json:"name"`
		Region   string  `json:"region"`
		TTLHours float64 `json:"ttl_hours"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		h.failJSON(w, r, err)
		return
	}
	tok, err := h.store.CreateSchool(r.Context(), req.Name, req.Region, time.Duration(req.TTLHours*float64(time.Hour)))
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenJSON(tok))
}

func tokenJSON(t Token) map[string]string {
	return map[string]string{"school_id": t.School.ID, "school": t.School.Name, "region": t.School.Region, "token": t.Token, "expires": t.Expires.UTC().Format(time.RFC3339)}
}

func (h *Hub) handleAPINewToken(w http.ResponseWriter, r *http.Request) {
	tok, err := h.store.NewToken(r.Context(), r.PathValue("id"), 0)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenJSON(tok))
}

func (h *Hub) handleAPIRevoke(w http.ResponseWriter, r *http.Request) {
	if err := h.store.RevokeCredential(r.Context(), r.PathValue("id")); err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

func (h *Hub) handleAPIBoxes(w http.ResponseWriter, r *http.Request) {
	boxes, err := h.store.Boxes(r.Context())
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, boxes)
}

// reportQuery reads a report's parameters: by, region, school, and the
// period from/to as dates (YYYY-MM-DD, to inclusive).
func reportQuery(r *http.Request) (ReportQuery, error) {
	q := ReportQuery{By: r.FormValue("by"), Region: strings.TrimSpace(r.FormValue("region")), School: strings.TrimSpace(r.FormValue("school"))}
	if q.By == "" {
		q.By = "region"
	}
	var err error
	if s := r.FormValue("from"); s != "" {
		if q.From, err = time.Parse("2006-01-02", s); err != nil {
			return q, failure.Errorf(failure.Invalid, "from: a date is written 2026-03-01")
		}
	}
	if s := r.FormValue("to"); s != "" {
		if q.To, err = time.Parse("2006-01-02", s); err != nil {
			return q, failure.Errorf(failure.Invalid, "to: a date is written 2026-03-31")
		}
		q.To = q.To.AddDate(0, 0, 1)
	}
	_, _, err = q.dimension()
	return q, err
}

func (h *Hub) handleAPIReport(w http.ResponseWriter, r *http.Request) {
	q, err := reportQuery(r)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	rep, err := h.store.Report(r.Context(), q)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	if r.FormValue("format") == "json" {
		writeJSON(w, http.StatusOK, rep.Rows)
		return
	}
	writeReportCSV(w, rep)
}

func writeReportCSV(w http.ResponseWriter, rep Report) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="stembox-report-`+rep.Query.By+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	rep.WriteCSV(w)
}

// maxPack bounds an uploaded pack.
const maxPack = 4 << 30

// parseRequirements reads requirements written "all", "region:NAME" or
// "school:ID".
func parseRequirements(vals []string) ([]Requirement, error) {
	var out []Requirement
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			scope, value, _ := strings.Cut(part, ":")
			rq := Requirement{Scope: scope, Value: strings.TrimSpace(value)}
			if err := checkRequirement(rq); err != nil {
				return nil, err
			}
			out = append(out, rq)
		}
	}
	return out, nil
}

func (h *Hub) handleAPIPublish(w http.ResponseWriter, r *http.Request) {
	reqs, err := parseRequirements(r.URL.Query()["require"])
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPack))
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	res, err := h.store.Publish(r.Context(), bytes.NewReader(data), int64(len(data)), h.keys, reqs)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleAPIImport imports a bundle and answers with the signed
// acknowledgement file.
func (h *Hub) handleAPIImport(w http.ResponseWriter, r *http.Request) {
	res, err := h.store.ImportBundle(r.Context(), http.MaxBytesReader(w, r.Body, MaxBundle+1<<20))
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+res.Ack.BoxID+wire.AckExt+`"`)
	w.Write(res.AckFile)
}
