package live

import (
	"context"
	"testing"
	"time"
)

// TestForgottenSessionEnds: a session its teacher never ended runs on while
// anyone is connected, and ends by itself once nobody has been for the
// Sessions' abandonAfter; what its players answered stays, and it is not
// resumed at the next start.
func TestForgottenSessionEnds(t *testing.T) {
	h := newHarness(t)
	h.sessions.abandonAfter = 400 * time.Millisecond // set before the room starts
	s, _, teacher, c := h.asking(Options{}, questions(t)[:2])
	id := h.sessions.roomFor(t, s.Code).s.ID
	c.send(answerMsg(s.Code, 0, newAnswerID(), 1))
	c.expect("ack")

	running := func() int {
		t.Helper()
		rs, err := h.db.RunningLiveSessions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	time.Sleep(1200 * time.Millisecond) // three times abandonAfter, with people connected
	if n := running(); n != 1 {
		t.Fatalf("%d sessions running while the teacher and a student are connected, want 1", n)
	}

	teacher.ws.Close()
	c.ws.Close()
	waitFor(t, "the session to end once everyone left", func() bool { return running() == 0 })
	if rs, err := h.db.LiveResponses(context.Background(), id); err != nil || len(rs) != 1 {
		t.Errorf("%d answers kept after the session ended (%v), want Ali's 1", len(rs), err)
	}

	// The next start does not resume it.
	h.stop()
	h2 := startHarness(t, h.db, h.db, h.path, nil)
	if _, ok := h2.sessions.Info(s.Code); ok {
		t.Error("the ended session was resumed after a restart")
	}
}
