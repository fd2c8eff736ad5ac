package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// Store is the hub's data: schools, boxes, events, packs. Every method is
// one transaction, safe to call from several goroutines and, on
// PostgreSQL, from several hub processes sharing the database.
type Store struct {
	db     *DB
	ackKey ed25519.PrivateKey // signs sneakernet acknowledgements
	// Now is the hub's clock; tests set it.
	Now func() time.Time
}

// OpenStore opens the hub's database (see OpenDB) and its signing key.
func OpenStore(ctx context.Context, target, dataDir string) (*Store, error) {
	db, err := OpenDB(ctx, target, dataDir)
	if err != nil {
		return nil, err
	}
	h := &Store{db: db, Now: time.Now}
	if h.ackKey, err = h.loadAckKey(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return h, nil
}

// Close closes the database.
func (h *Store) Close() error { return h.db.Close() }

// DB returns the database, for tests and benchmarks.
func (h *Store) DB() *DB { return h.db }

func (h *Store) now() time.Time { return h.Now() }

// AckKey returns the hub's public key, which signs acknowledgements.
func (h *Store) AckKey() ed25519.PublicKey { return h.ackKey.Public().(ed25519.PublicKey) }

// loadAckKey reads the hub's acknowledgement key, making it the first
// time. It lives in the database, so every hub process sharing a
// PostgreSQL database signs with the same key.
func (h *Store) loadAckKey(ctx context.Context) (ed25519.PrivateKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	if _, err := h.db.exec(ctx, "INSERT INTO hub_facts (key, value) VALUES ('ack_key', ?) ON CONFLICT (key) DO NOTHING",
		base64.StdEncoding.EncodeToString(seed)); err != nil {
		return nil, fmt.Errorf("hub: signing key: %w", err)
	}
	var s string
	if err := h.db.write.QueryRowContext(ctx, "SELECT value FROM hub_facts WHERE key = 'ack_key'").Scan(&s); err != nil {
		return nil, fmt.Errorf("hub: signing key: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("hub: the signing key in the database is damaged")
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// SetFactOnce sets a fact if it is unset and reports whether it did.
func (h *Store) SetFactOnce(ctx context.Context, key, value string) (bool, error) {
	res, err := h.db.exec(ctx, "INSERT INTO hub_facts (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, value)
	if err != nil {
		return false, fmt.Errorf("hub: fact %s: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
