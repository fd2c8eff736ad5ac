// Package hub is stembox's central server: schools and the enrollment of
// their boxes, the ingest of the events boxes send (over the network or on
// a USB stick), reports per region, school, grade, subject and pack split
// by gender, and the distribution of content packs. It keeps its data in
// SQLite, or in PostgreSQL when several hub processes share the load.
// docs/sync-protocol.md is the protocol boxes speak to it.
package hub

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/serve"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Defaults of a hub started with no flags.
const (
	DefaultAddr    = ":8090"
	DefaultDataDir = "stembox-hub"
	DefaultLang    = "ru"
)

// Limits bound what boxes may send.
type Limits struct {
	MaxBatchEvents int           // events in one batch
	MaxBatchBytes  int64         // bytes of one request body (compressed)
	IngestEvery    time.Duration // a box may send a batch this often on average …
	IngestBurst    int           // … and this many at once
}

// DefaultLimits let a box with months of backlog catch up in minutes over a
// good link, and stop a broken one from flooding the hub.
var DefaultLimits = Limits{MaxBatchEvents: 10000, MaxBatchBytes: 8 << 20, IngestEvery: 200 * time.Millisecond, IngestBurst: 50}

// Config says how to run a hub.
type Config struct {
	Addr        string   // where to listen
	DataDir     string   // the SQLite database, the first operator's token, trusted keys
	DB          string   // "" for SQLite in DataDir, or a postgres:// URL
	TrustedKeys []string // public keys of pack signers, besides DataDir/trusted-keys/*.pub
	Lang        string   // default language of the operator's pages
	Limits      Limits   // zero fields take DefaultLimits'
	// TrustedProxies are load balancers whose X-Forwarded-For gives the
	// client's address (proxy.go); none by default.
	TrustedProxies []netip.Prefix
	// SigningKey is the programme's signing key file (stembox pack keygen):
	// with it the operator publishes a box's contribution re-signed from
	// the contributions page; without it, re-signs it offline.
	SigningKey string
}

// Hub is a running hub.
type Hub struct {
	cfg     Config
	log     *slog.Logger
	store   *Store
	keys    *content.Keyring
	signer  *content.Signer // the programme's key, if given (Config.SigningKey)
	srv     *http.Server
	ln      net.Listener
	handler http.Handler
	pages   map[string]*template.Template
	ingest  *limiter // per credential
	guesses *limiter // enrollment and sign-in attempts, per address
}

// OperatorTokenFile is where the hub writes the first operator's token.
func OperatorTokenFile(dataDir string) string { return filepath.Join(dataDir, "operator-token") }

// Keyring returns the keys a hub with this data directory trusts to sign
// the packs it publishes.
func Keyring(dataDir string, files []string) (*content.Keyring, error) {
	kr := content.NewKeyring()
	if err := kr.LoadKeyDir(filepath.Join(dataDir, "trusted-keys")); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := kr.LoadKeyFile(f); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// Open prepares a hub: it opens (or creates) its database, makes the first
// operator's token on first start, and listens. It serves from Run.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Hub, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Lang == "" {
		cfg.Lang = DefaultLang
	}
	d := DefaultLimits
	if cfg.Limits.MaxBatchEvents == 0 {
		cfg.Limits.MaxBatchEvents = d.MaxBatchEvents
	}
	if cfg.Limits.MaxBatchBytes == 0 {
		cfg.Limits.MaxBatchBytes = d.MaxBatchBytes
	}
	if cfg.Limits.IngestEvery == 0 {
		cfg.Limits.IngestEvery = d.IngestEvery
	}
	if cfg.Limits.IngestBurst == 0 {
		cfg.Limits.IngestBurst = d.IngestBurst
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("hub: data directory: %w", err)
	}
	h := &Hub{cfg: cfg, log: logger,
		ingest:  newLimiter(cfg.Limits.IngestEvery, cfg.Limits.IngestBurst),
		guesses: newLimiter(6*time.Second, 10),
	}
	var err error
	if h.keys, err = Keyring(cfg.DataDir, cfg.TrustedKeys); err != nil {
		return nil, err
	}
	if cfg.SigningKey != "" {
		if h.signer, err = content.LoadSigner(cfg.SigningKey); err != nil {
			return nil, fmt.Errorf("hub: --signing-key: %w", err)
		}
		h.keys.Add(h.signer.Public()) // what it re-signs, the hub publishes
	}
	if h.store, err = OpenStore(ctx, cfg.DB, cfg.DataDir); err != nil {
		return nil, err
	}
	if err := h.firstOperator(ctx); err != nil {
		h.Close()
		return nil, err
	}
	if h.pages, err = parsePages(); err != nil {
		h.Close()
		return nil, err
	}
	h.handler = h.routes()
	h.srv = &http.Server{
		Handler:           h.handler,
		ReadHeaderTimeout: 20 * time.Second,
		ReadTimeout:       10 * time.Minute, // a bundle or a pack over a slow link
		WriteTimeout:      30 * time.Minute, // a pack file to a box on 2G
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	if h.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		h.Close()
		return nil, fmt.Errorf("hub: listen on %s: %w", cfg.Addr, err)
	}
	return h, nil
}

// firstOperator makes an operator and writes their token to the data
// directory the first time any hub starts on this database.
func (h *Hub) firstOperator(ctx context.Context) error {
	first, err := h.store.SetFactOnce(ctx, "first_operator", time.Now().UTC().Format(time.RFC3339))
	if err != nil || !first {
		return err
	}
	token, err := h.store.CreateOperator(ctx, "operator")
	if err != nil {
		return err
	}
	path := OperatorTokenFile(h.cfg.DataDir)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("hub: write the operator token: %w", err)
	}
	h.log.Info("made the first operator; sign in to the hub's pages with the token in this file", "file", path)
	return nil
}

// Addr is where the hub listens.
func (h *Hub) Addr() net.Addr { return h.ln.Addr() }

// Store returns the hub's data.
func (h *Hub) Store() *Store { return h.store }

// Handler returns the hub's HTTP handler.
func (h *Hub) Handler() http.Handler { return h.handler }

// SigningKey returns the id of the programme's key the hub re-signs
// contributions with, or "" (Config.SigningKey).
func (h *Hub) SigningKey() string {
	if h.signer == nil {
		return ""
	}
	return h.signer.Public().ID
}

// TrustedKeys returns the keys the hub trusts to sign packs.
func (h *Hub) TrustedKeys() *content.Keyring { return h.keys }

// Run serves until ctx ends, then shuts down gracefully.
func (h *Hub) Run(ctx context.Context) error {
	return serve.Run(ctx, h.srv, h.ln, 10*time.Second)
}

// Close releases the hub's resources.
func (h *Hub) Close() error {
	var errs []error
	if h.ln != nil {
		h.ln.Close()
	}
	if h.store != nil {
		errs = append(errs, h.store.Close())
	}
	return errors.Join(errs...)
}

// wireLimits are the decoder's limits for this hub.
func (h *Hub) wireLimits() wire.Limits {
	l := wire.DefaultLimits
	l.MaxEvents = h.cfg.Limits.MaxBatchEvents
	return l
}
