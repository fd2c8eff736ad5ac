package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/school"
)

// isUnique reports a UNIQUE constraint failure.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// inTx runs f in a write transaction.
func (db *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", describe(err))
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", describe(err))
	}
	db.changes.signal()
	return nil
}

// event appends a roster event in tx. Payloads never hold secrets.
func (db *DB) event(ctx context.Context, tx *sql.Tx, actor string, p event.Payload) error {
	_, err := db.record(ctx, tx, "", actor, p)
	return err
}

// CreateUser adds an admin or teacher. actor is who did it ("" for the box).
func (db *DB) CreateUser(ctx context.Context, actor, role, username, displayName, passwordHash string) (school.User, error) {
	username = strings.TrimSpace(username)
	if role != school.RoleAdmin && role != school.RoleTeacher {
		return school.User{}, failure.Errorf(failure.Invalid, "unknown role %q", role)
	}
	if username == "" || len(username) > 64 || strings.ContainsAny(username, " \t/\\:") {
		return school.User{}, failure.Errorf(failure.Invalid, "a username is 1–64 characters without spaces, slashes or colons")
	}
	if strings.TrimSpace(displayName) == "" {
		displayName = username
	}
	u := school.User{ID: db.NewID(), Role: role, Username: username, DisplayName: strings.TrimSpace(displayName), PasswordHash: passwordHash, Created: db.clock.Now().Wall}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, role, username, display_name, password_hash, created_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.Role, u.Username, u.DisplayName, u.PasswordHash, u.Created.UnixMilli())
		if isUnique(err) {
			return failure.Errorf(failure.Conflict, "the username %q is taken", username)
		}
		if err != nil {
			return fmt.Errorf("store: create user: %w", describe(err))
		}
		return db.event(ctx, tx, actorOr(actor), event.UserCreated{User: u.ID, Role: role})
	})
	if err != nil {
		return school.User{}, err
	}
	return u, nil
}

func actorOr(actor string) string {
	if actor == "" {
		return "box"
	}
	return actor
}

const userColumns = "id, role, username, display_name, password_hash, created_ms"

func scanUser(row interface{ Scan(...any) error }) (school.User, error) {
	var u school.User
	var created int64
	err := row.Scan(&u.ID, &u.Role, &u.Username, &u.DisplayName, &u.PasswordHash, &created)
	u.Created = time.UnixMilli(created)
	return u, err
}

// UserByUsername finds a user by username (case does not matter).
func (db *DB) UserByUsername(ctx context.Context, username string) (school.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE username = ? AND disabled = 0", strings.TrimSpace(username)))
	if errors.Is(err, sql.ErrNoRows) {
		return school.User{}, failure.Errorf(failure.NotFound, "no user %q", username)
	}
	return u, err
}

// UserByID finds a user.
func (db *DB) UserByID(ctx context.Context, id string) (school.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ? AND disabled = 0", id))
	if errors.Is(err, sql.ErrNoRows) {
		return school.User{}, failure.Errorf(failure.NotFound, "no user %s", id)
	}
	return u, err
}

// Users lists the users with a role ("" for all), by name.
func (db *DB) Users(ctx context.Context, role string) ([]school.User, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users WHERE disabled = 0 AND (? = '' OR role = ?) ORDER BY display_name COLLATE NOCASE", role, role)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []school.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// HasAdmin reports whether the box has an admin yet.
func (db *DB) HasAdmin(ctx context.Context) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0").Scan(&n)
	return n > 0, err
}

// SetPassword replaces a user's password hash and ends their sessions.
func (db *DB) SetPassword(ctx context.Context, userID, passwordHash string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, userID)
		if err != nil {
			return fmt.Errorf("store: set password: %w", describe(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.Errorf(failure.NotFound, "no user %s", userID)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE subject_id = ?", userID)
		return err
	})
}

// Session is a signed-in device.
type Session struct {
	Kind    string // "user" or "student"
	Subject string // user or student id
	CSRF    string
	Expires time.Time
}

// CreateSession stores a session for the hash of a token.
func (db *DB) CreateSession(ctx context.Context, tokenHash, kind, subject, csrf string, ttl time.Duration) error {
	now := db.clock.Now().Wall
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_ms < ?", now.UnixMilli()); err != nil {
			return fmt.Errorf("store: sessions: %w", describe(err))
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO sessions (token_hash, kind, subject_id, csrf, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
			tokenHash, kind, subject, csrf, now.UnixMilli(), now.Add(ttl).UnixMilli())
		if err != nil {
			return fmt.Errorf("store: create session: %w", describe(err))
		}
		return nil
	})
}

// SessionByToken returns the unexpired session of a token's hash.
func (db *DB) SessionByToken(ctx context.Context, tokenHash string) (Session, error) {
	var s Session
	var exp int64
	err := db.read.QueryRowContext(ctx, "SELECT kind, subject_id, csrf, expires_ms FROM sessions WHERE token_hash = ? AND expires_ms > ?",
		tokenHash, db.clock.Now().Wall.UnixMilli()).Scan(&s.Kind, &s.Subject, &s.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, failure.Errorf(failure.Unauthorized, "not signed in")
	}
	s.Expires = time.UnixMilli(exp)
	return s, err
}

// DeleteSession signs a device out.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := db.write.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash)
	return err
}

// codeAlphabet has no letters that look alike (0/O, 1/I/L) on a cracked
// screen or in handwriting.
const codeAlphabet = "ACDEFGHJKMNPQRTUVWXY34679"

// NewCode returns a random code of n characters from codeAlphabet.
func NewCode(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}
