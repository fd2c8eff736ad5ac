package server

import (
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/mitstem/stembox/internal/content"
)

// gzCache keeps gzipped copies of a pack's small text files (SVG diagrams),
// by content hash.
type gzCache struct {
	mu    sync.RWMutex
	bytes int
	m     map[string][]byte
}

const (
	gzMaxFile  = 1 << 20
	gzMaxTotal = 32 << 20
)

func (c *gzCache) get(sum string, load func() ([]byte, error)) []byte {
	c.mu.RLock()
	gz, ok := c.m[sum]
	c.mu.RUnlock()
	if ok {
		return gz
	}
	body, err := load()
	if err != nil {
		return nil
	}
	gz = gzipBytes(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+len(gz) > gzMaxTotal {
		c.m, c.bytes = map[string][]byte{}, 0
	}
	c.m[sum] = gz
	c.bytes += len(gz)
	return gz
}

// handlePackFile serves a file of an installed pack (images, audio, video).
// The URL names the installed version, so responses are immutable; range
// requests let a phone resume or seek in a video.
func (s *Server) handlePackFile(w http.ResponseWriter, r *http.Request) {
	p, err := s.pack(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rel := r.PathValue("path")
	if err := content.CheckPath(rel); err != nil {
		http.NotFound(w, r)
		return
	}
	if name := r.PathValue("name"); name != p.Name {
		// A page from before the pack was updated: send it to the current file.
		if _, _, ok := p.FilePath(rel); ok {
			http.Redirect(w, r, filesURL(p)+rel, http.StatusFound)
			return
		}
		http.NotFound(w, r)
		return
	}
	file, entry, ok := p.FilePath(rel)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if app, isApp := p.Manifest.AppOf(rel); isApp {
		appFileHeaders(w, r, p, app)
	} else if !strings.HasPrefix(rel, "media/") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	ct := mime.TypeByExtension(path.Ext(rel))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h["Cache-Control"] = immutableValue
	etag := `"` + entry.SHA256[:24] + `"`
	if compressible(ct) && entry.Size <= gzMaxFile {
		h["Vary"] = varyValue
		if r.Header.Get("Range") == "" && acceptsGzip(r) {
			if gz := s.gz.get(entry.SHA256, func() ([]byte, error) { return os.ReadFile(file) }); gz != nil {
				writeCached(w, r, newCachedBody(nil, gz, ct, etag).withModified(p.Installed))
				return
			}
		}
	}
	f, err := os.Open(file)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	h.Set("Etag", etag)
	http.ServeContent(w, r, "", p.Installed, f)
}
