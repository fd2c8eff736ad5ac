// Package box wires the school box together: the database, the library of
// packs, the web server, and their background work. cmd/stembox parses flags
// into a Config and runs a Box; tests run one on a temporary directory and
// port 0.
package box

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/katex"
	"github.com/mitstem/stembox/internal/live"
	"github.com/mitstem/stembox/internal/metrics"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/serve"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
	"github.com/mitstem/stembox/internal/upstream"
)

// Defaults of a box started with no flags.
const (
	DefaultAddr     = ":8080"
	DefaultDataDir  = "stembox-data"
	DefaultDevPacks = "content-packs"
	DefaultLang     = "tg"
)

// Config says how to run a box.
type Config struct {
	Addr        string   // where to listen, e.g. ":8080"
	DataDir     string   // the database, installed packs, keys
	DevPacks    string   // a folder of pack sources to build and install at start ("" for none)
	TrustedKeys []string // public key files of pack signers, besides DataDir/trusted-keys/*.pub
	Lang        string   // default UI language
	// TimeZone names the zone of the times pages and CSV files show
	// ("Asia/Dushanbe"); "" is the system's (TZ, /etc/localtime).
	TimeZone string
	// ReloadEvery is how often the box looks for packs installed by another
	// process (stembox pack install); 0 means 10 s.
	ReloadEvery time.Duration
	Version     string         // shown on the status page and in /metrics
	Snapshots   SnapshotConfig // automatic daily snapshots of the database (snapshot.go)
	Store       store.Options  // database settings; the zero value is what a box needs

	// Finding the box on the LAN and sharing packs with other boxes (lan.go,
	// docs/discovery.md). The zero value advertises nothing.
	MDNS           bool      // advertise with mDNS and browse for other boxes
	MDNSName       string    // the name people see: a school, a room ("" for stembox)
	MDNSHost       string    // the host name under .local ("" for stembox)
	MDNSInterfaces []string  // interfaces to advertise on (none: every up, multicast, non-loopback one)
	Console        io.Writer // gets the box's URLs and a QR code at start (nil: nowhere)

	// Upstream is how the box syncs with the hub (upstream.go,
	// docs/sync-protocol.md); the zero value syncs once enrolled.
	Upstream upstream.Config

	// Clock is the box's own clocks (nil: the system's). Tests give a
	// clock.Sim to start a box in 2019 or 1970 and reboot it.
	Clock clock.Clock
}

// Box is a running school box.
type Box struct {
	cfg Config
	log *slog.Logger
	db  *store.DB
	lib *content.Library
	srv *http.Server
	ln  net.Listener
	// tasks are background work (func(ctx) error) run under one errgroup by
	// Run, next to the web server; features add theirs in Open.
	tasks []func(context.Context) error

	lock             *store.Lock       // held while the box runs, so a restore waits for it to stop
	metrics          *metrics.Registry // /metrics (service.go)
	conns            *metrics.Gauge    // open HTTP connections
	snapshotFailures *metrics.Counter  // automatic snapshots that failed

	upstream *upstream.Syncer   // sync with the hub (upstream.go)
	time     *timekeeper.Keeper // the box's estimate of the true time
}

// Zone is the time zone named ("Asia/Dushanbe", "UTC"); "" is the
// system's. The zone database is built into the binary (time/tzdata in
// cmd/stembox), so a box without /usr/share/zoneinfo knows every zone.
func Zone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("box: time zone %q: %w (a name such as Asia/Dushanbe or UTC)", name, err)
	}
	return z, nil
}

// Paths inside the data directory.
func packsDir(data string) string       { return filepath.Join(data, "packs") }
func trustedKeysDir(data string) string { return filepath.Join(data, "trusted-keys") }
func dbPath(data string) string         { return filepath.Join(data, "stembox.db") }

// DBPath is the database file of a data directory.
func DBPath(data string) string { return dbPath(data) }

// StudioDir is the teacher studio's folder: the archives of every version
// teachers published are kept in its packs/ (docs/studio.md).
func StudioDir(data string) string { return filepath.Join(data, "studio") }

