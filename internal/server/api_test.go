package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/server"
)

func newRequest(method, url, form string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(form))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, err
}

func TestAPIAnswer(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	id := "01JDV9Z8M6Q0S4C9X3K7T2B5NA"
	r := d.postJSON("/api/v1/answers", `{"id":"`+id+`","pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`)
	wantStatus(t, r, 200)
	var v struct {
		ID       string
		Seq      int64
		Correct  bool
		Score    float64
		Feedback []string
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatal(err)
	}
	if v.ID != id || v.Seq != 1 || !v.Correct || v.Score != 1 {
		t.Errorf("verdict = %+v, want answer %s correct at seq 1", v, id)
	}
	// A resend after a dropped connection is applied once.
	r = d.postJSON("/api/v1/answers", `{"id":"`+id+`","pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`)
	wantStatus(t, r, 200)
	json.Unmarshal([]byte(r.body), &v)
	if v.Seq != 1 || lastSeq(t, box) != 1 {
		t.Errorf("resend got seq %d and the box has %d events; want the first answer, once", v.Seq, lastSeq(t, box))
	}
}

func TestAPIErrors(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	for _, tc := range []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"malformed", `{"pack": "mini",`, 400, "invalid", "malformed JSON"},
		{"unknown field", `{"pack":"mini","set":"speed","item":"num-4","text":"5","answer":"5"}`, 400, "invalid", "unknown field"},
		{"bad id", `{"id":"123","pack":"mini","set":"speed","item":"num-4","text":"5"}`, 400, "invalid", "not a ULID"},
		{"no pack", `{"pack":"nope","set":"speed","item":"num-4","text":"5"}`, 404, "not_found", "No pack nope"},
		{"no item", `{"pack":"mini","set":"speed","item":"nope","text":"5"}`, 404, "not_found", "no exercise nope"},
		{"not a number", `{"pack":"mini","set":"speed","item":"num-4","text":"five"}`, 400, "invalid", "Type a number"},
		{"too large", `{"pack":"mini","set":"speed","item":"num-4","text":"` + strings.Repeat("5", 70000) + `"}`, 413, "too_large", "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := d.postJSON("/api/v1/answers", tc.body)
			var e struct{ Error, Code string }
			if err := json.Unmarshal([]byte(r.body), &e); err != nil {
				t.Fatalf("error body is not JSON: %q", r.body)
			}
			if r.StatusCode != tc.status || e.Code != tc.code || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("status %d %+v; want %d, code %q, message with %q", r.StatusCode, e, tc.status, tc.code, tc.msg)
			}
		})
	}
	if got := lastSeq(t, box); got != 0 {
		t.Errorf("%d events stored from refused requests, want 0", got)
	}
}

func TestAPIPacksHasNoAnswers(t *testing.T) {
	box := mustRunServer(t)
	r := box.device(t, "en").get("/api/v1/packs")
	wantStatus(t, r, 200)
	wantContains(t, r, `"id":"mini"`, `"exercises":7`)
	wantLacks(t, r, "weight", "numbers", "texts")
}

// TestSlowBodyIsCutOff sends an answer's headers and the first bytes of its
// body, then stops: the box must give up after its body timeout rather than
// hold the connection, store nothing, and still take a whole answer sent
// at a normal pace.
func TestSlowBodyIsCutOff(t *testing.T) {
	box := mustRunServer(t)
	ts := httptest.NewServer(newServer(t, server.Config{BodyTimeout: 300 * time.Millisecond}, nil, box.db, box.lib))
	defer ts.Close()

	body := `{"pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/answers HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body after %s: %v", time.Since(start).Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if waited := time.Since(start); resp.StatusCode < 400 || waited > 5*time.Second {
		t.Errorf("stalled body: status %d after %s; want a refusal soon after the 300 ms timeout", resp.StatusCode, waited.Round(time.Millisecond))
	}
	if n := lastSeq(t, box); n != 0 {
		t.Errorf("%d events stored from a body that never arrived", n)
	}

	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/answers", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || lastSeq(t, box) != 1 {
		t.Errorf("a whole answer: status %d, %d events; want it stored", r.StatusCode, lastSeq(t, box))
	}
}
