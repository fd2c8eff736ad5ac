package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// Defaults of a Client.
const (
	DefaultStall = 30 * time.Second // no byte for this long: the peer stalled
	maxListBytes = 4 << 20
)

// Client talks to another box.
type Client struct {
	HTTP *http.Client
	// Stall is how long a download may go without receiving a byte before
	// it is abandoned (and can be resumed later); 0 means DefaultStall.
	Stall     time.Duration
	UserAgent string
	// MaxArchive bounds the archive a peer may send; 0 means the box's
	// content.DefaultLimits.
	MaxArchive int64
}

// NewClient returns a client with no overall time limit (a pack may take an
// hour on a poor network) but limits on connecting and on silence.
func NewClient(userAgent string) *Client {
	tr := &http.Transport{
		Proxy:                 nil, // peers are on the LAN: never through a proxy
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: DefaultStall,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       time.Minute,
	}
	return &Client{HTTP: &http.Client{Transport: tr}, UserAgent: userAgent}
}

func (c *Client) stall() time.Duration {
	if c.Stall > 0 {
		return c.Stall
	}
	return DefaultStall
}

// BaseURL checks a peer's address as people type it ("192.168.4.1:8080",
// "http://stembox.local:8080/") and returns its scheme and host.
func BaseURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", failure.Errorf(failure.Invalid, "peer: no address given")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "", failure.Errorf(failure.Invalid, "peer: %q is not a box's address (like http://192.168.4.1:8080)", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// RemotePack is a pack another box serves, as its API lists it.
type RemotePack struct {
	ID        string            `json:"id"`
	Version   string            `json:"version"`
	Subject   string            `json:"subject"`
	Grades    []int             `json:"grades"`
	Languages []string          `json:"languages"`
	Title     map[string]string `json:"title"`
	Key       string            `json:"key"` // the id of the key that signed it ("" from older boxes)
}

