package live

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/learn"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// questions are one of each kind.
func questions(t testing.TB) []Question {
	t.Helper()
	specs := []AdHoc{
		{Kind: learn.Choice, Prompt: "2+2?", Choices: []string{"3", "4", "5"}, Correct: []int{1}},
		{Kind: learn.Multi, Prompt: "Primes?", Choices: []string{"2", "4", "5", "9"}, Correct: []int{0, 2}},
		{Kind: learn.TrueFalse, Prompt: "Ice floats.", Truth: true},
		{Kind: learn.Numeric, Prompt: "g in m/s²?", Number: "9.8", Tolerance: "0.1", Unit: "m/s²"},
		{Kind: learn.ShortText, Prompt: "H2O is…", Answers: []string{"water", "вода"}},
		{Kind: Poll, Prompt: "Liked it?", Choices: []string{"yes", "no"}},
	}
	var qs []Question
	for i, a := range specs {
		q, err := a.Question(fmt.Sprintf("q%d", i+1), "en")
		if err != nil {
			t.Fatalf("question %d: %v", i+1, err)
		}
		qs = append(qs, q)
	}
	return qs
}

func newSession(t testing.TB, opts Options) *Session {
	t.Helper()
	s, err := New("S1", "ACEFHJ", "Test", opts, questions(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inPhase returns a session brought to phase p by legal commands, at
// question 0 (or the last question when last is set).
func inPhase(t testing.TB, p Phase, opts Options, last bool) *Session {
	t.Helper()
	s := newSession(t, opts)
	must := func(c Command) {
		t.Helper()
		if err := s.Do(t0, c, -1); err != nil {
			t.Fatalf("reaching %s: %s: %v", p, c, err)
		}
	}
	if p == Lobby {
		return s
	}
	if p == Ended {
		must(End)
		return s
	}
	must(Start)
	if last {
		for s.Current() < len(s.Questions)-1 {
			must(Close)
			must(Next)
		}
	}
	switch p {
	case Closed:
		must(Close)
	case Revealed:
		must(Close)
		must(Reveal)
	case Board:
		must(Close)
		must(Reveal)
		must(ShowBoard)
	}
	if s.Phase() != p {
		t.Fatalf("reached %s, want %s", s.Phase(), p)
	}
	return s
}

// Every command in every phase: where it leads, or how it is refused.
func TestTransitions(t *testing.T) {
	points := Options{Points: true}
	for _, tc := range []struct {
		from    Phase
		cmd     Command
		opts    Options
		last    bool // at the last question
		want    Phase
		wantErr error
	}{
		{Lobby, Start, points, false, Open, nil},
		{Lobby, Next, points, false, "", ErrIllegal},
		{Lobby, Close, points, false, "", ErrIllegal},
		{Lobby, Reveal, points, false, "", ErrIllegal},
		{Lobby, ShowBoard, points, false, "", ErrIllegal},
		{Lobby, End, points, false, Ended, nil},

		{Open, Start, points, false, "", ErrIllegal},
		{Open, Next, points, false, "", ErrIllegal},
		{Open, Close, points, false, Closed, nil},
		{Open, Reveal, points, false, "", ErrIllegal},
		{Open, ShowBoard, points, false, "", ErrIllegal},
		{Open, End, points, false, Ended, nil},

		{Closed, Start, points, false, "", ErrIllegal},
		{Closed, Next, points, false, Open, nil},
		{Closed, Next, points, true, "", ErrNoMoreQuestions},
		{Closed, Close, points, false, "", ErrIllegal},
		{Closed, Reveal, points, false, Revealed, nil},
		{Closed, ShowBoard, points, false, "", ErrIllegal},
		{Closed, End, points, false, Ended, nil},

		{Revealed, Start, points, false, "", ErrIllegal},
		{Revealed, Next, points, false, Open, nil},
		{Revealed, Next, points, true, "", ErrNoMoreQuestions},
		{Revealed, Close, points, false, "", ErrIllegal},
		{Revealed, Reveal, points, false, "", ErrIllegal},
		{Revealed, ShowBoard, points, false, Board, nil},
		{Revealed, ShowBoard, Options{}, false, "", ErrNoPoints},
		{Revealed, End, points, false, Ended, nil},

		{Board, Start, points, false, "", ErrIllegal},
		{Board, Next, points, false, Open, nil},
		{Board, Next, points, true, "", ErrNoMoreQuestions},
		{Board, Close, points, false, "", ErrIllegal},
		{Board, Reveal, points, false, "", ErrIllegal},
		{Board, ShowBoard, points, false, "", ErrIllegal},
		{Board, End, points, false, Ended, nil},

		{Ended, Start, points, false, "", ErrEnded},
		{Ended, Next, points, false, "", ErrEnded},
		{Ended, Close, points, false, "", ErrEnded},
		{Ended, Reveal, points, false, "", ErrEnded},
		{Ended, ShowBoard, points, false, "", ErrEnded},
		{Ended, End, points, false, "", ErrEnded},
	} {
		name := fmt.Sprintf("%s/%s/points=%v/last=%v", tc.from, tc.cmd, tc.opts.Points, tc.last)
		t.Run(name, func(t *testing.T) {
			s := inPhase(t, tc.from, tc.opts, tc.last)
			before, q, v := s.Phase(), s.Current(), s.Version()
			if got := s.Can(tc.cmd); got != (tc.wantErr == nil) {
				t.Errorf("Can(%s) = %v, want %v", tc.cmd, got, tc.wantErr == nil)
			}
			err := s.Do(t0.Add(time.Minute), tc.cmd, -1)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Do(%s) in %s: err %v, want %v", tc.cmd, before, err, tc.wantErr)
				}
				if s.Phase() != before || s.Current() != q || s.Version() != v {
					t.Errorf("a refused %s changed the session: %s q%d v%d → %s q%d v%d", tc.cmd, before, q, v, s.Phase(), s.Current(), s.Version())
				}
				return
			}
			if err != nil {
				t.Fatalf("Do(%s) in %s: %v", tc.cmd, before, err)
			}
			if s.Phase() != tc.want {
				t.Errorf("Do(%s) in %s: phase %s, want %s", tc.cmd, before, s.Phase(), tc.want)
			}
			wantQ := q
			if tc.want == Open {
				wantQ = q + 1
			}
			if s.Current() != wantQ {
				t.Errorf("Do(%s): question %d, want %d", tc.cmd, s.Current(), wantQ)
			}
			if s.Version() <= v {
				t.Errorf("Do(%s) did not advance the version", tc.cmd)
			}
		})
	}
}

// The table covers every phase and command.
func TestTransitionTableIsComplete(t *testing.T) {
	for _, p := range Phases {
		if _, ok := transitions[p]; !ok {
			t.Errorf("phase %s has no transitions entry", p)
		}
	}
	if len(transitions) != len(Phases) {
		t.Errorf("transitions has %d phases, want %d", len(transitions), len(Phases))
	}
}

func TestStaleCommand(t *testing.T) {
	s := inPhase(t, Closed, Options{}, false)
	if err := s.Do(t0, Next, 0); err != nil {
		t.Fatalf("next from question 0: %v", err)
	}
	// The teacher's second tap, still meant for question 0.
	s.Do(t0, Close, 1)
	if err := s.Do(t0, Next, 0); !errors.Is(err, ErrStale) {
		t.Fatalf("second next for question 0: err %v, want stale", err)
	}
	if s.Current() != 1 {
		t.Errorf("question %d, want 1", s.Current())
	}
	if err := s.Do(t0, End, 0); err != nil {
		t.Errorf("end is never stale: %v", err)
	}
}

func TestTimerClosesQuestion(t *testing.T) {
	s := inPhase(t, Lobby, Options{Timer: 20 * time.Second}, false)
	s.Do(t0, Start, -1)
	if got := s.Deadline(); !got.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("deadline %v, want %v", got, t0.Add(20*time.Second))
	}
	if s.Tick(t0.Add(19 * time.Second)) {
		t.Fatal("closed 1 s early")
	}
	if !s.Tick(t0.Add(20 * time.Second)) {
		t.Fatal("did not close at the deadline")
	}
	if s.Phase() != Closed || !s.Deadline().IsZero() {
		t.Errorf("phase %s deadline %v, want closed and no deadline", s.Phase(), s.Deadline())
	}
	if s.Tick(t0.Add(time.Hour)) {
		t.Error("closed twice")
	}
	// No timer: it stays open.
	s2 := inPhase(t, Open, Options{}, false)
	if s2.Tick(t0.Add(24 * time.Hour)) {
		t.Error("a question without a timer closed by itself")
	}
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		phase   Phase
		late    bool
		wantErr error
	}{
		{Lobby, false, nil},
		{Open, false, ErrLateJoin},
		{Open, true, nil},
		{Closed, false, ErrLateJoin},
		{Revealed, true, nil},
		{Board, false, ErrLateJoin},
		{Ended, true, ErrEnded},
	} {
		s := inPhase(t, tc.phase, Options{LateJoin: tc.late, Points: true}, false)
		_, err := s.Join(t0, "guest:1", "Ali", "h")
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("join in %s (late join %v): err %v, want %v", tc.phase, tc.late, err, tc.wantErr)
		}
	}

	s := newSession(t, Options{})
	p, err := s.Join(t0, "guest:1", "  Ali   Karimov ", "h")
	if err != nil {
		t.Fatal(err)
	}
	if p.Nickname != "Ali Karimov" || p.ID != "p1" || p.Learner != "guest:1" {
		t.Errorf("player %+v, want Ali Karimov p1 guest:1", p)
	}
	for _, nick := range []string{"ali karimov", "АLI KАRIMOV" /* Cyrillic А */, "Ali  Karimov"} {
		if _, err := s.Join(t0, "guest:2", nick, "h"); !errors.Is(err, ErrNicknameTaken) {
			t.Errorf("join as %q: err %v, want nickname_taken", nick, err)
		}
	}
	for _, nick := range []string{"", "   ", "<script>", "a\x00b", "abcdefghijklmnopqrstuvwxy", "---"} {
		if _, err := s.Join(t0, "guest:2", nick, "h"); !errors.Is(err, ErrNicknameInvalid) {
			t.Errorf("join as %q: err %v, want nickname_invalid", nick, err)
		}
	}
	for _, nick := range []string{"Зарина", "Шоҳрух", "O'Neil", "x_2.0", "Нигина-ҷон"} {
		if _, err := s.Join(t0, "guest:3", nick, "h"); err != nil {
			t.Errorf("join as %q: %v", nick, err)
		}
	}
	if got := len(s.Players()); got != 6 {
		t.Errorf("%d players, want 6", got)
	}
}

