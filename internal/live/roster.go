package live

import (
	"time"

	"github.com/mitstem/stembox/internal/store"
)

// The room's roster: players join, are renamed and removed, and the
// teacher locks joining.

func (r *room) join(ev joinReq) {
	req := ev.req
	token := NewToken()
	hash := HashToken(token)
	now := time.Now()
	if p, ok := r.s.PlayerOfLearner(req.Learner); isSignedIn(req.Learner) && ok {
		// A signed-in student on another device: the same player, with a
		// new secret for this device.
		old := p.TokenHash
		r.s.Rekey(p.ID, hash)
		rec := store.LivePlayer{Session: r.s.ID, ID: p.ID, TokenHash: hash, Learner: p.Learner, Nickname: p.Nickname, Removed: p.Removed}
		r.write(store.LiveWrite{Player: &rec}, func(r *room, err error) {
			if err != nil {
				r.s.Rekey(p.ID, old)
				ev.reply <- joinResult{err: err}
				return
			}
			delete(r.tokens, old)
			r.tokens[hash] = p.ID
			ev.reply <- joinResult{joined: Joined{Player: p.ID, Nickname: p.Nickname, Token: token}}
		})
		return
	}
	nick := req.Nickname
	if r.s.Opts.GeneratedNames || nick == "" {
		lang := req.Lang
		if lang == "" {
			lang = r.lang
		}
		nick = r.s.FreeNickname(lang, randIntN)
	}
	if req.Addr != "" && r.joinsFrom[req.Addr] >= maxPlayersPerAddr && r.s.Phase() != Ended {
		ev.reply <- joinResult{err: ErrAddressFull}
		return
	}
	p, err := r.s.Join(now, req.Learner, nick, hash)
	if err != nil {
		ev.reply <- joinResult{err: err}
		return
	}
	r.joinsFrom[req.Addr]++
	r.addrOf[p.ID] = req.Addr
	rec := store.LivePlayer{Session: r.s.ID, ID: p.ID, TokenHash: hash, Learner: p.Learner, Nickname: p.Nickname, Joined: p.Joined}
	r.write(store.LiveWrite{Join: &rec}, func(r *room, err error) {
		if err != nil {
			r.s.Unjoin(p.ID)
			r.joinsFrom[req.Addr]--
			delete(r.addrOf, p.ID)
			ev.reply <- joinResult{err: err}
			return
		}
		r.tokens[hash] = p.ID
		r.changed[p.ID] = true
		r.publish()
		ev.reply <- joinResult{joined: Joined{Player: p.ID, Nickname: p.Nickname, Token: token}}
	})
}

func isSignedIn(learner string) bool { return len(learner) > 8 && learner[:8] == "student:" }

// kick removes the players the teacher named (player, players) and, with
// same_address, everyone who joined from the address any of them joined
// from. Each is told (removed, close 4003); the teacher is told of ids
// that name no player.
func (r *room) kick(c *conn, m inMsg) {
	ids := append([]string{}, m.Players...)
	if m.Player != "" {
		ids = append(ids, m.Player)
	}
	if m.SameAddress {
		addrs := map[string]bool{}
		for _, id := range ids {
			if a := r.addrOf[id]; a != "" {
				addrs[a] = true
			}
		}
		for _, p := range r.s.Players() {
			if addrs[r.addrOf[p.ID]] {
				ids = append(ids, p.ID)
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := r.remove(id); err != nil {
			r.refuseErr(c, err, id)
		}
	}
	r.counts = true
	r.ranks = nil
	r.publish()
}

// remove takes one player out, stores it, and tells them.
func (r *room) remove(id string) error {
	p, err := r.s.Remove(id)
	if err != nil {
		return err
	}
	rec := store.LivePlayer{Session: r.s.ID, ID: p.ID, TokenHash: p.TokenHash, Learner: p.Learner, Nickname: p.Nickname, Removed: true}
	r.write(store.LiveWrite{Player: &rec}, r.logStoreErr("remove player"))
	delete(r.tokens, p.TokenHash)
	if pc, ok := r.byPlayer[id]; ok {
		r.sendJSON(pc, errorMsg{Type: "error", Code: ErrRemoved.Code, Message: ErrRemoved.Message})
		pc.close(CloseRemoved, "removed by the teacher")
		r.drop(pc)
	}
	delete(r.changed, id)
	r.removed = append(r.removed, id)
	return nil
}

// lock locks joining, or unlocks it, and tells the teachers and screens
// once it is stored.
func (r *room) lock(c *conn, locked bool) {
	if err := r.s.Lock(locked); err != nil {
		r.refuseErr(c, err, "lock")
		return
	}
	r.publish()
	m := lockedMsg{Type: "locked", Locked: locked}
	r.saveState(func(r *room) { r.broadcast(nil, m) })
}

func (r *room) rename(c *conn, id string) {
	p, ok := r.s.Player(id)
	if !ok || p.Removed {
		r.refuseErr(c, ErrNoPlayer, id)
		return
	}
	if _, err := r.s.Rename(id, r.s.FreeNickname(r.lang, randIntN)); err != nil {
		r.refuseErr(c, err, id)
		return
	}
	rec := store.LivePlayer{Session: r.s.ID, ID: p.ID, TokenHash: p.TokenHash, Learner: p.Learner, Nickname: p.Nickname}
	r.write(store.LiveWrite{Player: &rec}, r.logStoreErr("rename player"))
	if pc, ok := r.byPlayer[id]; ok {
		r.sendJSON(pc, youMsg{Type: "you", Player: p.ID, Nickname: p.Nickname, Score: p.Score})
	}
	r.changed[id] = true
}
