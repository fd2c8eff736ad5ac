package upstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// applyAck applies the hub's signed acknowledgement of a bundle: where the
// hub found the box's history parted from its own, the box starts a new
// epoch (as online); then the cursor moves forward (never back) along the
// box's own line. It returns whether the cursor moved, the cursor, and the
// epoch started ("" if none).
func applyAck(ctx context.Context, db *store.DB, path string) (bool, int64, string, error) {
	ack, err := readAck(ctx, db, path)
	if err != nil {
		return false, 0, "", err
	}
	var epoch string
	if ack.DivergedAt > 0 {
		if epoch, err = divergedByAck(ctx, db, ack); err != nil {
			return false, 0, "", err
		}
	}
	var moved bool
	if len(ack.Streams) > 0 {
		moved, err = applyStreams(ctx, db, ack)
	} else {
		moved, err = applyLineAck(ctx, db, path, ack)
	}
	if err != nil {
		return false, 0, "", err
	}
	passed(ctx, db, time.UnixMilli(ack.HubMS))
	st, err := db.UpstreamState(ctx)
	if err != nil {
		return false, 0, "", err
	}
	return moved, st.AckedSeq, epoch, nil
}

// readAck reads an acknowledgement and checks that this box's hub signed
// it for this box.
func readAck(ctx context.Context, db *store.DB, path string) (wire.Ack, error) {
	link, err := db.UpstreamLink(ctx)
	if err != nil {
		return wire.Ack{}, err
	}
	hubKey, err := wire.DecodeKey(link.HubKey)
	if err != nil {
		return wire.Ack{}, fmt.Errorf("upstream: the stored hub key is damaged; enroll the box again")
	}
	f, err := os.Open(path)
	if err != nil {
		return wire.Ack{}, fmt.Errorf("upstream: %w", err)
	}
	defer f.Close()
	ack, err := wire.ReadAck(f, hubKey)
	if errors.Is(err, wire.ErrBadSignature) {
		return wire.Ack{}, fmt.Errorf("upstream: %s is not signed by this box's hub (altered, or from another hub)", filepath.Base(path))
	}
	if err != nil {
		return wire.Ack{}, fmt.Errorf("upstream: %s: %w", filepath.Base(path), err)
	}
	boxID, err := db.BoxID(ctx)
	if err != nil {
		return wire.Ack{}, err
	}
	cred, _ := wire.ParseCredential(link.Credential)
	if ack.BoxID != boxID || ack.Credential != cred.ID {
		return wire.Ack{}, fmt.Errorf("upstream: %s acknowledges box %s, not this box %s", filepath.Base(path), ack.BoxID, boxID)
	}
	return ack, nil
}

// applyLineAck applies the acknowledgement of a hub before epochs.
func applyLineAck(ctx context.Context, db *store.DB, path string, ack wire.Ack) (bool, error) {
	last, err := db.LastSeq(ctx)
	if err != nil {
		return false, err
	}
	if ack.AckedSeq > last {
		return false, fmt.Errorf("upstream: %s acknowledges events up to %d, but this box has only %d (was it restored from a backup?)", filepath.Base(path), ack.AckedSeq, last)
	}
	return db.AdvanceUpstream(ctx, ack.AckedSeq, time.UnixMilli(ack.HubMS))
}

// divergedByAck starts a new epoch after DivergedAt − 1 when the epoch the
// hub found diverged is the box's current one, or moves salvaged events of
// that epoch into one of their own; an acknowledgement applied again, or
// older than the box's epoch, changes nothing.
func divergedByAck(ctx context.Context, db *store.DB, ack wire.Ack) (string, error) {
	list, err := db.Epochs(ctx)
	if err != nil {
		return "", err
	}
	if cur := list[len(list)-1]; cur.Name == ack.DivergedEpoch {
		st, err := db.UpstreamState(ctx)
		if err != nil {
			return "", err
		}
		last, err := db.LastSeq(ctx)
		if err != nil {
			return "", err
		}
		base := ack.DivergedAt - 1
		if base < st.AckedSeq || base < cur.Base || base > last {
			return "", nil
		}
		e, err := db.StartEpoch(ctx, base, fmt.Sprintf("the hub holds another event at seq %d (from a USB acknowledgement)", ack.DivergedAt))
		return e.Name, err
	}
	pending, err := db.SalvagePending(ctx)
	if err != nil || pending == 0 {
		return "", err
	}
	if name, err := db.RehomeSalvage(ctx, ack.DivergedEpoch, ack.DivergedAt); err == nil {
		return name, nil
	}
	return "", nil // no salvaged event there: nothing to move
}

// applyStreams applies an acknowledgement that speaks of each epoch
// (wire.StreamAck): the cursor moves forward along the box's own line
// where the hub holds the box's own events, and the salvaged events the
// hub now holds are marked so. A stream that speaks of more of the box's
// current epoch than the box has, or of another event than the box's, is
// the hub's other history: it moves nothing (the next bundle finds where
// the histories part).
func applyStreams(ctx context.Context, db *store.DB, ack wire.Ack) (bool, error) {
	list, err := db.Epochs(ctx)
	if err != nil {
		return false, err
	}
	last, err := db.LastSeq(ctx)
	if err != nil {
		return false, err
	}
	at := time.UnixMilli(ack.HubMS)
	moved := false
	for _, sa := range ack.Streams {
		if err := db.AckSalvaged(ctx, sa.Epoch, 0, sa.AckedSeq, store.UpstreamTraffic{}, at); err != nil {
			return false, err
		}
		for _, ep := range list {
			if ep.Name != sa.Epoch {
				continue
			}
			target := sa.AckedSeq
			switch {
			case ep.End != 0 && target > ep.End:
				target = ep.End // the hub holds more of that line: the box's part of it is held
			case target > last:
				continue
			case target > 0 && sa.AckedID != "":
				if ev, err := db.Event(ctx, sa.AckedID); err != nil || ev.Seq != target {
					continue
				}
			}
			m, err := db.AdvanceUpstream(ctx, target, at)
			if err != nil {
				return false, err
			}
			moved = moved || m
		}
	}
	return moved, nil
}
