package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/web"
)

// assets are the embedded static files, held in memory with their gzipped
// forms. They are served under /static/HASH/, where HASH covers every file,
// so their URLs change whenever any of them does and browsers may cache them
// for a year.
type assets struct {
	hash  string
	files map[string]*cachedBody
}

// cachedBody is a response held in memory with its header values made
// once, so serving it allocates next to nothing.
type cachedBody struct {
	body, gz         []byte
	contentType      []string
	etag             []string
	length, gzLength []string
	modified         time.Time // zero when unknown
	lastModified     []string
}

// withModified sets the time the body last changed, for Last-Modified and
// If-Modified-Since (old browsers revalidate with it).
func (c *cachedBody) withModified(t time.Time) *cachedBody {
	if !t.IsZero() {
		c.modified = t.UTC().Truncate(time.Second)
		c.lastModified = []string{c.modified.Format(http.TimeFormat)}
	}
	return c
}

func newCachedBody(body, gz []byte, contentType string, etag string) *cachedBody {
	c := &cachedBody{body: body, gz: gz, contentType: []string{contentType}, etag: []string{etag},
		length: []string{strconv.Itoa(len(body))}}
	if gz != nil {
		c.gzLength = []string{strconv.Itoa(len(gz))}
	}
	return c
}

var (
	immutableValue = []string{"public, max-age=31536000, immutable"}
	shortCache     = []string{"public, max-age=300"}
	gzipValue      = []string{"gzip"}
	varyValue      = []string{"Accept-Encoding"}
)

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*cachedBody{}}
	var names []string
	err := fs.WalkDir(web.Static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("server: assets: %w", err)
	}
	sort.Strings(names)
	all := sha256.New()
	for _, p := range names {
		body, err := fs.ReadFile(web.Static, p)
		if err != nil {
			return nil, fmt.Errorf("server: assets: %w", err)
		}
		rel := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		fmt.Fprintf(all, "%s %x\n", rel, sum)
		ct := mime.TypeByExtension(path.Ext(rel))
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		var gz []byte
		if compressible(ct) {
			gz = gzipBytes(body)
		}
		a.files[rel] = newCachedBody(body, gz, ct, `"`+hex.EncodeToString(sum[:12])+`"`)
	}
	a.hash = hex.EncodeToString(all.Sum(nil)[:6])
	return a, nil
}

// URL returns the URL of a static file; it panics on a file that does not
// exist, which templates would otherwise turn into a silent broken link.
func (a *assets) URL(rel string) string {
	if _, ok := a.files[rel]; !ok {
		panic("server: no static file " + rel)
	}
	return "/static/" + a.hash + "/" + rel
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "javascript") ||
		strings.Contains(ct, "svg") || strings.Contains(ct, "xml")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	if buf.Len() >= len(b) {
		return nil // not worth it
	}
	return buf.Bytes()
}

// gzipFast compresses a page made for one request, where time matters more
// than the last bytes.
func gzipFast(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header["Accept-Encoding"] {
		if strings.Contains(v, "gzip") {
			return true
		}
	}
	return false
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.assets.files[r.PathValue("path")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if r.PathValue("hash") == s.assets.hash {
		h["Cache-Control"] = immutableValue
	} else {
		h["Cache-Control"] = shortCache // a page from before an upgrade
	}
	writeCached(w, r, f)
}

// writeCached writes a response held in memory, answering conditional
// requests with 304 and gzip-capable clients with the gzipped form. A body
// may be nil when only its gzipped form is kept (for clients that take it).
func writeCached(w http.ResponseWriter, r *http.Request, c *cachedBody) {
	h := w.Header()
	h["Etag"] = c.etag
	if c.gz != nil {
		h["Vary"] = varyValue
	}
	if c.lastModified != nil {
		h["Last-Modified"] = c.lastModified
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		if etagMatches(inm[0], c.etag[0]) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && !c.modified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !c.modified.After(t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Content-Type"] = c.contentType
	body := c.body
	if c.gz != nil && acceptsGzip(r) {
		h["Content-Encoding"] = gzipValue
		h["Content-Length"] = c.gzLength
		body = c.gz
	} else {
		h["Content-Length"] = c.length
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
