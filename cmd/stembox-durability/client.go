package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/learn"
)

// target is an exercise item and an answer its grader accepts.
type target struct {
	Pack    string `json:"pack"`
	Set     string `json:"set"`
	Item    string `json:"item"`
	Choices []int  `json:"choices,omitempty"`
	Text    string `json:"text,omitempty"`
}

// findTargets lists every item of the packs installed in a data directory
// (read while no box runs on it) with an answer that grades.
func findTargets(dataDir string) ([]target, error) {
	lib, err := box.OpenLibrary(dataDir, nil)
	if err != nil {
		return nil, err
	}
	var out []target
	for _, p := range lib.Packs() {
		for setID, set := range p.Sets {
			for _, it := range set.Items {
				t := target{Pack: p.Manifest.ID, Set: setID, Item: it.ID}
				switch it.Kind {
				case learn.Choice, learn.Multi:
					t.Choices = []int{0}
				case learn.TrueFalse:
					t.Text = "true"
				case learn.Numeric:
					t.Text = "1"
				default:
					t.Text = "x"
				}
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no exercise items installed in %s", dataDir)
	}
	return out, nil
}

// ack is an answer the server acknowledged.
type ack struct {
	ID  string
	Seq int64
}

// client is one device sending answers: its own cookie (learner) and
// keep-alive connection.
type client struct {
	http    *http.Client
	entropy io.Reader
	mu      sync.Mutex
	// pending is the answer whose request failed (the server died): it may
	// or may not be stored, and is resent with the same id.
	pending *answerReq
}

type answerReq struct {
	ID string `json:"id"`
	target
}

func newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{
		http:    &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}},
		entropy: ulid.Monotonic(rand.Reader, 0),
	}
}

func (c *client) newAnswer(t target) *answerReq {
	return &answerReq{ID: ulid.MustNew(ulid.Now(), c.entropy).String(), target: t}
}

var errRefused = errors.New("refused")

// send posts one answer. A transport error (the server died) returns an
// error wrapping nothing in particular; an HTTP error status wraps
// errRefused.
func (c *client) send(ctx context.Context, base string, a *answerReq) (ack, error) {
	body, _ := json.Marshal(a)
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/answers", bytes.NewReader(body))
	if err != nil {
		return ack{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return ack{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return ack{}, err // cut off mid-answer: not acknowledged
	}
	if resp.StatusCode != http.StatusOK {
		return ack{}, fmt.Errorf("%w: %s: %s", errRefused, resp.Status, bytes.TrimSpace(b))
	}
	var v struct {
		ID  string `json:"id"`
		Seq int64  `json:"seq"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID != a.ID || v.Seq <= 0 {
		return ack{}, fmt.Errorf("%w: odd verdict %s for %s", errRefused, b, a.ID)
	}
	return ack{ID: v.ID, Seq: v.Seq}, nil
}

// closeIdle drops the client's connections (after a server died).
func (c *client) closeIdle() { c.http.CloseIdleConnections() }
