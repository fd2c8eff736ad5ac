package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

func TestUpstreamLinkAndCursor(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	if _, err := db.UpstreamLink(ctx); !errors.Is(err, store.ErrNotEnrolled) {
		t.Fatalf("UpstreamLink of a new box: %v, want ErrNotEnrolled", err)
	}
	st, err := db.UpstreamState(ctx)
	if err != nil || st.AckedSeq != 0 || !st.LastSuccess.IsZero() {
		t.Fatalf("state of a new box = %+v, %v; want zero", st, err)
	}
	link := store.UpstreamLink{HubURL: "http://hub", Credential: "sbx1.x.y", SchoolID: "s1", SchoolName: "School 1", Region: "Sughd", HubKey: "k", Enrolled: time.UnixMilli(1000)}
	if err := db.SetUpstreamLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	got, err := db.UpstreamLink(ctx)
	if err != nil || got != link {
		t.Fatalf("UpstreamLink = %+v, %v; want %+v", got, err, link)
	}

	now := time.UnixMilli(5000)
	if err := db.AckUpstream(ctx, 40, store.UpstreamTraffic{BytesSent: 100, BytesReceived: 10, Events: 40}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.UpstreamFailed(ctx, "hub unreachable", store.UpstreamTraffic{BytesSent: 7}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	st, _ = db.UpstreamState(ctx)
	if st.AckedSeq != 40 || st.BytesSent != 107 || st.BytesReceived != 10 || st.EventsSent != 40 || st.LastError != "hub unreachable" || !st.LastSuccess.Equal(now) {
		t.Fatalf("state = %+v", st)
	}
	// A USB acknowledgement only moves the cursor forward.
	if moved, err := db.AdvanceUpstream(ctx, 30, now); err != nil || moved {
		t.Fatalf("AdvanceUpstream(30) from 40 = %v, %v; want no move", moved, err)
	}
	if moved, err := db.AdvanceUpstream(ctx, 55, now); err != nil || !moved {
		t.Fatalf("AdvanceUpstream(55) = %v, %v; want a move", moved, err)
	}
	// The online answer is the truth, even backwards (a hub restored from backup).
	if err := db.AckUpstream(ctx, 20, store.UpstreamTraffic{}, now); err != nil {
		t.Fatal(err)
	}
	if st, _ = db.UpstreamState(ctx); st.AckedSeq != 20 || st.LastError != "" {
		t.Fatalf("after rewinding: %+v", st)
	}
	// Enrolling with another school starts again from 0.
	link.SchoolID = "s2"
	if err := db.SetUpstreamLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	if st, _ = db.UpstreamState(ctx); st.AckedSeq != 0 {
		t.Fatalf("cursor after enrolling with another school = %d, want 0", st.AckedSeq)
	}
}

func TestChangesFireAfterCommits(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	ch := db.Changes()
	select {
	case <-ch:
		t.Fatal("Changes fired before any write")
	default:
	}
	if err := db.AckUpstream(ctx, 0, store.UpstreamTraffic{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("Changes fired for sync's own bookkeeping")
	default:
	}
	if _, err := db.RecordAnswer(ctx, answer("student:a", "q1", true)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changes did not fire after an answer was stored")
	}
	ch = db.Changes()
	if _, err := db.CreateUser(ctx, "", school.RoleTeacher, "t1", "T", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changes did not fire after a roster change")
	}
}
