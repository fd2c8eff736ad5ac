package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// What boxes tell of themselves after each push (POST /api/v1/status): the
// hub keeps the latest per box, with the time it arrived, and shows it to
// the operator — boxes that need attention first.

// handleStatus stores a box's status; the last one wins.
func (h *Hub) handleStatus(w http.ResponseWriter, r *http.Request) {
	id := boxOf(r)
	if err := h.ingest.check("status:"+id.Credential, "status reports"); err != nil {
		h.failJSON(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxStatusBytes))
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	if !utf8.Valid(body) { // json.Unmarshal would quietly replace the bytes
		h.failJSON(w, r, failure.Errorf(failure.Invalid, "the status is not UTF-8"))
		return
	}
	var st wire.BoxStatus
	if err := json.Unmarshal(body, &st); err != nil {
		h.failJSON(w, r, failure.Errorf(failure.Invalid, "the status is not the JSON expected: %v", err))
		return
	}
	if err := h.store.SetBoxStatus(r.Context(), id, st); err != nil {
		h.failJSON(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// SetBoxStatus keeps st as the latest status of the credential's box.
func (h *Store) SetBoxStatus(ctx context.Context, id BoxIdentity, st wire.BoxStatus) error {
	if id.BoxID == "" {
		return failure.Errorf(failure.Conflict, "this credential belongs to no box yet: push events first")
	}
	if err := checkStatus(st); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("hub: box status: %w", err)
	}
	return h.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE boxes SET status = ?, status_ms = ? WHERE id = ?", string(b), h.now().UnixMilli(), id.BoxID)
		if err != nil {
			return fmt.Errorf("hub: box status: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.Errorf(failure.NotFound, "no box %s", id.BoxID)
		}
		if err := learnSubjects(ctx, tx, st.Subjects); err != nil {
			return err
		}
		if st.Clock == nil {
			return nil
		}
		// The box's estimates of its boots date its events (clock.go).
		changed, err := h.noteBoots(ctx, tx, id.BoxID, st.Clock.Boots, nil)
		if err != nil {
			return err
		}
		return h.redate(ctx, tx, id.BoxID, changed)
	})
}

// learnSubjects keeps the subjects a box tells of its packs, for the
// reports of packs the hub never published; a published pack's own
// manifest wins, and the latest box to tell of an unpublished one does.
func learnSubjects(ctx context.Context, tx *Tx, subjects map[string]string) error {
	ids := make([]string, 0, len(subjects))
	for id := range subjects {
		ids = append(ids, id)
	}
	sort.Strings(ids) // the same lock order in every transaction
	for _, id := range ids {
		if _, err := tx.exec(ctx, `INSERT INTO pack_info (pack_id, subject, title, published) VALUES (?, ?, ?, 0)
			ON CONFLICT (pack_id) DO UPDATE SET subject = excluded.subject WHERE pack_info.published = 0`, id, subjects[id], id); err != nil {
			return fmt.Errorf("hub: box status: subjects: %w", err)
		}
	}
	return nil
}

// checkStatus refuses counts below zero and subjects that are no pack's.
func checkStatus(st wire.BoxStatus) error {
	if st.Backlog < 0 || st.DiskFree < -1 || st.DiskTotal < 0 {
		return failure.Errorf(failure.Invalid, "the status's backlog, disk_free or disk_total is negative")
	}
	if len(st.Subjects) > maxSubjects {
		return failure.Errorf(failure.Invalid, "the status tells the subjects of %d packs; at most %d", len(st.Subjects), maxSubjects)
	}
	for id, subject := range st.Subjects {
		if id == "" || len(id) > 128 || len(subject) > 64 || strings.ContainsAny(id+subject, "\x00\n") {
			return failure.Errorf(failure.Invalid, "the status's subject of pack %q is not valid", id)
		}
	}
	if st.Clock != nil {
		return checkBoots(st.Clock.Boots)
	}
	return nil
}

// noteRefusal keeps, for the fleet page, that the hub refused a batch of
// box as contradicting what it holds. It is best effort: the refusal is
// answered to the box whatever happens here.
func (h *Store) noteRefusal(ctx context.Context, box string, refusal error) {
	msg, _ := message(refusal)
	h.db.exec(ctx, "UPDATE boxes SET refused = ?, refused_ms = ? WHERE id = ?", clipText(msg, 500), h.now().UnixMilli(), box)
}

// clipText cuts s to at most n bytes, on a character boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// maxSubjects bounds the packs whose subjects one status tells.
const maxSubjects = 500

// readStatus decodes a stored status into b and says what needs the
// operator's attention: packs the box did not install or does not serve,
// and its last sync error.
func (b *BoxInfo) readStatus(raw string, ms int64) {
	if raw == "" {
		return
	}
	var st wire.BoxStatus
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		b.Attention = append(b.Attention, fmt.Sprintf("the status stored for this box does not decode: %v", err))
		return
	}
	b.Status, b.StatusAt = &st, time.UnixMilli(ms)
	for _, p := range st.Problems {
		name := p.Pack
		if p.Version != "" {
			name += " " + p.Version
		}
		b.Attention = append(b.Attention, name+": "+p.Error)
	}
	if st.LastError != "" && !mentioned(b.Attention, st.LastError) {
		b.Attention = append(b.Attention, st.LastError)
	}
}

// mentioned reports whether msg is already part of one of the lines.
func mentioned(lines []string, msg string) bool {
	for _, l := range lines {
		if strings.Contains(l, msg) {
			return true
		}
	}
	return false
}

// attentionFirst orders boxes that need attention before the others,
// keeping the order within each group.
func attentionFirst(boxes []BoxInfo) {
	sort.SliceStable(boxes, func(i, j int) bool {
		return len(boxes[i].Attention) > 0 && len(boxes[j].Attention) == 0
	})
}
