package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/server"
)

// getAs is a GET with the Host header a browser sends when it opened the
// box by that name.
func (d *device) getAs(host, path string) response {
	d.tb.Helper()
	req, _ := http.NewRequest("GET", d.box.URL+path, nil)
	req.Host = host
	// The jar matches cookies to the Host header; the box set them for
	// the test server's address.
	for _, c := range d.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	return d.do(req)
}

// A teacher who opened the box as stembox.local gets a projector link and
// QR code by IP address, which every phone opens, with the .local link as a
// second line; opened by IP, the page shows that IP only.
func TestJoinLinksUseTheBoxsIP(t *testing.T) {
	reach := discovery.Reach{Name: "Room 5", Host: "stembox.local", Port: 8080, Best: "http://192.0.2.7:8080/", URLs: []discovery.URL{
		{URL: "http://stembox.local:8080/", Kind: "name"},
		{URL: "http://192.0.2.7:8080/", Kind: "ipv4"},
	}}
	box := mustRunLiveServerWith(t, server.WithLAN(server.LAN{Reach: func() discovery.Reach { return reach }}))
	teacher := box.teacher(t, "en")
	code := createLive(t, teacher, adhocForm())

	screen := teacher.getAs("stembox.local:8080", "/live/"+code+"/screen")
	wantStatus(t, screen, 200)
	ip, name := "http://192.0.2.7:8080/live/"+code, "http://stembox.local:8080/live/"+code
	wantContains(t, screen, `<p class="live-url"><a href="`+ip+`">`, `where names work: <a href="`+name+`">`)
	control := teacher.getAs("stembox.local:8080", "/live/"+code+"/control")
	wantContains(t, control, `class="live-join-url" href="`+ip+`"`, `href="`+name+`"`, `value="http://192.0.2.7:8080/live/`+code+`/control?k=`)
	qr := teacher.getAs("stembox.local:8080", "/live/"+code+"/qr.svg")
	want, err := discovery.NewQR(ip)
	if err != nil {
		t.Fatal(err)
	}
	if qr.body != want.SVG(ip) {
		t.Errorf("the QR code is not of %s", ip)
	}

	byIP := teacher.getAs("10.1.2.3:8080", "/live/"+code+"/screen")
	wantContains(t, byIP, `<a href="http://10.1.2.3:8080/live/`+code+`">`)
	wantLacks(t, byIP, "where names work", "stembox.local")
}

// Class codes are read as students type them, as live codes are: a
// Russian or Tajik keyboard's look-alike letters, case and spaces.
func TestClassCodeWithCyrillicLookalikes(t *testing.T) {
	s := mustSchool(t)
	ctx := context.Background()
	var c = s.classA
	for {
		if c.Code != "" && hasCyrillicTwin(c.Code) {
			break
		}
		var err error
		if c, err = s.db.CreateClass(ctx, "", "7C", 7, s.teacherA.ID); err != nil {
			t.Fatal(err)
		}
	}
	cy := []rune(cyrillic(c.Code))
	typed := " " + string(cy[:3]) + " " + string(cy[3:]) + " "
	d := s.device(t, "ru")
	r := d.get("/student?code=" + url.QueryEscape(typed))
	wantStatus(t, r, 303)
	if got := r.Header.Get("Location"); got != "/student/"+c.Code {
		t.Errorf("code %q goes to %s, want /student/%s", typed, got, c.Code)
	}
	wantStatus(t, d.get("/student/"+url.PathEscape(cyrillic(c.Code))), 200)
}

var twins = map[rune]string{'A': "а", 'C': "с", 'E': "Е", 'H': "н", 'K': "К", 'M': "м", 'P': "р", 'T': "Т", 'X': "х", 'Y': "у"}

func hasCyrillicTwin(code string) bool {
	for _, r := range code {
		if _, ok := twins[r]; ok {
			return true
		}
	}
	return false
}

// cyrillic types code as on a Cyrillic keyboard, in mixed case.
func cyrillic(code string) string {
	out := ""
	for _, r := range code {
		if c, ok := twins[r]; ok {
			out += c
		} else {
			out += string(r)
		}
	}
	return out
}
