package hub

import (
	"context"
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The fleet: every box, with what needs the operator's attention flagged,
// for the fleet page and its CSV and JSON (docs/hub.md).

// Flags of a box that needs attention.
const (
	FlagUnseen  = "unseen"    // not heard from for UnseenAfter, or never
	FlagLowDisk = "low_disk"  // less than LowDiskBytes, or LowDiskShare of its disk, free
	FlagError   = "error"     // its last sync failed, it refused or does not serve a pack, or the hub refused its batches
	FlagClock   = "clock_off" // its clock is off by more than ClockOffAfter
)

// Thresholds of the flags.
const (
	UnseenAfter   = 7 * 24 * time.Hour
	LowDiskBytes  = 1 << 30
	LowDiskShare  = 0.10
	ClockOffAfter = 5 * time.Minute
)

// FleetSorts are the orders of the fleet: needs attention first (the
// default), least recently seen first, by name.
var FleetSorts = []string{"attention", "last_seen", "name"}

// FleetBox is one box of the fleet. Fields the box never reported are nil
// or empty.
type FleetBox struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	SchoolID    string     `json:"school_id"`
	School      string     `json:"school"`
	Region      string     `json:"region"`
	LastSeen    *time.Time `json:"last_seen"`        // the last batch or status, in hub time
	Backlog     *int64     `json:"backlog"`          // events not yet acknowledged, as the box last said
	LastError   string     `json:"last_error"`       // its last sync error
	Conflict    string     `json:"hub_refused"`      // why the hub last refused its batches (409), while none was taken since
	Refused     []string   `json:"refused_packs"`    // "pack version: why", packs it did not install or does not serve
	Version     string     `json:"version"`          // of its stembox
	ClockSource string     `json:"clock_source"`     // where its clock was last set from
	ClockOffMS  *int64     `json:"clock_drift_ms"`   // how far off its clock is: as it said, else as the hub measured
	DiskFree    *int64     `json:"disk_free"`        // bytes
	DiskTotal   *int64     `json:"disk_total"`       // bytes
	Events      int64      `json:"events_received"`  // events the hub holds
	Flags       []string   `json:"flags"`            // what needs attention (Flag…), [] for nothing
	StatusAt    *time.Time `json:"status_at"`        // when its status arrived
	AckedSeq    int64      `json:"acked_seq"`        // the hub holds every event up to here
	BytesIn     int64      `json:"bytes_received"`   // over the network
	Credentials int        `json:"credentials_live"` // credentials not revoked
}

// Fleet lists every box, in the order sortBy (one of FleetSorts; "" for
// attention).
func (h *Store) Fleet(ctx context.Context, sortBy string) ([]FleetBox, error) {
	boxes, err := h.Boxes(ctx)
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := make([]FleetBox, 0, len(boxes))
	for _, b := range boxes {
		out = append(out, fleetBox(b, now))
	}
	SortFleet(out, sortBy)
	return out, nil
}

func fleetBox(b BoxInfo, now time.Time) FleetBox {
	f := FleetBox{ID: b.ID, Name: b.Name, SchoolID: b.SchoolID, School: b.SchoolName, Region: b.Region, Conflict: b.Conflict,
		Events: b.Events, AckedSeq: b.AckedSeq, BytesIn: b.BytesReceived, ClockOffMS: b.OffsetMS, Refused: []string{}, Flags: []string{}}
	for _, c := range b.Credentials {
		if !c.Revoked {
			f.Credentials++
		}
	}
	seen := b.LastSeen
	if st := b.Status; st != nil {
		if b.StatusAt.After(seen) {
			seen = b.StatusAt
		}
		at := b.StatusAt
		f.StatusAt = &at
		f.Version, f.LastError = st.Version, st.LastError
		backlog := st.Backlog
		f.Backlog = &backlog
		if c := st.Clock; c != nil && c.Source != "" {
			f.ClockSource = c.Source
			drift := c.DriftMS
			f.ClockOffMS = &drift
		}
		if st.DiskFree >= 0 {
			free := st.DiskFree
			f.DiskFree = &free
		}
		if st.DiskTotal > 0 {
			total := st.DiskTotal
			f.DiskTotal = &total
		}
		for _, p := range st.Problems {
			name := p.Pack
			if p.Version != "" {
				name += " " + p.Version
			}
			f.Refused = append(f.Refused, name+": "+p.Error)
		}
	}
	if !seen.IsZero() {
		f.LastSeen = &seen
	}
	if f.LastSeen == nil || now.Sub(*f.LastSeen) > UnseenAfter {
		f.Flags = append(f.Flags, FlagUnseen)
	}
	if f.DiskFree != nil && (*f.DiskFree < LowDiskBytes || (f.DiskTotal != nil && float64(*f.DiskFree) < LowDiskShare*float64(*f.DiskTotal))) {
		f.Flags = append(f.Flags, FlagLowDisk)
	}
	if f.LastError != "" || len(f.Refused) > 0 || f.Conflict != "" {
		f.Flags = append(f.Flags, FlagError)
	}
	if d := f.ClockOffMS; d != nil && (time.Duration(*d)*time.Millisecond > ClockOffAfter || time.Duration(-*d)*time.Millisecond > ClockOffAfter) {
		f.Flags = append(f.Flags, FlagClock)
	}
	return f
}

// SortFleet orders boxes by sortBy (one of FleetSorts; anything else is
// attention): the most flags first, then the least recently seen; least
// recently seen first (never seen before all); or by school and name.
func SortFleet(boxes []FleetBox, sortBy string) {
	byName := func(a, b FleetBox) bool {
		if a.School != b.School {
			return a.School < b.School
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	}
	seen := func(f FleetBox) int64 {
		if f.LastSeen == nil {
			return -1
		}
		return f.LastSeen.UnixMilli()
	}
	sort.SliceStable(boxes, func(i, j int) bool {
		a, b := boxes[i], boxes[j]
		switch sortBy {
		case "name":
			return byName(a, b)
		case "last_seen":
		default:
			if len(a.Flags) != len(b.Flags) {
				return len(a.Flags) > len(b.Flags)
			}
		}
		if seen(a) != seen(b) {
			return seen(a) < seen(b)
		}
		return byName(a, b)
	})
}

// WriteFleetCSV writes the fleet as CSV, one box a row, with sep between
// fields (',' or ';', as spreadsheets of some locales want).
func WriteFleetCSV(w io.Writer, boxes []FleetBox, sep rune) error {
	cw := csv.NewWriter(w)
	cw.Comma = sep
	cw.Write([]string{"box_id", "box", "school_id", "school", "region", "flags", "last_seen", "backlog", "last_error", "refused_packs",
		"version", "clock_source", "clock_drift_ms", "disk_free", "disk_total", "events_received", "hub_refused"})
	num := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, b := range boxes {
		seen := ""
		if b.LastSeen != nil {
			seen = b.LastSeen.UTC().Format(time.RFC3339)
		}
		cw.Write([]string{b.ID, csvSafe(b.Name), b.SchoolID, csvSafe(b.School), csvSafe(b.Region), strings.Join(b.Flags, " "), seen, num(b.Backlog),
			csvSafe(b.LastError), csvSafe(strings.Join(b.Refused, " | ")), csvSafe(b.Version), csvSafe(b.ClockSource), num(b.ClockOffMS),
			num(b.DiskFree), num(b.DiskTotal), strconv.FormatInt(b.Events, 10), csvSafe(b.Conflict)})
	}
	cw.Flush()
	return cw.Error()
}
