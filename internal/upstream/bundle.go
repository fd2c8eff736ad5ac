package upstream

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Sneakernet on the box's side: Export writes the events the hub has not
// acknowledged to a signed bundle (for a USB stick); Import applies what
// comes back on the stick — the hub's signed acknowledgement, which moves
// the cursor, and pack archives, which are installed.

// bundleBatch is the number of events in each batch of a bundle.
const bundleBatch = 5000

// ExportResult says what Export wrote.
type ExportResult struct {
	Path              string
	Events            int
	FirstSeq, LastSeq int64 // 0 when there was nothing to send
	Batches           int
	Bytes             int64
	After             int64             // the acknowledged cursor the bundle starts after
	Salvaged          int               // of Events, kept from a database a restore replaced
	Packs             map[string]string // installed packs, id → version, named in the bundle
	Contributions     []string          // the teachers' packs written beside the bundle (their SHA-256s)
}

// Export writes a signed bundle of every event after the acknowledged
// cursor into dir, named BOXID-FIRST-LAST.stembundle. The bundle is signed
// with a key derived from the box's credential, so the hub can tell it
// from a forgery; exporting changes nothing on the box (the cursor moves
// only when the acknowledgement comes back).
func Export(ctx context.Context, db *store.DB, lib *content.Library, dir string) (ExportResult, error) {
	return ExportWith(ctx, db, lib, dir, Contributions{})
}

