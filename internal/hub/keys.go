package hub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// The key list (content/keylist.go): which keys sign packs for the
// programme's boxes, and which no longer may. The operator edits it with
// `stembox hub keys add|revoke`, which signs it with the programme's root
// key (a file the operator holds; the hub never has it); the hub keeps
// the signed list in its database (hub_facts, so every hub process serves
// the same) and serves it at GET /api/v1/keys and on USB sticks.

const keyListFact = "key_list"

// KeyList returns the signed key list, or a failure.NotFound error if the
// operator never made one.
func (h *Store) KeyList(ctx context.Context) ([]byte, error) {
	var s string
	err := h.db.write.QueryRowContext(ctx, h.db.q("SELECT value FROM hub_facts WHERE key = ?"), keyListFact).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, failure.Errorf(failure.NotFound, "this hub has no key list (stembox hub keys add makes one)")
	}
	if err != nil {
		return nil, fmt.Errorf("hub: key list: %w", err)
	}
	return []byte(s), nil
}

// UpdateKeyList changes the key list with change, gives it the next
// serial and the time now, signs it with signer and stores it. Two
// operators changing it at once both succeed, one after the other: each
// change applies to the list the other stored.
func (h *Store) UpdateKeyList(ctx context.Context, signer *content.Signer, change func(*content.KeyList) error) (*content.SignedKeyList, error) {
	for try := 0; try < 20; try++ {
		old, err := h.KeyList(ctx)
		if err != nil && failure.KindOf(err) != failure.NotFound {
			return nil, err
		}
		kl := content.KeyList{Format: content.KeyListFormat}
		if old != nil {
			s, err := content.ParseKeyList(old)
			if err != nil {
				return nil, fmt.Errorf("hub: the key list in the database is damaged: %w", err)
			}
			kl = s.List
			if s.SignerID != signer.Public().ID {
				return nil, failure.Errorf(failure.Conflict,
					"hub: the key list is signed by key %s, not by %s: sign it with the same root key (boxes trust only their own)", s.SignerID, signer.Public().ID)
			}
		}
		if err := change(&kl); err != nil {
			return nil, err
		}
		for _, r := range kl.Revoked {
			if r.ID == signer.Public().ID {
				return nil, failure.Errorf(failure.Invalid, "hub: key %s signs the key list (it is the boxes' root): a key list cannot revoke it", r.ID)
			}
		}
		kl.Serial++
		kl.Issued = h.now().UTC().Truncate(time.Second)
		raw, err := kl.Sign(signer)
		if err != nil {
			return nil, failure.Wrap(failure.Invalid, err, err.Error())
		}
		var res sql.Result
		if old == nil {
			res, err = h.db.exec(ctx, "INSERT INTO hub_facts (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", keyListFact, string(raw))
		} else {
			res, err = h.db.exec(ctx, "UPDATE hub_facts SET value = ? WHERE key = ? AND value = ?", string(raw), keyListFact, string(old))
		}
		if err != nil {
			return nil, fmt.Errorf("hub: key list: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return content.ParseKeyList(raw)
		}
		// Another operator changed it meanwhile: apply the change to theirs.
	}
	return nil, fmt.Errorf("hub: key list: changed by others too often; try again")
}

// AddListedKey is a change (UpdateKeyList) that trusts k.
func AddListedKey(k content.PublicKey, note string, added time.Time) func(*content.KeyList) error {
	return func(kl *content.KeyList) error {
		for _, r := range kl.Revoked {
			if r.ID == k.ID {
				return failure.Errorf(failure.Conflict, "hub: key %s was revoked; a revoked key is never trusted again (make a new key)", k.ID)
			}
		}
		for _, lk := range kl.Keys {
			if pk, err := content.ParsePublicKey(lk.Key); err == nil && pk.ID == k.ID {
				return failure.Errorf(failure.Conflict, "hub: key %s is on the list already", k.ID)
			}
		}
		kl.Keys = append(kl.Keys, content.ListedKey{Key: k.String(), Note: note, Added: added.UTC().Truncate(time.Second)})
		return nil
	}
}

// RevokeListedKey is a change (UpdateKeyList) that revokes the key with
// this id: it leaves the list's keys and joins its revoked ones.
func RevokeListedKey(id string, rev content.RevokedKey) func(*content.KeyList) error {
	return func(kl *content.KeyList) error {
		for _, r := range kl.Revoked {
			if r.ID == id {
				return failure.Errorf(failure.Conflict, "hub: key %s is revoked already", id)
			}
		}
		keys := kl.Keys[:0:0]
		for _, lk := range kl.Keys {
			if pk, err := content.ParsePublicKey(lk.Key); err == nil && pk.ID == id {
				continue
			}
			keys = append(keys, lk)
		}
		kl.Keys = keys
		rev.ID = id
		kl.Revoked = append(kl.Revoked, rev)
		return nil
	}
}

// trustListed makes kr trust the keys of the hub's list (and not those
// it revokes), so the hub publishes what its boxes will take.
func (h *Store) trustListed(ctx context.Context, kr *content.Keyring) error {
	raw, err := h.KeyList(ctx)
	if failure.KindOf(err) == failure.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	s, err := content.ParseKeyList(raw)
	if err != nil {
		return fmt.Errorf("hub: the key list in the database is damaged: %w", err)
	}
	kr.UseKeyList(s)
	return nil
}

// handleKeys serves the signed key list to boxes: 304 when the box holds
// it already (If-None-Match), 404 when there is none.
func (h *Hub) handleKeys(w http.ResponseWriter, r *http.Request) {
	raw, err := h.store.KeyList(r.Context())
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	tag := content.KeyListETag(raw)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-cache")
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if strings.TrimSpace(t) == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+content.KeyListFile+`"`) // from the import page, for a stick
	w.Write(raw)
}
