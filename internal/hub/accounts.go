package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Schools, enrollment, box credentials and operators.

// School is a school on the hub.
type School struct {
	ID, Name, Region string
	Created          time.Time
}

// Token is a one-time enrollment token, shown once.
type Token struct {
	Token   string
	School  School
	Expires time.Time
}

// DefaultTokenTTL is how long an enrollment token lasts.
const DefaultTokenTTL = 7 * 24 * time.Hour

var errUnauthorized = failure.Errorf(failure.Unauthorized, "missing, unknown or revoked credential")

func newID() string { return ulid.Make().String() }

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func checkName(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > max || strings.ContainsAny(s, "\x00\r\n") {
		return "", failure.Errorf(failure.Invalid, "a %s is 1–%d characters on one line", what, max)
	}
	return s, nil
}

// CreateSchool adds a school and returns a one-time enrollment token for
// its box, valid for ttl (DefaultTokenTTL when 0).
func (h *Store) CreateSchool(ctx context.Context, name, region string, ttl time.Duration) (Token, error) {
	var err error
	if name, err = checkName("school name", name, 120); err != nil {
		return Token{}, err
	}
	if region, err = checkName("region", region, 80); err != nil {
		return Token{}, err
	}
	s := School{ID: newID(), Name: name, Region: region, Created: h.now()}
	var tok Token
	err = h.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "INSERT INTO schools (id, name, region, created_ms) VALUES (?, ?, ?, ?)", s.ID, s.Name, s.Region, s.Created.UnixMilli()); err != nil {
			return fmt.Errorf("hub: create school: %w", err)
		}
		var err error
		tok, err = h.newToken(ctx, tx, s, ttl)
		return err
	})
	return tok, err
}

// NewToken makes another one-time enrollment token for a school (for a
// second box, or when the first expired).
func (h *Store) NewToken(ctx context.Context, schoolID string, ttl time.Duration) (Token, error) {
	s, err := h.School(ctx, schoolID)
	if err != nil {
		return Token{}, err
	}
	var tok Token
	err = h.db.inTx(ctx, func(tx *Tx) error {
		var err error
		tok, err = h.newToken(ctx, tx, s, ttl)
		return err
	})
	return tok, err
}

func (h *Store) newToken(ctx context.Context, tx *Tx, s School, ttl time.Duration) (Token, error) {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	t := Token{Token: randomToken(), School: s, Expires: h.now().Add(ttl)}
	if _, err := tx.exec(ctx, "INSERT INTO enroll_tokens (token_hash, school_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)",
		wire.SecretHash([]byte(t.Token)), s.ID, h.now().UnixMilli(), t.Expires.UnixMilli()); err != nil {
		return Token{}, fmt.Errorf("hub: enrollment token: %w", err)
	}
	return t, nil
}

// School returns a school by id.
func (h *Store) School(ctx context.Context, id string) (School, error) {
	var s School
	var created int64
	err := h.db.queryRow(ctx, "SELECT id, name, region, created_ms FROM schools WHERE id = ?", id).Scan(&s.ID, &s.Name, &s.Region, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return School{}, failure.Errorf(failure.NotFound, "no school %s", id)
	}
	if err != nil {
		return School{}, fmt.Errorf("hub: school: %w", err)
	}
	s.Created = time.UnixMilli(created)
	return s, nil
}

