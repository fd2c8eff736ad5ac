package live

import "time"

// boardSize is how many players the leaderboard shows.
const boardSize = 10

// questionView is the current question as role sees it.
func (r *room) questionView(role Role, now time.Time) *questionView {
	q := r.s.Current()
	if q < 0 || r.s.Phase() == Ended {
		return nil
	}
	question := &r.s.Questions[q]
	pub := question.Public()
	v := &questionView{Q: q, N: len(r.s.Questions), Kind: pub.Kind, Prompt: pub.Prompt, Choices: pub.Choices, Unit: pub.Unit,
		Lang: pub.Lang, TimeMS: ms(r.s.Opts.Timer)}
	if role == RoleStudent && !r.s.Opts.OnDevices {
		// The question is on the projector: the device shows answer
		// buttons A, B, C, … only.
		v.Prompt = ""
		v.Choices = make([]string, len(pub.Choices))
	}
	if d := r.s.Deadline(); !d.IsZero() && r.s.Phase() == Open {
		v.RemainingMS = max(ms(d.Sub(now)), 1)
	}
	return v
}

// revealView is the right answer of the current question; for screens and
// teachers with the chart of the class's answers.
func (r *room) revealView(hosts bool) *revealView {
	q := r.s.Current()
	if q < 0 {
		return nil
	}
	question := &r.s.Questions[q]
	v := &revealView{Q: q, Right: question.RightChoices(), Solution: question.Solution(),
		Answered: r.s.Answered(q), Players: r.s.PlayerCount()}
	if hosts {
		v.Bars = r.s.Distribution(q)
	}
	return v
}

// rankOf returns a player's place on the leaderboard and how many are on it,
// computed once for as long as no score changes.
func (r *room) rankOf(player string) (int, int) {
	if r.ranks == nil {
		r.ranks = map[string]int{}
		for _, st := range r.s.Leaderboard() {
			r.ranks[st.Player] = st.Rank
		}
	}
	return r.ranks[player], len(r.ranks)
}

func (r *room) top() []Standing {
	board := r.s.Leaderboard()
	if len(board) > boardSize {
		board = board[:boardSize]
	}
	return board
}

// resultView is a player's result on the current question, once it is
// revealed (nil before).
func (r *room) resultView(player string) *resultView {
	phase, q := r.s.Phase(), r.s.Current()
	if q < 0 || (phase != Revealed && phase != Board && phase != Ended) {
		return nil
	}
	p, ok := r.s.Player(player)
	if !ok {
		return nil
	}
	v := &resultView{Q: q, Score: p.Score}
	if a, ok := r.s.AnswerOf(player, q); ok && a.Stored {
		v.Answered, v.Correct, v.Points = true, a.Correct, a.Points
	}
	if r.s.Opts.Points {
		v.Rank, v.Of = r.rankOf(player)
	}
	return v
}

// screenPlayers is how many players (the latest to join) a projector's
// state lists: with hundreds, it shows their number and these names.
const screenPlayers = 60

// state is the whole state as c sees it.
func (r *room) state(c *conn) stateMsg {
	now := time.Now()
	phase, q := r.s.Phase(), r.s.Current()
	m := stateMsg{Type: "state", Role: c.role, Session: r.code, Title: r.s.Title, Phase: phase, Q: q, N: len(r.s.Questions),
		Options: optionsView{TimerMS: ms(r.s.Opts.Timer), Points: r.s.Opts.Points, OnDevices: r.s.Opts.OnDevices, LateJoin: r.s.Opts.LateJoin},
		Locked:  r.s.Locked()}
	role := c.role
	if role == RoleTeacher {
		role = RoleScreen // teachers see what the projector sees
	}
	m.Question = r.questionView(role, now)
	if phase == Revealed || phase == Board || (phase == Ended && q >= 0) {
		m.Reveal = r.revealView(c.role != RoleStudent)
	}
	if (phase == Board || phase == Ended) && r.s.Opts.Points {
		m.Board = r.top()
	}
	if c.role == RoleStudent {
		p, _ := r.s.Player(c.player)
		m.Me = &youMsg{Type: "you", Player: p.ID, Nickname: p.Nickname}
		if r.s.Opts.Points {
			m.Me.Score = p.Score
		}
		if a, ok := r.s.AnswerOf(c.player, q); ok {
			m.Answer = &answerView{ID: a.ID, Q: a.Question, Choices: a.Response.Choices, Text: a.Response.Text, Stored: a.Stored}
		}
		m.Result = r.resultView(c.player)
		return m
	}
	players := r.s.Players()
	m.Count, m.Online, m.Answered = len(players), len(r.byPlayer), r.s.Answered(q)
	if c.role == RoleScreen && len(players) > screenPlayers {
		players = players[len(players)-screenPlayers:] // the projector shows the latest
	}
	m.Players = make([]playerView, len(players))
	for i, p := range players {
		_, online := r.byPlayer[p.ID]
		m.Players[i] = playerView{ID: p.ID, Nickname: p.Nickname, Online: online}
	}
	return m
}