// Packs lists the packs a peer serves.
func (c *Client) Packs(ctx context.Context, base string) ([]RemotePack, error) {
	base, err := BaseURL(base)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.stall())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/packs", nil)
	if err != nil {
		return nil, err
	}
	c.header(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("peer: %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("peer: %s: listing packs: %s", base, resp.Status)
	}
	var body struct {
		Packs []RemotePack `json:"packs"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxListBytes)).Decode(&body); err != nil {
		return nil, fmt.Errorf("peer: %s: not a stembox pack list: %w", base, err)
	}
	out := body.Packs[:0]
	for _, p := range body.Packs {
		if content.ValidID(p.ID) && len(p.Version) <= 64 {
			out = append(out, p)
		}
	}
	return out, nil
}

func (c *Client) header(req *http.Request) {
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
}

// ArchiveURL is where a box serves the archive of a pack.
func ArchiveURL(base, id string) string {
	return base + "/api/v1/packs/" + url.PathEscape(id) + "/archive"
}

// Progress is how far a download is; Total is -1 while unknown.
type Progress struct {
	Done, Total int64
	Resumed     int64 // bytes that were already there from an earlier try
}

// errRestart asks Download to start over from the first byte.
var errRestart = errors.New("peer: start over")

// Download fetches the archive of pack id from the peer at base into the
// file partial, resuming what an earlier try left there (its ETag is kept
// in partial+".etag" so that a changed pack is never spliced onto an old
// one). progress, if not nil, is called as bytes arrive. The archive's
// SHA-256 is checked against the ETag the peer gave; the pack itself is not
// checked here (Fetch installs it, which does).
//
// judge, if not nil, is given the archive's manifest and signature as soon
// as they have arrived (content.ReadArchiveHead), and says how many bytes
// the archive may have (content.ArchiveBound) or refuses it: the download
// stops at that size plus one byte. A download that is refused leaves
// nothing behind; one that is cut off keeps its bytes, bounded so, for the
// next try to resume.
func (c *Client) Download(ctx context.Context, base, id, partial string, judge Judge, progress func(Progress)) error {
	base, err := BaseURL(base)
	if err != nil {
		return err
	}
	if !content.ValidID(id) {
		return failure.Errorf(failure.Invalid, "peer: %q is not a pack id", id)
	}
	for try := 0; ; try++ {
		err := c.download(ctx, base, id, partial, judge, progress)
		if k := failure.KindOf(err); k == failure.Invalid || k == failure.TooLarge {
			removePartial(partial) // refused: these bytes will never install
		} else if st, serr := os.Stat(partial); err != nil && serr == nil && st.Size() == 0 {
			removePartial(partial) // nothing to resume
		}
		if !errors.Is(err, errRestart) {
			return err
		}
		if try == 1 {
			return fmt.Errorf("peer: %s does not resume downloads consistently; giving up", base)
		}
		removePartial(partial)
	}
}

// Judge says how many bytes the archive whose manifest and signature
// these are may have, or refuses it.
type Judge func(manifest, sig []byte) (int64, error)

func removePartial(partial string) {
	os.Remove(partial)
	os.Remove(partial + ".etag")
}

// maxHead is how many bytes may arrive before the archive's manifest and
// signature have: a deflated manifest of the largest size, and headers.
var maxHead = content.DefaultLimits.MaxManifest + content.DefaultLimits.MaxManifest/1000 + 64<<10

func (c *Client) download(ctx context.Context, base, id, partial string, judge Judge, progress func(Progress)) error {
	maxSize := c.MaxArchive
	if maxSize <= 0 {
		maxSize = content.DefaultLimits.MaxArchive
	}
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	have := st.Size()
	etag := readETag(partial)
	if etag == "" {
		have = 0
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("peer: %s sent nothing for %s; the download stopped and will resume from here next time", base, c.stall())
	watchdog := time.AfterFunc(c.stall(), func() { cancel(stalled) })
	defer watchdog.Stop()

	req, err := http.NewRequestWithContext(ctx, "GET", ArchiveURL(base, id), nil)
	if err != nil {
		return err
	}
	c.header(req)
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		req.Header.Set("If-Range", etag)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause == stalled {
			return stalled
		}
		return fmt.Errorf("peer: %s: %w", base, err)
	}
	defer resp.Body.Close()

	total := int64(-1)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, end, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have || end != size-1 || resp.Header.Get("ETag") != etag {
			return errRestart
		}
		total = size
	case http.StatusOK:
		have = 0
		etag = resp.Header.Get("ETag")
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		if err := writeETag(partial, etag); err != nil {
			return err
		}
		total = resp.ContentLength
	case http.StatusRequestedRangeNotSatisfiable:
		// An earlier try got every byte but stopped before installing.
		size, err := strconv.ParseInt(strings.TrimPrefix(resp.Header.Get("Content-Range"), "bytes */"), 10, 64)
		if err != nil || size != have || resp.Header.Get("ETag") != etag {
			return errRestart
		}
		total = size
		resp.Body = http.NoBody
	case http.StatusNotFound:
		return failure.Errorf(failure.NotFound, "peer: %s has no pack %s", base, id)
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return failure.Errorf(failure.Unavailable, "peer: %s is busy; try again in a minute", base)
	default:
		return fmt.Errorf("peer: %s: downloading %s: %s", base, id, resp.Status)
	}
	if total > maxSize {
		return failure.Errorf(failure.TooLarge, "peer: %s offers %s as %d bytes, more than the %d this box accepts", base, id, total, maxSize)
	}
	// bound is what the archive may have: the box's limit until its
	// manifest has arrived, then the size that manifest declares.
	bound, judged := maxSize, judge == nil
	check := func() error {
		if !judged {
			m, sig, err := content.ReadArchiveHead(io.NewSectionReader(f, 0, have), content.DefaultLimits.MaxManifest)
			switch {
			case errors.Is(err, content.ErrShortHead) && have <= maxHead:
				return nil // not all there yet
			case errors.Is(err, content.ErrShortHead):
				return failure.Errorf(failure.Invalid, "peer: %s sent %d bytes for %s without a pack manifest; refused", base, have, id)
			case err != nil:
				return fmt.Errorf("peer: %s sent no pack %s: %w", base, id, err)
			}
			b, err := judge(m, sig)
			if err != nil {
				return err
			}
			bound, judged = min(b, maxSize), true
		}
		if total > bound || have > bound {
			return failure.Errorf(failure.TooLarge, "peer: %s sends %s as more bytes than its manifest declares (at most %d); refused", base, id, bound)
		}
		return nil
	}
	if err := check(); err != nil {
		return err
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	resumed := have
	buf := make([]byte, 64<<10)
	for {
		// Never read more than one byte past what the archive may have.
		p := buf
		if rest := bound + 1 - have; int64(len(p)) > rest {
			p = p[:max(rest, 1)]
		}
		n, rerr := resp.Body.Read(p)
		if n > 0 {
			watchdog.Reset(c.stall())
			if total >= 0 && have+int64(n) > total {
				return failure.Errorf(failure.TooLarge, "peer: %s sent more bytes than it announced for %s", base, id)
			}
			if have+int64(n) > bound {
				return failure.Errorf(failure.TooLarge, "peer: %s sent more bytes for %s than its manifest declares (at most %d); refused", base, id, bound)
			}
			if _, err := f.Write(p[:n]); err != nil {
				return fmt.Errorf("peer: %w", err)
			}
			have += int64(n)
			if err := check(); err != nil {
				return err
			}
			if progress != nil {
				progress(Progress{Done: have, Total: total, Resumed: resumed})
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if cause := context.Cause(ctx); cause == stalled {
				return stalled
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("peer: %s: the download broke off at %d bytes (it resumes from there next time): %w", base, have, rerr)
		}
	}
	if total >= 0 && have != total {
		return fmt.Errorf("peer: %s: the download ended at %d of %d bytes (it resumes from there next time)", base, have, total)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	if want := strings.Trim(etag, `"`); len(want) == 64 {
		got, err := fileSHA256(f)
		if err != nil {
			return err
		}
		if got != want {
			return failure.Errorf(failure.Invalid, "peer: the archive from %s does not match the hash it announced (damaged in transfer?); the next try starts over", base)
		}
	}
	return nil
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(s string) (start, end, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	size, err3 = strconv.ParseInt(sz, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || end < start || size <= end {
		return 0, 0, 0, false
	}
	return start, end, size, true
}

func readETag(partial string) string {
	b, err := os.ReadFile(partial + ".etag")
	if err != nil || len(b) > 200 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func writeETag(partial, etag string) error {
	if etag == "" {
		os.Remove(partial + ".etag")
		return nil
	}
	if err := os.WriteFile(partial+".etag", []byte(etag+"\n"), 0o644); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	return nil
}