// DevKeyPath is where a box keeps the key it signs packs built from source
// with; its public half is trusted by this data directory only.
func DevKeyPath(data string) string { return filepath.Join(data, "dev-key") }

// Keyring returns the keys a box with this data directory trusts: the files
// in DataDir/trusted-keys, the given files, and the box's own development key.
func Keyring(data string, files []string) (*content.Keyring, error) {
	kr := content.NewKeyring()
	for _, f := range files { // first: one of them may have signed the key list kept in the folder
		if err := kr.LoadKeyFile(f); err != nil {
			return nil, err
		}
	}
	if err := kr.LoadKeyDir(trustedKeysDir(data)); err != nil {
		return nil, err
	}
	if _, err := os.Stat(DevKeyPath(data) + ".pub"); err == nil {
		if err := kr.LoadKeyFile(DevKeyPath(data) + ".pub"); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// TrustKeys makes a data directory trust the public keys in files, for
// good: each is copied into DataDir/trusted-keys, where a running box finds
// it at its next reload. It returns the ids of the keys.
func TrustKeys(data string, files []string) ([]string, error) {
	var ids []string
	for _, f := range files {
		kr := content.NewKeyring()
		if err := kr.LoadKeyFile(f); err != nil {
			return nil, err
		}
		for _, id := range kr.IDs() {
			k, _ := kr.Key(id)
			if err := content.WriteKeyFile(filepath.Join(trustedKeysDir(data), id+".pub"), k); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// OpenLibrary opens the pack library of a data directory.
func OpenLibrary(data string, trusted []string) (*content.Library, error) {
	kr, err := Keyring(data, trusted)
	if err != nil {
		return nil, err
	}
	return content.OpenLibrary(packsDir(data), kr, content.DefaultLimits)
}

// Open prepares a box: it opens (or creates) the data directory, checks the
// database, loads the packs, builds packs from source when asked, and starts
// listening. It does not serve until Run.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Box, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.ReloadEvery == 0 {
		cfg.ReloadEvery = 10 * time.Second
	}
	zone, err := Zone(cfg.TimeZone)
	if err != nil {
		return nil, err
	}
	// The last warnings and errors are kept for the status page.
	recent := ops.NewRecent(50)
	logger = slog.New(recent.Handler(logger.Handler()))
	b := &Box{cfg: cfg, log: logger, metrics: metrics.NewRegistry()}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("box: data directory: %w", err)
	}
	if b.lock, err = store.Acquire(dbPath(cfg.DataDir)); err != nil {
		return nil, fmt.Errorf("box: %w", err)
	}
	if b.db, err = store.OpenOptions(ctx, dbPath(cfg.DataDir), cfg.Clock, cfg.Store); err != nil {
		b.Close()
		return nil, err
	}
	// The true time, from the hub, the class's devices and the last known
	// good time saved (internal/timekeeper): a box has no real-time clock.
	if b.time, err = timekeeper.Open(ctx, b.db.Clock(), b.db, logger); err != nil {
		b.Close()
		return nil, err
	}
	b.tasks = append(b.tasks, b.time.Run)
	// The box's own key signs the packs it builds: the sample packs from
	// source, and what teachers publish in the studio.
	if err := ensureDevKey(cfg.DataDir); err != nil {
		b.Close()
		return nil, err
	}
	ownKey, err := content.LoadSigner(DevKeyPath(cfg.DataDir))
	if err != nil {
		b.Close()
		return nil, err
	}
	if b.lib, err = OpenLibrary(cfg.DataDir, cfg.TrustedKeys); err != nil {
		b.Close()
		return nil, err
	}
	b.lib.Serve() // commands installing beside the box keep what it serves
	for id, perr := range b.lib.Problems() {
		logger.Error("pack not served", "pack", id, "err", perr)
	}
	if err := b.lib.Keys().ListProblem(); err != nil {
		logger.Error("the key list kept on the box was not taken; trusting the box's own keys only", "err", err)
	}
	for _, p := range b.lib.Packs() {
		if v := p.Manifest.Katex; v != "" && v != katex.Version() {
			logger.Warn("pack's formulas were rendered by another KaTeX version; rebuild it if formulas look wrong",
				"pack", p.Manifest.ID, "pack_katex", v, "box_katex", katex.Version())
		}
	}
	if cfg.DevPacks != "" {
		if err := b.installDevPacks(cfg.DevPacks); err != nil {
			b.Close()
			return nil, err
		}
	}
	b.registerMetrics()
	// The server's parts first, then the server made with them.
	// Live sessions: they resume those that were running when the box
	// stopped, and run (their rooms, their sockets) under Run's errgroup.
	liveSessions := live.NewSessions(b.db, logger)
	if err := liveSessions.Restore(ctx); err != nil {
		b.Close()
		return nil, err
	}
	b.tasks = append(b.tasks, liveSessions.Run)
	// Listening before the LAN part is made: it tells other boxes the
	// address.
	if b.ln, err = listen(cfg.Addr, userTimeout); err != nil {
		b.Close()
		return nil, fmt.Errorf("box: listen on %s: %w (is another stembox running? choose another port with --addr)", cfg.Addr, err)
	}
	if err := b.openUpstream(); err != nil {
		b.Close()
		return nil, err
	}
	lan, err := b.openLAN(ctx)
	if err != nil {
		b.Close()
		return nil, err
	}
	studioCfg := server.StudioConfig{Signer: ownKey, Dir: StudioDir(cfg.DataDir), Builder: NewBuilder}
	srv, err := server.New(server.Config{DefaultLang: cfg.Lang, Zone: zone, Version: cfg.Version, Started: time.Now(), Metrics: b.metrics, Recent: recent, Studio: studioCfg}, logger, b.db, b.lib,
		server.WithLive(liveSessions), server.WithSync(b.upstream), server.WithLAN(lan), server.WithTime(b.time))
	if err != nil {
		b.Close()
		return nil, err
	}
	b.srv = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: readHeaderTimeout, // and no Read/WriteTimeout: see listen.go
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		ConnState:         b.trackConn,
	}
	b.tasks = append(b.tasks, b.snapshotLoop, b.serviceLoop)
	return b, nil
}

// Addr is the address the box listens on.
func (b *Box) Addr() net.Addr { return b.ln.Addr() }

// DB returns the box's database.
func (b *Box) DB() *store.DB { return b.db }

// Time returns the box's time keeping.
func (b *Box) Time() *timekeeper.Keeper { return b.time }

// Library returns the box's packs.
func (b *Box) Library() *content.Library { return b.lib }

// Run serves until ctx is cancelled, then shuts down gracefully.
func (b *Box) Run(ctx context.Context) error {
	return serve.Run(ctx, b.srv, b.ln, 5*time.Second, append([]func(context.Context) error{b.reloadLoop}, b.tasks...)...)
}

// reloadLoop picks up packs installed by another process, and logs each
// new reason a pack (or its update) is not served, once.
func (b *Box) reloadLoop(ctx context.Context) error {
	t := time.NewTicker(b.cfg.ReloadEvery)
	defer t.Stop()
	logged := map[string]string{}
	for id, err := range b.lib.Problems() {
		logged[id] = err.Error() // logged by Open
	}
	listProblem := fmt.Sprint(b.lib.Keys().ListProblem())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := b.lib.Reload(); err != nil {
				b.log.Error("reload packs", "err", err)
			}
			now := map[string]string{}
			for id, err := range b.lib.Problems() {
				now[id] = err.Error()
				if logged[id] != now[id] {
					b.log.Error("pack not served", "pack", id, "err", err)
				}
			}
			logged = now
			if p := b.lib.Keys().ListProblem(); fmt.Sprint(p) != listProblem {
				listProblem = fmt.Sprint(p)
				if p != nil {
					b.log.Error("the key list kept on the box was not taken; trusting the box's own keys only", "err", p)
				}
			}
		}
	}
}

// Close releases the box's resources.
func (b *Box) Close() error {
	var errs []error
	if b.ln != nil {
		b.ln.Close()
	}
	if b.db != nil {
		errs = append(errs, b.db.Close())
	}
	if b.lock != nil {
		errs = append(errs, b.lock.Release())
	}
	return errors.Join(errs...)
}
