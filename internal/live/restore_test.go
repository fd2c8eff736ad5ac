package live

import (
	"fmt"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/learn"
)

func TestRestore(t *testing.T) {
	s := newSession(t, Options{Points: true, Timer: 30 * time.Second})
	a, _ := s.Join(t0, "g1", "Ali", "ha")
	b, _ := s.Join(t0, "g2", "Bo", "hb")
	s.Remove(b.ID)
	s.Do(t0, Start, -1)
	s.Submit(t0, a.ID, 0, id(1), learn.Response{Choices: []int{1}})
	s.Stored(id(1))

	players := []Player{*a, *b}
	answers := []Answer{*s.byID[id(1)]}
	base, _ := New(s.ID, s.Code, s.Title, s.Opts, s.Questions)
	later := t0.Add(time.Hour)
	r, err := Restore(later, base, s.Snapshot(), players, answers)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase() != Open || r.Current() != 0 || !r.Deadline().Equal(later.Add(30*time.Second)) || !r.Restored() {
		t.Errorf("restored %s q%d deadline %v", r.Phase(), r.Current(), r.Deadline())
	}
	ra, _ := r.Player(a.ID)
	if ra.Score != 1000 || r.Answered(0) != 1 || len(r.Players()) != 1 {
		t.Errorf("score %d answered %d players %d, want 1000, 1, 1", ra.Score, r.Answered(0), len(r.Players()))
	}
	if _, dup, err := r.Submit(later, a.ID, 0, id(1), learn.Response{Choices: []int{1}}); err != nil || !dup {
		t.Errorf("resend after restore: %v dup=%v, want the stored answer", err, dup)
	}
	if !r.NicknameFree("Bo") || r.NicknameFree("Ali") {
		t.Error("nicknames after restore: Bo (removed) should be free and Ali taken")
	}
	c, _ := r.Join(later, "g3", "Cy", "hc")
	if c != nil {
		t.Errorf("a late joiner got in without late join: %+v", c)
	}
	r.Opts.LateJoin = true
	if c, _ = r.Join(later, "g3", "Cy", "hc"); c == nil || c.ID != "p3" {
		t.Errorf("joiner after restore got %+v, want id p3", c)
	}

	for _, bad := range []Snapshot{{Phase: "dancing", Current: 0}, {Phase: Open, Current: -1}, {Phase: Lobby, Current: 2}, {Phase: Closed, Current: 99}} {
		base, _ := New(s.ID, s.Code, s.Title, s.Opts, s.Questions)
		if _, err := Restore(later, base, bad, nil, nil); err == nil {
			t.Errorf("restore of %+v succeeded", bad)
		}
	}
	base, _ = New(s.ID, s.Code, s.Title, s.Opts, s.Questions)
	if _, err := Restore(later, base, s.Snapshot(), nil, answers); err == nil {
		t.Error("restore of an answer by an unknown player succeeded")
	}
}

// Versions grow across restarts: a restored session's next change is newer
// than everything stored before it, however many changes that was, and
// after a second restart too.
func TestRestoreKeepsVersionsGrowing(t *testing.T) {
	s := newSession(t, Options{LateJoin: true})
	for i := range 40 {
		s.Join(t0, fmt.Sprintf("g%d", i), fmt.Sprintf("P%d", i), "h")
	}
	s.Do(t0, Start, -1)
	stored := s.Snapshot()
	for restart := 1; restart <= 2; restart++ {
		base, _ := New(s.ID, s.Code, s.Title, s.Opts, s.Questions)
		r, err := Restore(t0, base, stored, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := r.Version(), stored.Version; got <= want {
			t.Fatalf("restart %d: restored version %d, want above the stored %d", restart, got, want)
		}
		cmd := Close
		if r.Phase() == Closed {
			cmd = Next
		}
		if err := r.Do(t0, cmd, -1); err != nil {
			t.Fatal(err)
		}
		if got := r.Snapshot(); got.Version <= stored.Version {
			t.Fatalf("restart %d: %s stored as version %d, not newer than %d", restart, cmd, got.Version, stored.Version)
		}
		stored = r.Snapshot()
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New("S", "C", "T", Options{}, nil); err == nil {
		t.Error("a session without questions was made")
	}
	bad := questions(t)
	bad[0].Item.Choices = nil
	if _, err := New("S", "C", "T", Options{}, bad); err == nil {
		t.Error("a session with an invalid question was made")
	}
}
