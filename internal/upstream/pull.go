package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Pulling packs: after pushing, the box reads the hub's catalogue and
// fetches the packs its school must have that it lacks, and newer versions
// of the packs it has. It downloads only the files whose SHA-256 it does
// not hold already (in any installed pack), each resumable with a range
// request after a cut, then puts the archive together (content.
// WriteArchive) and installs it through the library, which verifies the
// signature and every hash and swaps it in atomically.

// Progress is a pack download under way.
type Progress struct {
	Pack      string `json:"pack"`
	Version   string `json:"version"`
	Files     int    `json:"files"`      // files to download
	FilesDone int    `json:"files_done"` // of those, done
	Total     int64  `json:"total"`      // bytes to download
	Done      int64  `json:"done"`       // of those, received
}

func (s *Syncer) pull(ctx context.Context, c *hubClient) error {
	s.mu.Lock()
	due := !time.Now().Before(s.pulls.next)
	s.mu.Unlock()
	if !due {
		return nil
	}
	keys := s.trustedKeys()
	var cat wire.Catalogue
	if err := c.json(ctx, http.MethodGet, wire.PathCatalogue, nil, nil, &cat); err != nil {
		s.pulled(true, nil)
		return err
	}
	var errs []error
	var problems []PackError
	transient := false
	for _, p := range cat.Packs {
		if !s.wants(p) {
			continue
		}
		err := s.refusedBefore(p.ManifestSHA256, keys)
		if err == nil {
			if err = s.fetchPack(ctx, c, p); err == nil {
				s.log.Info("installed a pack from the hub", "pack", p.ID, "version", p.Version)
				continue
			}
			err = fmt.Errorf("pack %s %s: %w", p.ID, p.Version, err)
			if k := failure.KindOf(err); k == failure.Invalid || k == failure.Conflict {
				// This box will never install these bytes (while it trusts
				// the keys it trusts now); the version it serves stays.
				s.refuse(p.ManifestSHA256, err, keys)
			} else {
				transient = ctx.Err() == nil
			}
		}
		errs = append(errs, err)
		problems = append(problems, PackError{Pack: p.ID, Version: p.Version, Error: err.Error()})
	}
	s.pulled(transient, problems)
	return errors.Join(errs...)
}

// wants says whether the box should fetch a pack of the catalogue: one its
// school must have and it lacks, or a newer version of one it has.
func (s *Syncer) wants(p wire.CataloguePack) bool {
	if !content.ValidID(p.ID) {
		return false
	}
	cur, ok := s.lib.Pack(p.ID)
	if !ok {
		return p.Required
	}
	if manifestHash(cur) == p.ManifestSHA256 {
		return false
	}
	return content.CompareVersions(p.Version, cur.Manifest.Version) > 0
}

func manifestHash(p *content.Pack) string {
	b, err := os.ReadFile(filepath.Join(p.Dir, "manifest.json"))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// localFiles maps the SHA-256 of every file of the installed packs to its
// path.
func (s *Syncer) localFiles() map[string]string {
	out := map[string]string{}
	for _, p := range s.lib.Packs() {
		for _, f := range p.Manifest.Files {
			if path, _, ok := p.FilePath(f.Path); ok {
				out[f.SHA256] = path
			}
		}
	}
	return out
}

func (s *Syncer) fetchPack(ctx context.Context, c *hubClient, p wire.CataloguePack) error {
	base := wire.PathPacks + p.ID + "/" + p.Version
	manifest, err := c.bytes(ctx, base+"/manifest", content.DefaultLimits.MaxManifest)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(manifest)
	if hex.EncodeToString(sum[:]) != p.ManifestSHA256 {
		return fmt.Errorf("the manifest does not match the catalogue's hash")
	}
	sig, err := c.bytes(ctx, base+"/signature", 4096)
	if err != nil {
		return err
	}
	// Refuse a pack this box would not install before downloading it.
	if s.cfg.Keys != nil {
		if _, err := s.cfg.Keys.Verify(manifest, sig); err != nil {
			return failure.Wrap(failure.Invalid, err, err.Error())
		}
	}
	var m content.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return failure.Wrap(failure.Invalid, err, err.Error())
	}
	if m.ID != p.ID || m.Version != p.Version {
		return failure.Errorf(failure.Invalid, "the manifest is of %s %s", m.ID, m.Version)
	}
	if err := os.MkdirAll(s.cfg.CacheDir, 0o750); err != nil {
		return err
	}
	local := s.localFiles()
	prog := &Progress{Pack: m.ID, Version: m.Version}
	var need []content.File
	seen := map[string]bool{}
	for _, f := range m.Files {
		if _, ok := local[f.SHA256]; ok || seen[f.SHA256] {
			continue
		}
		seen[f.SHA256] = true
		need = append(need, f)
		prog.Files++
		prog.Total += f.Size
	}
	s.setDownload(ctx, prog)
	defer s.setDownload(ctx, nil)
	for _, f := range need {
		if err := s.fetchFile(ctx, c, f, prog); err != nil {
			return err
		}
		s.mu.Lock()
		prog.FilesDone++
		s.mu.Unlock()
		s.saveDownload(ctx)
	}
	// Put the archive together from the files at hand, and install it.
	tmp, err := os.CreateTemp(s.cfg.CacheDir, m.ID+"-*"+content.Extension)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = content.WriteArchive(tmp, manifest, sig, func(path string) (io.ReadCloser, error) {
		f, _ := m.File(path)
		if p, ok := local[f.SHA256]; ok {
			return os.Open(p)
		}
		return os.Open(filepath.Join(s.cfg.CacheDir, f.SHA256))
	})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if _, err := s.lib.InstallFile(tmp.Name(), content.InstallOptions{}); err != nil {
		// A file that does not match (altered in the cache?) is fetched
		// again next time.
		for _, f := range need {
			os.Remove(filepath.Join(s.cfg.CacheDir, f.SHA256))
		}
		return err
	}
	for _, f := range need {
		os.Remove(filepath.Join(s.cfg.CacheDir, f.SHA256))
	}
	return nil
}