func TestRemoveAndRename(t *testing.T) {
	s := newSession(t, Options{Points: true})
	a, _ := s.Join(t0, "guest:1", "Ali", "h")
	b, _ := s.Join(t0, "guest:2", "Bahrom", "h")
	if _, err := s.Rename(a.ID, "Bahrom"); !errors.Is(err, ErrNicknameTaken) {
		t.Errorf("rename to a taken nickname: err %v", err)
	}
	if _, err := s.Rename(a.ID, "Brave Tiger"); err != nil || a.Nickname != "Brave Tiger" {
		t.Errorf("rename: %v, nickname %q", err, a.Nickname)
	}
	if !s.NicknameFree("Ali") {
		t.Error("the old nickname is still taken after a rename")
	}
	if _, err := s.Remove(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(b.ID); !errors.Is(err, ErrNoPlayer) {
		t.Errorf("second remove: err %v", err)
	}
	if _, err := s.Rename(b.ID, "X"); !errors.Is(err, ErrNoPlayer) {
		t.Errorf("rename of a removed player: err %v", err)
	}
	if _, err := s.Remove("p99"); !errors.Is(err, ErrNoPlayer) {
		t.Errorf("remove of nobody: err %v", err)
	}
	if got := len(s.Players()); got != 1 {
		t.Errorf("%d players, want 1", got)
	}
	s.Do(t0, Start, -1)
	if _, _, err := s.Submit(t0, b.ID, 0, id(1), learn.Response{Choices: []int{1}}); !errors.Is(err, ErrRemoved) {
		t.Errorf("answer of a removed player: err %v", err)
	}
	s.Do(t0, End, -1)
	if _, err := s.Remove(a.ID); !errors.Is(err, ErrEnded) {
		t.Errorf("remove after the end: err %v", err)
	}
	if _, err := s.Rename(a.ID, "Y"); !errors.Is(err, ErrEnded) {
		t.Errorf("rename after the end: err %v", err)
	}
}

// id returns a valid client answer id.
func id(n int) string { return fmt.Sprintf("01JAAAAAAAAAAAAAAAAAAAA%03d", n) }

func TestSubmit(t *testing.T) {
	s := newSession(t, Options{Points: true, Timer: 10 * time.Second, LateJoin: true})
	ali, _ := s.Join(t0, "guest:1", "Ali", "h")
	bo, _ := s.Join(t0, "guest:2", "Bo", "h")
	right := learn.Response{Choices: []int{1}}

	if _, _, err := s.Submit(t0, ali.ID, 0, id(1), right); !errors.Is(err, ErrNotOpen) {
		t.Errorf("answer in the lobby: err %v, want not_open", err)
	}
	s.Do(t0, Start, -1)
	for _, tc := range []struct {
		name    string
		player  string
		q       int
		id      string
		r       learn.Response
		at      time.Duration
		wantErr error
	}{
		{"unknown player", "p9", 0, id(2), right, 0, ErrNoPlayer},
		{"future question", ali.ID, 1, id(2), right, 0, ErrWrongQuestion},
		{"no such question", ali.ID, 99, id(2), right, 0, ErrWrongQuestion},
		{"negative question", ali.ID, -1, id(2), right, 0, ErrWrongQuestion},
		{"bad id", ali.ID, 0, "not-a-ulid", right, 0, ErrBadID},
		{"empty", ali.ID, 0, id(2), learn.Response{}, 0, ErrBadAnswer},
		{"choice out of range", ali.ID, 0, id(2), learn.Response{Choices: []int{7}}, 0, ErrBadAnswer},
		{"after the timer", ali.ID, 0, id(2), right, 10 * time.Second, ErrQuestionClosed},
	} {
		if _, _, err := s.Submit(t0.Add(tc.at), tc.player, tc.q, tc.id, tc.r); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	var le *Error
	if _, _, err := s.Submit(t0, ali.ID, 0, id(2), learn.Response{}); !errors.As(err, &le) || !errors.Is(le.Err, learn.ErrEmpty) {
		t.Errorf("an empty answer should keep learn.ErrEmpty as its cause, got %v", err)
	}

	a, dup, err := s.Submit(t0.Add(5*time.Second), ali.ID, 0, id(3), right)
	if err != nil || dup {
		t.Fatalf("answer: %v dup=%v", err, dup)
	}
	if !a.Correct || a.Points != 750 || a.Stored {
		t.Errorf("answer %+v, want correct, 750 points (half the timer), not stored", a)
	}
	if got := s.Answered(0); got != 0 {
		t.Errorf("answered %d before the answer was stored, want 0", got)
	}
	// A resend is the same answer; a different answer is refused.
	again, dup, err := s.Submit(t0.Add(9*time.Second), ali.ID, 0, id(3), learn.Response{Choices: []int{0}})
	if err != nil || !dup || again != a {
		t.Errorf("resend: %v dup=%v same=%v, want the first answer", err, dup, again == a)
	}
	if _, _, err := s.Submit(t0, ali.ID, 0, id(4), right); !errors.Is(err, ErrAlreadyAnswered) {
		t.Errorf("second answer: err %v, want already_answered", err)
	}
	if _, _, err := s.Submit(t0, bo.ID, 0, id(3), right); !errors.Is(err, ErrIDConflict) {
		t.Errorf("another player's id: err %v, want id_conflict", err)
	}
	if _, ok := s.Stored(id(3)); !ok {
		t.Fatal("Stored did not take the answer")
	}
	if _, ok := s.Stored(id(3)); ok {
		t.Error("Stored took the answer twice")
	}
	if ali.Score != 750 || s.Answered(0) != 1 {
		t.Errorf("score %d answered %d, want 750 and 1", ali.Score, s.Answered(0))
	}
	// A failed store is forgotten, so the student may send again.
	if _, _, err := s.Submit(t0, bo.ID, 0, id(5), learn.Response{Choices: []int{0}}); err != nil {
		t.Fatal(err)
	}
	s.Forget(id(5))
	if _, ok := s.AnswerOf(bo.ID, 0); ok {
		t.Error("a forgotten answer is still there")
	}
	if _, _, err := s.Submit(t0, bo.ID, 0, id(6), learn.Response{Choices: []int{0}}); err != nil {
		t.Errorf("answer again after a failed store: %v", err)
	}
	s.Stored(id(6))
	if bo.Score != 0 {
		t.Errorf("a wrong answer scored %d", bo.Score)
	}
	// Closed: refused, but a resend of a taken answer is still answered.
	s.Do(t0, Close, -1)
	if _, _, err := s.Submit(t0, bo.ID, 0, id(7), right); !errors.Is(err, ErrQuestionClosed) {
		t.Errorf("answer to a closed question: err %v", err)
	}
	if _, dup, err := s.Submit(t0, ali.ID, 0, id(3), right); err != nil || !dup {
		t.Errorf("resend after close: %v dup=%v, want the stored answer", err, dup)
	}
	s.Do(t0, Next, -1)
	if _, _, err := s.Submit(t0, bo.ID, 0, id(8), right); !errors.Is(err, ErrQuestionClosed) {
		t.Errorf("answer to an earlier question: err %v", err)
	}
	s.Do(t0, End, -1)
	if _, _, err := s.Submit(t0, bo.ID, 1, id(9), learn.Response{Choices: []int{0}}); !errors.Is(err, ErrEnded) {
		t.Errorf("answer after the end: err %v", err)
	}
}

func TestPoints(t *testing.T) {
	for _, tc := range []struct {
		opts    Options
		q       int
		r       learn.Response
		elapsed time.Duration
		want    int
	}{
		{Options{Points: true}, 0, learn.Response{Choices: []int{1}}, time.Hour, 1000},
		{Options{Points: true, Timer: 20 * time.Second}, 0, learn.Response{Choices: []int{1}}, 0, 1000},
		{Options{Points: true, Timer: 20 * time.Second}, 0, learn.Response{Choices: []int{1}}, 19999 * time.Millisecond, 500},
		{Options{Points: true}, 1, learn.Response{Choices: []int{0}}, 0, 500}, // half of a multi
		{Options{Points: true}, 0, learn.Response{Choices: []int{0}}, 0, 0},
		{Options{}, 0, learn.Response{Choices: []int{1}}, 0, 0},
		{Options{Points: true}, 5, learn.Response{Choices: []int{0}}, 0, 0}, // a poll
	} {
		s := newSession(t, tc.opts)
		p, _ := s.Join(t0, "g", "A", "h")
		s.Do(t0, Start, -1)
		for s.Current() < tc.q {
			s.Do(t0, Close, -1)
			s.Do(t0, Next, -1)
		}
		a, _, err := s.Submit(t0.Add(tc.elapsed), p.ID, tc.q, id(1), tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if a.Points != tc.want {
			t.Errorf("q%d %v after %v with %+v: %d points, want %d", tc.q, tc.r, tc.elapsed, tc.opts, a.Points, tc.want)
		}
	}
}

func TestDistributionAndLeaderboard(t *testing.T) {
	s := newSession(t, Options{Points: true})
	var ps []*Player
	for _, n := range []string{"A", "B", "C", "D"} {
		p, _ := s.Join(t0, "g", n, "h")
		ps = append(ps, p)
	}
	s.Do(t0, Start, -1)
	for i, c := range []int{1, 1, 0, 2} {
		s.Submit(t0, ps[i].ID, 0, id(i), learn.Response{Choices: []int{c}})
		if i < 3 {
			s.Stored(id(i))
		}
	}
	got := s.Distribution(0)
	want := []Bar{{"0", 1, false}, {"1", 2, true}, {"2", 0, false}} // D's answer is not stored yet
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("distribution %v, want %v", got, want)
	}
	board := s.Leaderboard()
	if board[0].Score != 1000 || board[0].Rank != 1 || board[1].Rank != 1 || board[2].Rank != 3 || board[2].Score != 0 {
		t.Errorf("leaderboard %+v, want A and B first with 1000, C and D third", board)
	}
	s.Remove(ps[0].ID)
	if got := s.Answered(0); got != 2 {
		t.Errorf("answered %d after removing A, want 2", got)
	}

	// Typed answers: the most frequent, normalised, the rest together.
	s = newSession(t, Options{})
	s.Do(t0, Start, -1)
	for s.Current() < 4 {
		s.Do(t0, Close, -1)
		s.Do(t0, Next, -1)
	}
	answers := []string{"Water", "water.", "вода", "ice", "a", "b", "c", "d", "e"}
	for i, text := range answers {
		p, _ := s.Join(t0, "g", fmt.Sprintf("P%d", i), "h")
		if p == nil {
			s.Opts.LateJoin = true
			p, _ = s.Join(t0, "g", fmt.Sprintf("P%d", i), "h")
		}
		if _, _, err := s.Submit(t0, p.ID, 4, id(i), learn.Response{Text: text}); err != nil {
			t.Fatal(err)
		}
		s.Stored(id(i))
	}
	bars := s.Distribution(4)
	if len(bars) != maxTypedBars || bars[0].Label != "water" || bars[0].Count != 2 || !bars[0].Correct {
		t.Errorf("bars %v, want water ×2 (correct) first and %d bars", bars, maxTypedBars)
	}
	if last := bars[len(bars)-1]; last.Label != Other || last.Count != 3 {
		t.Errorf("last bar %v, want %s ×3", last, Other)
	}
}
