package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/durable"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Contributions: the packs the box's teachers made (the teacher studio:
// ids in the namespace of the box's own key, signed with it) go to the hub
// with the sync, after the events, and on the USB stick beside the bundle.
// Every version kept in the studio's folder goes, and the version of each
// installed in the library. The hub keeps each archive once by its SHA-256,
// so sending one again is safe: a contribution is sent at each sync until
// the hub acknowledged it, and the acknowledgements are kept in a file
// (docs/sync-protocol.md, "Contributions").

// Contributions says what the box contributes, and where it keeps what the
// hub acknowledged. The zero value contributes nothing.
type Contributions struct {
	OwnKey content.PublicKey // the box's own key: packs of its namespace go
	Dir    string            // DATA/studio/packs: every version kept, ID-VERSION.stempack
	Sent   string            // the file of the hub's acknowledgements
}

// contribution is a pack to contribute.
type contribution struct {
	ID, Version string
	SHA256      string
	Data        []byte
}

// sentState is what the hub acknowledged: by archive SHA-256.
type sentState struct {
	Acked map[string]sentEntry `json:"acked"`
}

type sentEntry struct {
	ID      string    `json:"id"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
	By      string    `json:"by"` // "sync" or "stick"
}

var sentMu sync.Mutex // the acknowledgements file, within the process

func (c Contributions) on() bool { return c.OwnKey.ID != "" && c.Sent != "" }

func (c Contributions) loadSent() (sentState, error) {
	st := sentState{Acked: map[string]sentEntry{}}
	b, err := os.ReadFile(c.Sent)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("upstream: contributions sent: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Acked == nil {
		// Damaged: everything is sent again, which the hub takes as a no-op.
		return sentState{Acked: map[string]sentEntry{}}, nil
	}
	return st, nil
}

// acknowledged records that the hub holds the contributions with these
// SHA-256s (by the sync, or a stick's acknowledgement).
func (c Contributions) acknowledged(shas map[string]sentEntry) error {
	if !c.on() || len(shas) == 0 {
		return nil
	}
	sentMu.Lock()
	defer sentMu.Unlock()
	st, err := c.loadSent()
	if err != nil {
		return err
	}
	for sha, e := range shas {
		st.Acked[sha] = e
	}
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Sent), 0o750); err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	return durable.WriteFile(c.Sent, 0o644, func(f *os.File) error { _, err := f.Write(b); return err })
}

// pending lists the contributions the hub has not acknowledged: the
// archives kept in Dir, then the installed packs of the namespace whose
// version is neither kept there nor acknowledged.
func (c Contributions) pending(lib *content.Library) ([]contribution, error) {
	if !c.on() {
		return nil, nil
	}
	st, err := c.loadSent()
	if err != nil {
		return nil, err
	}
	ns := content.Namespace(c.OwnKey.ID)
	have := map[string]bool{} // id + " " + version kept or acknowledged, and the names of the archives acknowledged
	for _, e := range st.Acked {
		if e.ID != "" {
			have[e.ID+" "+e.Version] = true
			have[strings.TrimSuffix(content.ArchiveName(e.ID, e.Version), content.Extension)] = true
		}
	}
	var out []contribution
	files, _ := filepath.Glob(filepath.Join(c.Dir, ns+"*"+content.Extension))
	sort.Strings(files)
	for _, f := range files {
		// A kept version is never written again: one acknowledged is not
		// read again at every sync.
		if name := filepath.Base(f); have[strings.TrimSuffix(name, content.Extension)] {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("upstream: contribution: %w", err)
		}
		a, err := content.InspectArchive(bytes.NewReader(data), int64(len(data)), content.DefaultLimits)
		if err != nil || !content.InNamespace(c.OwnKey.ID, a.Manifest.ID) {
			continue // not a pack of this box's: nothing to send
		}
		have[a.Manifest.ID+" "+a.Manifest.Version] = true
		sum := sha256.Sum256(data)
		sha := hex.EncodeToString(sum[:])
		if _, ok := st.Acked[sha]; !ok {
			out = append(out, contribution{ID: a.Manifest.ID, Version: a.Manifest.Version, SHA256: sha, Data: data})
		}
	}
	if lib == nil {
		return out, nil
	}
	for _, p := range lib.Packs() {
		m := &p.Manifest
		if !strings.HasPrefix(m.ID, ns) || p.KeyID != c.OwnKey.ID || have[m.ID+" "+m.Version] {
			continue
		}
		data, err := installedArchive(p)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		if sha := hex.EncodeToString(sum[:]); st.Acked[sha].At.IsZero() {
			out = append(out, contribution{ID: m.ID, Version: m.Version, SHA256: sha, Data: data})
		}
	}
	return out, nil
}

// installedArchive makes the archive of an installed pack from its files.
func installedArchive(p *content.Pack) ([]byte, error) {
	manifest, err := os.ReadFile(filepath.Join(p.Dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("upstream: contribution %s: %w", p.Manifest.ID, err)
	}
	sig, err := os.ReadFile(filepath.Join(p.Dir, "manifest.sig"))
	if err != nil {
		return nil, fmt.Errorf("upstream: contribution %s: %w", p.Manifest.ID, err)
	}
	var buf bytes.Buffer
	err = content.WriteArchive(&buf, manifest, sig, func(rel string) (io.ReadCloser, error) {
		fp, _, ok := p.FilePath(rel)
		if !ok {
			return nil, fmt.Errorf("the manifest does not list %s", rel)
		}
		return os.Open(fp)
	})
	if err != nil {
		return nil, fmt.Errorf("upstream: contribution %s: %w", p.Manifest.ID, err)
	}
	return buf.Bytes(), nil
}

// contribute sends the contributions the hub has not acknowledged, one
// request each, and records each acknowledgement as it comes. A refusal
// of one does not stop the others; it is retried at the next sync.
func (s *Syncer) contribute(ctx context.Context, c *hubClient) error {
	todo, err := s.cfg.Contributions.pending(s.lib)
	if err != nil || len(todo) == 0 {
		return err
	}
	var errs []error
	for _, p := range todo {
		// One the hub refused is sent again at the catalogue's pace (a
		// person must act first), or at once after "sync now".
		s.mu.Lock()
		r, refused := s.contribRefused[p.SHA256]
		s.mu.Unlock()
		if refused && time.Since(r.at) < s.cfg.CatalogueEvery {
			errs = append(errs, r.err)
			continue
		}
		var ack wire.ContributionResponse
		err := c.json(ctx, http.MethodPost, wire.PathContributions, p.Data,
			map[string]string{"Content-Type": "application/zip", wire.HeaderBoxKey: s.cfg.Contributions.OwnKey.String()}, &ack)
		if err == nil && ack.SHA256 != p.SHA256 {
			err = fmt.Errorf("the hub acknowledged %s, not the archive sent (%s)", ack.SHA256, p.SHA256)
		}
		if err != nil {
			err = fmt.Errorf("contribution %s %s: %w", p.ID, p.Version, err)
			errs = append(errs, err)
			var he *hubError
			if errors.As(err, &he) && he.status == http.StatusNotFound {
				break // a hub from before contributions
			}
			if errors.As(err, &he) && he.status >= 400 && he.status < 500 {
				s.mu.Lock()
				if s.contribRefused == nil {
					s.contribRefused = map[string]contribRefusal{}
				}
				s.contribRefused[p.SHA256] = contribRefusal{at: time.Now(), err: err}
				s.mu.Unlock()
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err := s.cfg.Contributions.acknowledged(map[string]sentEntry{p.SHA256: {ID: p.ID, Version: p.Version, At: time.Now().UTC(), By: "sync"}}); err != nil {
			return err
		}
		s.log.Info("contribution acknowledged by the hub", "pack", p.ID, "version", p.Version, "known", ack.Known)
	}
	return errors.Join(errs...)
}

// contribRefusal is when and why the hub refused a contribution.
type contribRefusal struct {
	at  time.Time
	err error
}

// exportContributions writes the contributions the hub has not
// acknowledged into dir, beside the bundle, and returns their SHA-256s
// (the bundle's header names them, so the hub takes only these).
func (c Contributions) exportContributions(lib *content.Library, boxID, dir string) ([]string, error) {
	todo, err := c.pending(lib)
	if err != nil {
		return nil, err
	}
	var shas []string
	for _, p := range todo {
		path := filepath.Join(dir, wire.ContribFileName(boxID, p.SHA256))
		if err := durable.WriteFile(path, 0o644, func(f *os.File) error { _, err := f.Write(p.Data); return err }); err != nil {
			return nil, fmt.Errorf("upstream: write contribution: %w", err)
		}
		shas = append(shas, p.SHA256)
	}
	return shas, nil
}

// ackedOnStick records the contributions a stick's acknowledgement names.
func (c Contributions) ackedOnStick(ctx context.Context, db *store.DB, lib *content.Library, path string) error {
	if !c.on() {
		return nil
	}
	ack, err := readAck(ctx, db, path)
	if err != nil || len(ack.Contributions) == 0 {
		return err
	}
	todo, err := c.pending(lib)
	if err != nil {
		return err
	}
	done := map[string]sentEntry{}
	for _, sha := range ack.Contributions {
		for _, p := range todo {
			if p.SHA256 == sha {
				done[sha] = sentEntry{ID: p.ID, Version: p.Version, At: time.UnixMilli(ack.HubMS).UTC(), By: "stick"}
			}
		}
	}
	return c.acknowledged(done)
}