// fetchFile downloads one file into the cache as CACHE/SHA256, resuming a
// partial download (CACHE/SHA256.part) with a range request, and checks
// its hash.
func (s *Syncer) fetchFile(ctx context.Context, c *hubClient, f content.File, prog *Progress) error {
	final := filepath.Join(s.cfg.CacheDir, f.SHA256)
	if st, err := os.Stat(final); err == nil && st.Size() == f.Size {
		s.addDone(prog, f.Size)
		return nil
	}
	part := final + ".part"
	out, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	defer out.Close()
	have, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if have > f.Size {
		if err := out.Truncate(0); err != nil {
			return err
		}
		have, _ = out.Seek(0, io.SeekStart)
	}
	s.addDone(prog, have)
	if have < f.Size {
		if err := s.downloadRange(ctx, c, f, out, have, prog); err != nil {
			return err
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, out)
	if err != nil {
		return err
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		os.Remove(part)
		return fmt.Errorf("%s arrived damaged (its hash does not match); it will be fetched again", f.Path)
	}
	out.Close()
	return os.Rename(part, final)
}

// downloadRange appends the bytes of f from offset have to out. A
// watchdog ends it when nothing arrives for StallTimeout — the answer's
// headers included — so a stalled hub is left, and the next try resumes;
// a slow download that keeps receiving goes on as long as it takes.
func (s *Syncer) downloadRange(ctx context.Context, c *hubClient, f content.File, out *os.File, have int64, prog *Progress) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	stop := make(chan struct{})
	defer close(stop)
	go s.watchStall(&last, stop, cancel)
	stalled := func(err error) error {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			return cause
		}
		return err
	}
	hdr := map[string]string{}
	if have > 0 {
		hdr["Range"] = "bytes=" + strconv.FormatInt(have, 10) + "-"
	}
	req, err := c.request(ctx, http.MethodGet, wire.PathFiles+f.SHA256, nil, hdr)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		var he *hubError
		if errors.As(err, &he) && he.status == http.StatusRequestedRangeNotSatisfiable {
			out.Truncate(0)
			s.addDone(prog, -have)
		}
		return stalled(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-") {
			return fmt.Errorf("the hub sent another range than asked (%s)", resp.Header.Get("Content-Range"))
		}
	case http.StatusOK: // the whole file: start again
		if err := out.Truncate(0); err != nil {
			return err
		}
		if _, err := out.Seek(0, io.SeekStart); err != nil {
			return err
		}
		s.addDone(prog, -have)
	default:
		return fmt.Errorf("the hub answered %d for %s", resp.StatusCode, f.Path)
	}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			last.Store(time.Now().UnixNano())
			c.received += int64(n)
			s.addDone(prog, int64(n))
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return stalled(fmt.Errorf("downloading %s: %w", f.Path, rerr))
		}
	}
}

// watchStall cancels a download when nothing arrived (last) for
// StallTimeout, until stop is closed.
func (s *Syncer) watchStall(last *atomic.Int64, stop <-chan struct{}, cancel context.CancelCauseFunc) {
	limit := s.cfg.StallTimeout
	t := time.NewTicker(max(limit/6, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if time.Since(time.Unix(0, last.Load())) > limit {
				cancel(fmt.Errorf("the download stalled: nothing arrived for %s; it resumes on the next try", limit))
				return
			}
		}
	}
}

func (s *Syncer) addDone(p *Progress, n int64) {
	s.mu.Lock()
	p.Done += n
	s.mu.Unlock()
}

// setDownload records the download under way (nil: none), in memory for
// the admin page and in the database for `stembox sync status`.
func (s *Syncer) setDownload(ctx context.Context, p *Progress) {
	s.mu.Lock()
	s.download = p
	s.mu.Unlock()
	s.saveDownload(ctx)
}

func (s *Syncer) saveDownload(ctx context.Context) {
	s.mu.Lock()
	var text string
	if s.download != nil {
		b, _ := json.Marshal(s.download)
		text = string(b)
	}
	s.mu.Unlock()
	if err := s.db.SetUpstreamDownload(ctx, text); err != nil && ctx.Err() == nil {
		s.log.Warn("record download progress", "err", err)
	}
}