// ExportWith is Export, and writes the box's teachers' packs the hub has
// not acknowledged beside the bundle (contrib.go), named in its header.
func ExportWith(ctx context.Context, db *store.DB, lib *content.Library, dir string, contrib Contributions) (ExportResult, error) {
	link, err := db.UpstreamLink(ctx)
	if err != nil {
		return ExportResult{}, err
	}
	cred, err := wire.ParseCredential(link.Credential)
	if err != nil {
		return ExportResult{}, fmt.Errorf("upstream: the stored credential is damaged; enroll the box again")
	}
	boxID, err := db.BoxID(ctx)
	if err != nil {
		return ExportResult{}, err
	}
	st, err := db.UpstreamState(ctx)
	if err != nil {
		return ExportResult{}, err
	}
	res := ExportResult{After: st.AckedSeq, Packs: map[string]string{}}
	var batches [][]byte
	seen := map[string]bool{}
	var boots []string
	add := func(ep store.Epoch, evs []event.Event) error {
		boots = bootIDs(evs, seen, boots)
		b, err := wire.Marshal(wire.Batch{BoxID: boxID, Stream: streamOf(ep), Clock: stamp(db), Events: toWire(evs)})
		if err != nil {
			return err
		}
		batches = append(batches, b)
		res.Events += len(evs)
		return nil
	}
	// The box's own events after the cursor, a batch per epoch at least.
	after := st.AckedSeq
	for {
		ep, err := db.EpochOf(ctx, after+1)
		if err != nil {
			return ExportResult{}, err
		}
		evs, err := db.EventsIn(ctx, ep, after, bundleBatch)
		if err != nil {
			return ExportResult{}, err
		}
		if len(evs) == 0 {
			break
		}
		if err := add(ep, evs); err != nil {
			return ExportResult{}, err
		}
		if res.FirstSeq == 0 {
			res.FirstSeq = evs[0].Seq
		}
		res.LastSeq = evs[len(evs)-1].Seq
		after = res.LastSeq
	}
	// Then the events a restore kept from the database it replaced.
	if err := db.EachSalvaged(ctx, bundleBatch, func(run store.Salvaged) error {
		res.Salvaged += len(run.Events)
		return add(run.Epoch, run.Events)
	}); err != nil {
		return ExportResult{}, err
	}
	if lib != nil {
		for _, p := range lib.Packs() {
			res.Packs[p.Manifest.ID] = p.Manifest.Version
		}
	}
	created := stamp(db)
	if !seen[created.BootID] {
		boots = append(boots, created.BootID)
	}
	// When the boots of these events began, as the box knows it: the hub
	// dates them by it (docs/sync-protocol.md, "Time").
	times, err := bootTimes(ctx, db, boots)
	if err != nil {
		return ExportResult{}, err
	}
	h := wire.BundleHeader{BoxID: boxID, Credential: cred.ID, School: link.SchoolID, Created: created,
		FirstSeq: res.FirstSeq, LastSeq: res.LastSeq, Events: res.Events, Packs: res.Packs, Boots: times}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ExportResult{}, fmt.Errorf("upstream: %w", err)
	}
	// The contributions first: the bundle names only files on the stick.
	if res.Contributions, err = contrib.exportContributions(lib, boxID, dir); err != nil {
		return ExportResult{}, err
	}
	if len(res.Contributions) > 0 {
		h.Contributions, h.BoxKey = res.Contributions, contrib.OwnKey.String()
	}
	name := fmt.Sprintf("%s-%d-%d%s", boxID, res.FirstSeq, res.LastSeq, wire.BundleExt)
	res.Path = filepath.Join(dir, name)
	f, err := os.CreateTemp(dir, ".tmp-"+name+"-*")
	if err != nil {
		return ExportResult{}, fmt.Errorf("upstream: %w", err)
	}
	defer os.Remove(f.Name())
	if err := wire.WriteBundle(f, h, batches, wire.BundleKey(cred.Secret)); err != nil {
		f.Close()
		return ExportResult{}, fmt.Errorf("upstream: write bundle: %w", err)
	}
	// A stick is pulled out the moment the command ends: flush it first.
	if err := f.Sync(); err != nil {
		f.Close()
		return ExportResult{}, fmt.Errorf("upstream: write bundle: %w", err)
	}
	info, _ := f.Stat()
	if err := f.Close(); err != nil {
		return ExportResult{}, fmt.Errorf("upstream: write bundle: %w", err)
	}
	if err := os.Rename(f.Name(), res.Path); err != nil {
		return ExportResult{}, fmt.Errorf("upstream: write bundle: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	res.Batches = len(batches)
	if info != nil {
		res.Bytes = info.Size()
	}
	return res, nil
}

// ImportResult says what Import did.
type ImportResult struct {
	Acks      int   // acknowledgements applied
	AckedSeq  int64 // the cursor after them
	Moved     bool  // the cursor moved
	Installed []string
	Unchanged []string               // packs already installed
	Kept      []string               // packs not installed because the box holds a newer version (or another build of it): why
	KeyList   *content.KeyListChange // the key list taken, if the stick held one (keys.go)
	// Epoch is the epoch the box started because an acknowledgement said
	// its history parted from the hub's ("" if none): export again.
	Epoch string
}

// Import applies a file from the hub, or every such file in a folder: a
// .stemack moves the cursor forward (never back), a .stempack is installed
// (verified as any install). Applying a file twice changes nothing. An
// acknowledgement of another box, or not signed by this box's hub, is
// refused.
func Import(ctx context.Context, db *store.DB, lib *content.Library, path string) (ImportResult, error) {
	return ImportWith(ctx, db, lib, path, Contributions{})
}

// ImportWith is Import, and records the contributions an acknowledgement
// says the hub holds, so they are sent no more.
func ImportWith(ctx context.Context, db *store.DB, lib *content.Library, path string, contrib Contributions) (ImportResult, error) {
	var files []string
	st, err := os.Stat(path)
	if err != nil {
		return ImportResult{}, fmt.Errorf("upstream: %w", err)
	}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return ImportResult{}, fmt.Errorf("upstream: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			if !e.IsDir() && !strings.HasPrefix(n, ".") && (strings.HasSuffix(n, wire.AckExt) || strings.HasSuffix(n, content.Extension) || n == content.KeyListFile) {
				files = append(files, filepath.Join(path, n))
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return ImportResult{}, fmt.Errorf("upstream: %s holds no %s or %s file", path, wire.AckExt, content.Extension)
		}
	} else {
		files = []string{path}
	}
	var res ImportResult
	// The key list first: it decides which packs the box takes.
	if err := importKeyList(lib, files, &res); err != nil {
		return res, err
	}
	for _, f := range files {
		if filepath.Base(f) == content.KeyListFile {
			continue
		}
		if strings.HasSuffix(f, content.Extension) {
			if lib == nil {
				return res, fmt.Errorf("upstream: no pack library to install %s into", f)
			}
			r, err := lib.InstallFile(f, content.InstallOptions{})
			if failure.KindOf(err) == failure.Conflict {
				// The box holds a newer version (from a peer, say) or
				// another build of this one: it keeps it, and the rest of
				// the stick still applies.
				res.Kept = append(res.Kept, filepath.Base(f)+": "+err.Error())
				continue
			}
			if err != nil {
				return res, fmt.Errorf("upstream: %s: %w", filepath.Base(f), err)
			}
			name := r.Pack.Manifest.ID + " " + r.Pack.Manifest.Version
			if r.Unchanged {
				res.Unchanged = append(res.Unchanged, name)
			} else {
				res.Installed = append(res.Installed, name)
			}
			continue
		}
		moved, acked, epoch, err := applyAck(ctx, db, f)
		if err != nil {
			return res, err
		}
		if err := contrib.ackedOnStick(ctx, db, lib, f); err != nil {
			return res, err
		}
		if epoch != "" {
			res.Epoch = epoch
		}
		res.Acks++
		res.Moved = res.Moved || moved
		res.AckedSeq = acked
	}
	return res, nil
}
