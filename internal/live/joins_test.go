package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// joinBurstFrom joins n players at once from addr and returns how many got
// in and the errors of the others.
func joinBurstFrom(h *harness, code, addr string, n int) (joined int, errs map[string]int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs = map[string]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.sessions.Join(context.Background(), code, JoinRequest{Learner: fmt.Sprintf("guest:%s-%d", addr, i), Addr: addr})
			mu.Lock()
			defer mu.Unlock()
			var le *Error
			switch {
			case err == nil:
				joined++
			case errors.As(err, &le):
				errs[le.Code]++
			default:
				errs[err.Error()]++
			}
		}()
	}
	wg.Wait()
	return joined, errs
}

// A burst of joins from one address is cut to the address's bucket, and
// another address still joins.
func TestJoinsFromOneAddressAreLimited(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:1])
	began := time.Now()
	joined, errs := joinBurstFrom(h, s.Code, "192.0.2.7", 200)
	refilled := int(time.Since(began).Seconds()*joinRate) + 1
	if joined < joinBurst || joined > joinBurst+refilled || errs[ErrJoinRate.Code] != 200-joined {
		t.Errorf("200 joins at once from one address: %d joined, refusals %v; want %d joined, the rest %s",
			joined, errs, joinBurst, ErrJoinRate.Code)
	}
	if _, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:other", Nickname: "Other", Addr: "192.0.2.8"}); err != nil {
		t.Errorf("a join from another address: %v", err)
	}
}

// However fast an address may join, a session takes at most
// maxPlayersPerAddr players from it.
func TestPlayersPerAddressAreCapped(t *testing.T) {
	h := newHarness(t)
	h.sessions.joins.burst = 1000
	s := h.create(Options{}, questions(t)[:1])
	joined, errs := joinBurstFrom(h, s.Code, "192.0.2.7", maxPlayersPerAddr+40)
	if joined != maxPlayersPerAddr || errs[ErrAddressFull.Code] != 40 {
		t.Errorf("%d joins from one address: %d joined, refusals %v; want %d, the rest %s",
			maxPlayersPerAddr+40, joined, errs, maxPlayersPerAddr, ErrAddressFull.Code)
	}
	if _, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:other", Nickname: "Other", Addr: "192.0.2.8"}); err != nil {
		t.Errorf("a join from another address: %v", err)
	}
}

// A locked session takes no new player, before and after a restart, while
// a player who joined reconnects; unlocked, it takes them again.
func TestLockedSessionKeepsItsPlayers(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:1])
	ali := h.join(s.Code, "Ali")
	teacher := h.connect(s.Code, RoleTeacher, s.Token)
	teacher.send(map[string]any{"type": "lock"})
	if m := teacher.expect("locked"); m["locked"] != true {
		t.Fatalf("after lock: %v", m)
	}
	for restart := range 2 {
		if _, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:new", Nickname: "New"}); !errors.Is(err, ErrLocked) {
			t.Fatalf("restart %d: a join of a locked session: err %v, want %s", restart, err, ErrLocked.Code)
		}
		c := h.dial(s.Code, RoleStudent, ali.Token)
		if st := c.expect("state"); st["me"] == nil || st["locked"] != true {
			t.Fatalf("restart %d: Ali reconnecting to the locked session got %v", restart, st)
		}
		h.stop()
		h = startHarness(t, h.db, h.db, h.path, nil)
	}
	teacher = h.connect(s.Code, RoleTeacher, s.Token)
	teacher.send(map[string]any{"type": "unlock"})
	teacher.expect("locked")
	h.join(s.Code, "New")
}

// The teacher removes several players at once, or everyone who joined
// from one player's address; each is told and closed with 4003.
func TestBulkRemoval(t *testing.T) {
	h := newHarness(t)
	s := h.create(Options{}, questions(t)[:1])
	var flood []Joined
	for i := range 3 {
		j, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: fmt.Sprintf("guest:f%d", i), Nickname: fmt.Sprintf("F%d", i), Addr: "192.0.2.66"})
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, j)
	}
	ali, bo := h.join(s.Code, "Ali"), h.join(s.Code, "Bo")
	var conns []*client
	for _, j := range append(flood, ali, bo) {
		c := h.connect(s.Code, RoleStudent, j.Token)
		conns = append(conns, c)
	}
	teacher := h.connect(s.Code, RoleTeacher, s.Token)

	teacher.send(map[string]any{"type": "kick", "player": flood[1].Player, "same_address": true})
	for i := range flood {
		conns[i].expectError(ErrRemoved.Code)
		conns[i].expectClose(CloseRemoved)
	}
	teacher.send(map[string]any{"type": "kick", "players": []string{bo.Player, "p999"}})
	if m := teacher.expectError(ErrNoPlayer.Code); m["ref"] != "p999" {
		t.Errorf("kick of no such player: %v", m)
	}
	conns[4].expectError(ErrRemoved.Code)
	conns[4].expectClose(CloseRemoved)
	teacher.send(map[string]any{"type": "sync"})
	if st := teacher.expect("state"); num(st, "count") != 1 {
		t.Errorf("after the removals: %v, want Ali alone", st)
	}
	for _, j := range append(flood, bo) {
		if _, _, ok := h.sessions.Player(context.Background(), s.Code, j.Token); ok {
			t.Errorf("removed player %s still holds a secret that works", j.Player)
		}
	}
}