// Schools lists the schools by region and name.
func (h *Store) Schools(ctx context.Context) ([]School, error) {
	rows, err := h.db.query(ctx, "SELECT id, name, region, created_ms FROM schools ORDER BY region, name")
	if err != nil {
		return nil, fmt.Errorf("hub: schools: %w", err)
	}
	defer rows.Close()
	var out []School
	for rows.Next() {
		var s School
		var created int64
		if err := rows.Scan(&s.ID, &s.Name, &s.Region, &created); err != nil {
			return nil, err
		}
		s.Created = time.UnixMilli(created)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Enroll turns a one-time token into a credential for the box boxID ("" to
// make a credential for a box enrolled by file, bound to the first box
// that uses it); see EnrollBox.
func (h *Store) Enroll(ctx context.Context, token, boxID, boxName string) (wire.EnrollResponse, error) {
	return h.EnrollBox(ctx, wire.EnrollRequest{Token: token, BoxID: boxID, Name: boxName})
}

// EnrollBox turns a one-time token into a credential for the box
// req.BoxID. A token is spent by its first enrollment: a second one, by
// any box, is a conflict and makes no credential — except from the box
// that spent it, proving so with the same retry key, whose answer was lost
// on the way: it gets a new credential and the one it never received is
// revoked. A box already known belongs to its school for good: a token of
// another school is refused, and a new token of its school enrolls it
// anew and revokes every credential it had before.
func (h *Store) EnrollBox(ctx context.Context, req wire.EnrollRequest) (wire.EnrollResponse, error) {
	boxID, boxName := req.BoxID, req.Name
	if boxID != "" && (len(boxID) > 64 || strings.ContainsAny(boxID, " \x00/")) {
		return wire.EnrollResponse{}, failure.Errorf(failure.Invalid, "box id %q is not valid", boxID)
	}
	if utf8.RuneCountInString(boxName) > 120 {
		boxName = string([]rune(boxName)[:120])
	}
	retryHash := ""
	if req.RetryKey != "" && boxID != "" {
		retryHash = wire.SecretHash([]byte(req.RetryKey))
	}
	cred := wire.NewCredential(wire.BoxPrefix)
	pub := wire.BundleKey(cred.Secret).Public().(ed25519.PublicKey)
	tokenHash := wire.SecretHash([]byte(strings.TrimSpace(req.Token)))
	var resp wire.EnrollResponse
	now := h.now()
	err := h.db.inTx(ctx, func(tx *Tx) error {
		var schoolID, prevCred, prevRetry string
		var expires, used int64
		err := tx.queryRow(ctx, "SELECT school_id, expires_ms, used_ms, credential_id, retry_hash FROM enroll_tokens WHERE token_hash = ?"+h.db.forUpdate(), tokenHash).
			Scan(&schoolID, &expires, &used, &prevCred, &prevRetry)
		if errors.Is(err, sql.ErrNoRows) {
			return failure.Errorf(failure.Unauthorized, "unknown enrollment token")
		}
		if err != nil {
			return fmt.Errorf("hub: enroll: %w", err)
		}
		retry := used != 0 && retryHash != "" && subtle.ConstantTimeCompare([]byte(prevRetry), []byte(retryHash)) == 1
		if retry {
			var prevBox string
			if err := tx.queryRow(ctx, "SELECT box_id FROM credentials WHERE id = ?", prevCred).Scan(&prevBox); err != nil || prevBox != boxID {
				retry = false
			}
		}
		if used != 0 && !retry {
			return errTokenUsed
		}
		if now.UnixMilli() > expires {
			return failure.Errorf(failure.Unauthorized, "this enrollment token expired; ask the hub's operator for a new one")
		}
		// Spend the token, and only if nobody else has meanwhile: of two
		// enrollments racing with one token, exactly one goes on.
		res, err := tx.exec(ctx, "UPDATE enroll_tokens SET used_ms = ?, credential_id = ?, retry_hash = ? WHERE token_hash = ? AND used_ms = ? AND credential_id = ?",
			now.UnixMilli(), cred.ID, retryHash, tokenHash, used, prevCred)
		if err != nil {
			return fmt.Errorf("hub: enroll: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errTokenUsed
		}
		s, err := h.schoolTx(ctx, tx, schoolID)
		if err != nil {
			return err
		}
		if boxID != "" {
			if err := h.ensureBox(ctx, tx, boxID, s.ID, boxName, now); err != nil {
				return err
			}
			// Enrolled anew: whatever credential the box had before (lost
			// with its SD card or on the way, or in the wrong hands) stops
			// working.
			if _, err := tx.exec(ctx, "UPDATE credentials SET revoked_ms = ? WHERE box_id = ? AND revoked_ms = 0", now.UnixMilli(), boxID); err != nil {
				return fmt.Errorf("hub: enroll: %w", err)
			}
		}
		if _, err := tx.exec(ctx, "INSERT INTO credentials (id, school_id, box_id, secret_hash, bundle_key, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
			cred.ID, s.ID, boxID, wire.SecretHash(cred.Secret), wire.EncodeKey(pub), now.UnixMilli()); err != nil {
			return fmt.Errorf("hub: enroll: %w", err)
		}
		resp = wire.EnrollResponse{Credential: cred.String(), BoxID: boxID, SchoolID: s.ID, SchoolName: s.Name, Region: s.Region, HubKey: wire.EncodeKey(h.ackKey.Public().(ed25519.PublicKey))}
		return nil
	})
	return resp, err
}

// errTokenUsed answers an enrollment with a token that enrolled a box
// already. It is a conflict (409), not a bad credential: the box that
// lost the answer to its first enrollment shows it on /admin/sync.
var errTokenUsed = failure.Errorf(failure.Conflict, "this enrollment token was used already (a token enrolls one box, once); "+
	"ask the hub's operator for a new token for this school (stembox hub add-token --school ID, or the school's \"new token\" on the hub's page) and enroll the box with it")

func (h *Store) schoolTx(ctx context.Context, tx *Tx, id string) (School, error) {
	var s School
	var created int64
	err := tx.queryRow(ctx, "SELECT id, name, region, created_ms FROM schools WHERE id = ?", id).Scan(&s.ID, &s.Name, &s.Region, &created)
	if err != nil {
		return School{}, fmt.Errorf("hub: school %s: %w", id, err)
	}
	s.Created = time.UnixMilli(created)
	return s, nil
}

// ensureBox makes the box's row, or checks that a known box belongs to
// schoolID.
func (h *Store) ensureBox(ctx context.Context, tx *Tx, boxID, schoolID, name string, now time.Time) error {
	var have string
	err := tx.queryRow(ctx, "SELECT school_id FROM boxes WHERE id = ?", boxID).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.exec(ctx, "INSERT INTO boxes (id, school_id, name, created_ms) VALUES (?, ?, ?, ?)", boxID, schoolID, name, now.UnixMilli()); err != nil {
			return fmt.Errorf("hub: add box: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("hub: box: %w", err)
	case have != schoolID:
		return failure.Errorf(failure.Conflict, "box %s belongs to another school on this hub", boxID)
	}
	if name != "" {
		if _, err := tx.exec(ctx, "UPDATE boxes SET name = ? WHERE id = ?", name, boxID); err != nil {
			return fmt.Errorf("hub: box: %w", err)
		}
	}
	return nil
}

// BoxIdentity is who a box credential speaks for.
type BoxIdentity struct {
	Credential string // the credential's id
	BoxID      string // "" until a credential made by file is first used
	SchoolID   string
	BundleKey  ed25519.PublicKey
}

// AuthBox checks a box credential (sbx1.ID.SECRET).
func (h *Store) AuthBox(ctx context.Context, credential string) (BoxIdentity, error) {
	c, err := wire.ParseCredential(credential)
	if err != nil || c.Prefix != wire.BoxPrefix {
		return BoxIdentity{}, errUnauthorized
	}
	id, hash, err := h.credential(ctx, c.ID)
	if err != nil {
		return BoxIdentity{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(wire.SecretHash(c.Secret))) != 1 {
		return BoxIdentity{}, errUnauthorized
	}
	return id, nil
}

// credential looks up a credential that is not revoked.
func (h *Store) credential(ctx context.Context, id string) (BoxIdentity, string, error) {
	var bi BoxIdentity
	var hash, key string
	var revoked int64
	err := h.db.queryRow(ctx, "SELECT id, box_id, school_id, secret_hash, bundle_key, revoked_ms FROM credentials WHERE id = ?", id).
		Scan(&bi.Credential, &bi.BoxID, &bi.SchoolID, &hash, &key, &revoked)
	if errors.Is(err, sql.ErrNoRows) || revoked != 0 {
		return BoxIdentity{}, "", errUnauthorized
	}
	if err != nil {
		return BoxIdentity{}, "", fmt.Errorf("hub: credential: %w", err)
	}
	if bi.BundleKey, err = wire.DecodeKey(key); err != nil {
		return BoxIdentity{}, "", fmt.Errorf("hub: credential %s: %w", id, err)
	}
	return bi, hash, nil
}

// RevokeCredential revokes a box credential: the box can no longer push
// or pull until it is enrolled again.
func (h *Store) RevokeCredential(ctx context.Context, id string) error {
	res, err := h.db.exec(ctx, "UPDATE credentials SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0", h.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("hub: revoke: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return failure.Errorf(failure.NotFound, "no credential %s in use", id)
	}
	return nil
}

// Operator is someone who runs the hub.
type Operator struct {
	ID, Name string
}

// CreateOperator adds an operator and returns their token, shown once.
func (h *Store) CreateOperator(ctx context.Context, name string) (string, error) {
	name, err := checkName("name", name, 80)
	if err != nil {
		return "", err
	}
	c := wire.NewCredential(wire.OperatorPrefix)
	if _, err := h.db.exec(ctx, "INSERT INTO operators (id, name, secret_hash, created_ms) VALUES (?, ?, ?, ?)",
		c.ID, name, wire.SecretHash(c.Secret), h.now().UnixMilli()); err != nil {
		return "", fmt.Errorf("hub: add operator: %w", err)
	}
	return c.String(), nil
}

// AuthOperator checks an operator token.
func (h *Store) AuthOperator(ctx context.Context, token string) (Operator, error) {
	c, err := wire.ParseCredential(token)
	if err != nil || c.Prefix != wire.OperatorPrefix {
		return Operator{}, errUnauthorized
	}
	var op Operator
	var hash string
	var revoked int64
	err = h.db.queryRow(ctx, "SELECT id, name, secret_hash, revoked_ms FROM operators WHERE id = ?", c.ID).Scan(&op.ID, &op.Name, &hash, &revoked)
	if errors.Is(err, sql.ErrNoRows) || revoked != 0 {
		return Operator{}, errUnauthorized
	}
	if err != nil {
		return Operator{}, fmt.Errorf("hub: operator: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(wire.SecretHash(c.Secret))) != 1 {
		return Operator{}, errUnauthorized
	}
	return op, nil
}

// Session is an operator signed in to the web pages.
type Session struct {
	Operator Operator
	CSRF     string
}

// sessionTTL is how long an operator stays signed in.
const sessionTTL = 12 * time.Hour

// StartSession signs an operator in and returns the cookie's token.
func (h *Store) StartSession(ctx context.Context, op Operator) (token string, err error) {
	token = randomToken()
	_, err = h.db.exec(ctx, "INSERT INTO operator_sessions (token_hash, operator_id, csrf, expires_ms) VALUES (?, ?, ?, ?)",
		wire.SecretHash([]byte(token)), op.ID, randomToken(), h.now().Add(sessionTTL).UnixMilli())
	if err != nil {
		return "", fmt.Errorf("hub: session: %w", err)
	}
	return token, nil
}

// SessionByToken returns the session of a cookie's token.
func (h *Store) SessionByToken(ctx context.Context, token string) (Session, error) {
	var s Session
	var expires, revoked int64
	err := h.db.queryRow(ctx, `SELECT o.id, o.name, s.csrf, s.expires_ms, o.revoked_ms FROM operator_sessions s
		JOIN operators o ON o.id = s.operator_id WHERE s.token_hash = ?`, wire.SecretHash([]byte(token))).
		Scan(&s.Operator.ID, &s.Operator.Name, &s.CSRF, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) || revoked != 0 || h.now().UnixMilli() > expires {
		return Session{}, errUnauthorized
	}
	if err != nil {
		return Session{}, fmt.Errorf("hub: session: %w", err)
	}
	return s, nil
}

// EndSession signs a cookie's session out.
func (h *Store) EndSession(ctx context.Context, token string) error {
	_, err := h.db.exec(ctx, "DELETE FROM operator_sessions WHERE token_hash = ? OR expires_ms < ?", wire.SecretHash([]byte(token)), h.now().UnixMilli())
	return err
}

// BoxInfo is a box as the operator sees it.
type BoxInfo struct {
	ID, Name, SchoolID, SchoolName, Region string
	AckedSeq, Events, BytesReceived        int64
	OffsetMS                               *int64
	LastSeen                               time.Time
	Credentials                            []CredentialInfo
	Status                                 *wire.BoxStatus // what the box last told of itself; nil if never
	StatusAt                               time.Time       // when that arrived, in the hub's time
	Attention                              []string        // what needs the operator: refused packs, the last error
	// Conflict is why the hub last refused a batch of the box as
	// contradicting what it holds (409), while no batch has been taken
	// since; "" if none.
	Conflict string `json:",omitempty"`
}

// CredentialInfo is a credential as the operator sees it.
type CredentialInfo struct {
	ID      string
	Created time.Time
	Revoked bool
}

// Boxes lists the boxes with their credentials and latest status: those
// that need attention first, then by region, school and name.
func (h *Store) Boxes(ctx context.Context) ([]BoxInfo, error) {
	rows, err := h.db.query(ctx, `SELECT b.id, b.name, s.id, s.name, s.region, b.acked_seq, b.events, b.bytes_received, b.offset_ms, b.last_seen_ms, b.status, b.status_ms, b.refused
		FROM boxes b JOIN schools s ON s.id = b.school_id ORDER BY s.region, s.name, b.name, b.id`)
	if err != nil {
		return nil, fmt.Errorf("hub: boxes: %w", err)
	}
	var out []BoxInfo
	index := map[string]int{}
	for rows.Next() {
		var b BoxInfo
		var offset sql.NullInt64
		var seen, statusMS int64
		var status, refused string
		if err := rows.Scan(&b.ID, &b.Name, &b.SchoolID, &b.SchoolName, &b.Region, &b.AckedSeq, &b.Events, &b.BytesReceived, &offset, &seen, &status, &statusMS, &refused); err != nil {
			rows.Close()
			return nil, err
		}
		if refused != "" {
			b.Conflict = refused
			b.Attention = append(b.Attention, refused)
		}
		b.readStatus(status, statusMS)
		if offset.Valid {
			b.OffsetMS = &offset.Int64
		}
		if seen != 0 {
			b.LastSeen = time.UnixMilli(seen)
		}
		index[b.ID] = len(out)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	crows, err := h.db.query(ctx, "SELECT id, box_id, created_ms, revoked_ms FROM credentials ORDER BY created_ms")
	if err != nil {
		return nil, fmt.Errorf("hub: credentials: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var c CredentialInfo
		var box string
		var created, revoked int64
		if err := crows.Scan(&c.ID, &box, &created, &revoked); err != nil {
			return nil, err
		}
		c.Created, c.Revoked = time.UnixMilli(created), revoked != 0
		if i, ok := index[box]; ok {
			out[i].Credentials = append(out[i].Credentials, c)
		}
	}
	if err := crows.Err(); err != nil {
		return nil, err
	}
	attentionFirst(out)
	return out, nil
}
