package hub

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
)

// The fleet page, GET /fleet: every box, those that need attention first;
// ?sort= one of FleetSorts; ?format=csv (with ?sep=semicolon for ';') or
// json for the same list. Operators only; GET /api/v1/fleet is the JSON
// for their tools.

type fleetData struct {
	Sort               string
	Sorts              []string
	Boxes              []fleetRow
	CSV                string
	CSVSemicolon, JSON string
	Total, Flagged     int
}

type fleetRow struct {
	FleetBox
	LastSeen, Backlog, Disk, Clock string
	FlagNames                      []string
}

// fleetQuery reads ?sort and ?format.
func fleetQuery(r *http.Request) (sortBy, format string, sep rune, err error) {
	sortBy, format = r.FormValue("sort"), r.FormValue("format")
	if sortBy == "" {
		sortBy = FleetSorts[0]
	}
	if !slices.Contains(FleetSorts, sortBy) {
		return "", "", 0, failure.Errorf(failure.Invalid, "the fleet is sorted by attention, last_seen or name, not %q", sortBy)
	}
	switch format {
	case "", "html", "csv", "json":
	default:
		return "", "", 0, failure.Errorf(failure.Invalid, "the fleet comes as html, csv or json, not %q", format)
	}
	sep = ','
	switch r.FormValue("sep") {
	case "", "comma", ",":
	case "semicolon", ";":
		sep = ';'
	default:
		return "", "", 0, failure.Errorf(failure.Invalid, "a CSV separator is comma or semicolon, not %q", r.FormValue("sep"))
	}
	return sortBy, format, sep, nil
}

func (h *Hub) handleFleet(w http.ResponseWriter, r *http.Request, s *Session) {
	sortBy, format, sep, err := fleetQuery(r)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	boxes, err := h.store.Fleet(r.Context(), sortBy)
	if err != nil {
		h.failPage(w, r, s, err)
		return
	}
	switch format {
	case "json":
		writeJSON(w, http.StatusOK, boxes)
		return
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="stembox-fleet.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		WriteFleetCSV(w, boxes, sep)
		return
	}
	lang := h.lang(r)
	link := func(v url.Values) string { v.Set("sort", sortBy); return "/fleet?" + v.Encode() }
	d := fleetData{Sort: sortBy, Sorts: FleetSorts, Total: len(boxes),
		CSV: link(url.Values{"format": {"csv"}}), CSVSemicolon: link(url.Values{"format": {"csv"}, "sep": {"semicolon"}}), JSON: link(url.Values{"format": {"json"}})}
	now := h.store.now()
	for _, b := range boxes {
		row := fleetRow{FleetBox: b, LastSeen: i18n.T(lang, "hub.boxes.never"), Backlog: "—", Disk: "—", Clock: "—"}
		if b.LastSeen != nil {
			row.LastSeen = b.LastSeen.UTC().Format("2006-01-02 15:04") + " · " + i18n.T(lang, "hub.fleet.ago", formatAge(now.Sub(*b.LastSeen)))
		}
		if b.Backlog != nil {
			row.Backlog = strconv.FormatInt(*b.Backlog, 10)
		}
		if b.DiskFree != nil {
			row.Disk = i18n.Bytes(lang, uint64(*b.DiskFree))
			if b.DiskTotal != nil {
				row.Disk += " / " + i18n.Bytes(lang, uint64(*b.DiskTotal))
			}
		}
		if b.ClockOffMS != nil {
			row.Clock = formatOffset(time.Duration(*b.ClockOffMS) * time.Millisecond)
			if b.ClockSource != "" {
				row.Clock += " (" + b.ClockSource + ")"
			}
		}
		for _, f := range b.Flags {
			row.FlagNames = append(row.FlagNames, i18n.T(lang, "hub.fleet.flag."+f))
		}
		if len(b.Flags) > 0 {
			d.Flagged++
		}
		d.Boxes = append(d.Boxes, row)
	}
	h.render(w, r, http.StatusOK, "hub-fleet", "hub.fleet.title", s, page{Data: d})
}

func (h *Hub) handleAPIFleet(w http.ResponseWriter, r *http.Request) {
	sortBy, _, _, err := fleetQuery(r)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	boxes, err := h.store.Fleet(r.Context(), sortBy)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, boxes)
}

// formatAge is how long ago, roughly: "3d", "5h", "12m".
func formatAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d.Hours())/24) + "d"
	case d >= time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(max(0, int(d.Minutes()))) + "m"
}
