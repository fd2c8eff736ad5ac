package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// hubClient speaks to the hub for one sync, counting the bytes.
type hubClient struct {
	http       *http.Client
	base       string
	credential string
	userAgent  string
	timeout    time.Duration // bounds each small request whole; 0: DefaultRequestTimeout
	sent       int64         // request bodies
	received   int64         // response bodies
}

// hubError is an error answer from the hub.
type hubError struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration
	divergedAt int64           // a batch's: the first seq at which the hub holds another event (wire.ErrorBody)
	held       *wire.HeldEvent // a batch's: an event the hub holds in another epoch
}

func (e *hubError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("the hub answered %d %s", e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("the hub refused (%d): %s", e.status, e.msg)
}

func (s *Syncer) client(link store.UpstreamLink) (*hubClient, error) {
	if _, err := wire.ParseCredential(link.Credential); err != nil {
		return nil, fmt.Errorf("upstream: the stored credential is damaged; enroll the box again")
	}
	base, err := hubBase(link.HubURL)
	if err != nil {
		return nil, err
	}
	return &hubClient{http: s.cfg.Client, base: base, credential: link.Credential, userAgent: "stembox/" + s.cfg.Version, timeout: s.cfg.RequestTimeout}, nil
}

// hubBase checks a hub URL and returns it without a trailing slash.
func hubBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("upstream: the hub address %q is not an http:// or https:// URL", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func (c *hubClient) request(ctx context.Context, method, path string, body []byte, header map[string]string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	if c.credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}
	req.Header.Set("User-Agent", c.userAgent)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req, nil
}

// do sends a request and returns the response if it is a success; else a
// *hubError (with the hub's message) or a transport error. The caller
// closes the body.
func (c *hubClient) do(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upstream: %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	c.received += int64(len(b))
	he := &hubError{status: resp.StatusCode}
	var eb wire.ErrorBody
	if json.Unmarshal(b, &eb) == nil {
		he.code, he.msg, he.divergedAt, he.held = eb.Code, eb.Error, eb.DivergedAt, eb.Held
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra > 0 {
		he.retryAfter = time.Duration(ra) * time.Second
	}
	return nil, he
}

// bounded bounds a request with a small answer that sends body:
// c.timeout, plus a second for each KiB sent (see DefaultRequestTimeout).
// Downloads have their own stall watchdog instead.
func (c *hubClient) bounded(ctx context.Context, body []byte) (context.Context, context.CancelFunc) {
	d := c.timeout
	if d <= 0 {
		d = DefaultRequestTimeout
	}
	return context.WithTimeout(ctx, d+time.Duration(len(body)>>10)*time.Second)
}

// send sends a request with a small answer, bounded whole (see bounded),
// and returns the successful answer; the caller closes its body, then
// calls cancel.
func (c *hubClient) send(ctx context.Context, method, path string, body []byte, header map[string]string) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := c.bounded(ctx, body)
	req, err := c.request(ctx, method, path, body, header)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	c.sent += int64(len(body))
	resp, err := c.do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return resp, cancel, nil
}

// json sends a request and decodes a JSON answer into out.
func (c *hubClient) json(ctx context.Context, method, path string, body []byte, header map[string]string, out any) error {
	resp, cancel, err := c.send(ctx, method, path, body, header)
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	c.received += int64(len(b))
	if err != nil {
		return fmt.Errorf("upstream: %s: %w", path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("upstream: %s: the hub's answer is not the JSON expected: %w", path, err)
	}
	return nil
}

// bytes fetches a small body (a manifest, a signature).
func (c *hubClient) bytes(ctx context.Context, path string, max int64) ([]byte, error) {
	ctx, cancel := c.bounded(ctx, nil)
	defer cancel()
	req, err := c.request(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	c.received += int64(len(b))
	if err != nil {
		return nil, fmt.Errorf("upstream: %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("upstream: %s is larger than %d bytes", path, max)
	}
	return b, nil
}
