package discovery

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)} }

// rrs parses records written as in a zone file.
func rrs(t *testing.T, text ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, s := range text {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		out = append(out, rr)
	}
	return out
}

// announcement is what a box's zeroconf server and responder send.
func announcement(t *testing.T, instance, host, id string, ttl int, addrs ...string) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	inst := escapeLabel(instance) + "._stembox._tcp.local."
	ts := func(n int) string { return " " + strconv.Itoa(n) + " " }
	m.Answer = rrs(t,
		"_stembox._tcp.local."+ts(ttl)+"IN PTR "+inst,
		inst+ts(ttl)+"IN SRV 0 0 8080 "+host+".local.",
		inst+ts(ttl)+`IN TXT "proto=1" "id=`+id+`" "version=v1.0.0" "path=/"`,
	)
	for _, a := range addrs {
		typ := "A"
		if strings.Contains(a, ":") {
			typ = "AAAA"
		}
		m.Extra = append(m.Extra, rrs(t, host+".local."+ts(ttl)+"IN "+typ+" "+a)...)
	}
	return m
}

func TestBrowserBuildsBoxes(t *testing.T) {
	clock := newFakeClock()
	b := newBrowser(clock.now)
	b.observe(announcement(t, "Room 5 (2)", "stembox-2", "01BBB", 120, "192.0.2.2", "fe80::2", "2001:db8::2"))
	b.observe(announcement(t, "Мактаби 7", "stembox", "01AAA", 120, "192.0.2.1"))
	got := b.boxes(nil)
	if len(got) != 2 {
		t.Fatalf("found %d boxes, want 2: %+v", len(got), got)
	}
	r5 := got[0]
	if r5.Name != "Room 5 (2)" || r5.Host != "stembox-2.local" || r5.Port != 8080 || r5.ID != "01BBB" || r5.Version != "v1.0.0" || r5.Proto != "1" {
		t.Errorf("box = %+v", r5)
	}
	wantURLs := []string{"http://stembox-2.local:8080/", "http://192.0.2.2:8080/", "http://[2001:db8::2]:8080/"}
	if !slices.Equal(r5.URLs, wantURLs) {
		t.Errorf("URLs = %q, want %q", r5.URLs, wantURLs)
	}
	if r5.URL() != "http://192.0.2.2:8080/" {
		t.Errorf("URL() = %q", r5.URL())
	}
	if got[1].Name != "Мактаби 7" {
		t.Errorf("a Cyrillic name came back as %q", got[1].Name)
	}
}

func TestBrowserForgets(t *testing.T) {
	clock := newFakeClock()
	b := newBrowser(clock.now)
	b.observe(announcement(t, "A", "box-a", "01AAA", 120, "192.0.2.1"))
	b.observe(announcement(t, "B", "box-b", "01BBB", 4500, "192.0.2.2"))
	b.observe(announcement(t, "C", "box-c", "01CCC", 4500, "192.0.2.3"))
	if n := len(b.boxes(nil)); n != 3 {
		t.Fatalf("%d boxes, want 3", n)
	}
	// B says goodbye: its records come again with TTL 0.
	b.observe(announcement(t, "B", "box-b", "01BBB", 0, "192.0.2.2"))
	if names := boxNames(b.boxes(nil)); names != "A C" {
		t.Errorf("after B's goodbye: %s, want A C", names)
	}
	// A's records run out after 120 s.
	clock.advance(121 * time.Second)
	b.observe(announcement(t, "C", "box-c", "01CCC", 4500, "192.0.2.3"))
	if names := boxNames(b.boxes(nil)); names != "C" {
		t.Errorf("after A's TTL: %s, want C", names)
	}
	// C was switched off without a goodbye (a power cut): it stops
	// answering, and is forgotten though its TTL is long.
	clock.advance(staleAfter + time.Second)
	if names := boxNames(b.boxes(nil)); names != "" {
		t.Errorf("after C stopped answering: %s, want none", names)
	}
}

func TestBrowserAddressChangeAndFlush(t *testing.T) {
	clock := newFakeClock()
	b := newBrowser(clock.now)
	b.observe(announcement(t, "A", "box-a", "01AAA", 120, "192.0.2.1"))
	clock.advance(5 * time.Second)
	// The box moved to another address and announces it with the
	// cache-flush bit: the old address goes.
	m := new(dns.Msg)
	m.Response = true
	a := rrs(t, "box-a.local. 120 IN A 192.0.2.11")[0]
	a.Header().Class |= cacheFlush
	m.Answer = []dns.RR{a}
	b.observe(m)
	got := b.boxes(nil)
	if len(got) != 1 || !slices.Equal(got[0].Addrs, addrs("192.0.2.11")) {
		t.Errorf("after the flush: %+v", got)
	}
}

func TestBrowserRefusesBadBoxes(t *testing.T) {
	b := newBrowser(newFakeClock().now)
	huge := announcement(t, "Huge", "box-h", "01HHH", 120, "192.0.2.7")
	txt := huge.Answer[2].(*dns.TXT)
	for i := 0; i < 40; i++ {
		txt.Txt = append(txt.Txt, "padding="+strings.Repeat("x", 200))
	}
	b.observe(huge)
	b.observe(announcement(t, "Good", "box-g", "01GGG", 120, "192.0.2.8"))
	noAddr := announcement(t, "No address", "box-n", "01NNN", 120)
	b.observe(noAddr)
	var bad []string
	got := b.boxes(func(instance string, err error) { bad = append(bad, instance+": "+err.Error()) })
	if names := boxNames(got); names != "Good" {
		t.Errorf("boxes = %s, want only Good", names)
	}
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "Huge: ") {
		t.Errorf("reported bad = %q, want the huge TXT", bad)
	}
	if hosts := b.hostsMissingAddrs(); !slices.Equal(hosts, []string{"box-n.local."}) {
		t.Errorf("hosts to ask for = %q, want box-n.local.", hosts)
	}
}

func TestBrowserCacheIsBounded(t *testing.T) {
	b := newBrowser(newFakeClock().now)
	m := new(dns.Msg)
	m.Response = true
	for i := 0; i < maxRecords+10; i++ {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "flood.local.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 120}, A: ip.AsSlice()})
	}
	if b.observe(m) {
		t.Error("observe took more records than the cache holds without saying so")
	}
	if n := len(b.rrs); n > maxRecords {
		t.Errorf("cache holds %d records, more than %d", n, maxRecords)
	}
}

func boxNames(bs []Box) string {
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	return strings.Join(names, " ")
}

// Two boxes announcing one name overwrite each other's records (the
// cache-flush bit), but both ids are kept, to settle the conflict.
func TestBrowserSeesTwoBoxesWithOneName(t *testing.T) {
	clock := newFakeClock()
	b := newBrowser(clock.now)
	flush := func(m *dns.Msg) *dns.Msg {
		for _, rr := range m.Answer {
			if rr.Header().Rrtype != dns.TypePTR {
				rr.Header().Class |= cacheFlush
			}
		}
		return m
	}
	b.observe(flush(announcement(t, "Lab", "lab", "01AAA", 120, "192.0.2.1")))
	clock.advance(2 * time.Second)
	b.observe(flush(announcement(t, "Lab", "lab-2", "01BBB", 120, "192.0.2.2")))
	if n := len(b.boxes(nil)); n != 1 {
		t.Errorf("%d boxes under one name, want the cache to hold one", n)
	}
	inst := instanceFQDN("Lab", ServiceType)
	if ids := b.idsNamed(inst); !slices.Equal(ids, []string{"01AAA", "01BBB"}) {
		t.Errorf("ids under Lab = %q, want both", ids)
	}
	b.observe(announcement(t, "Lab", "lab-2", "01BBB", 0, "192.0.2.2")) // B renamed: goodbye
	if ids := b.idsNamed(inst); !slices.Equal(ids, []string{"01AAA"}) {
		t.Errorf("after B's goodbye, ids under Lab = %q", ids)
	}
	clock.advance(staleAfter + time.Second)
	if ids := b.idsNamed(inst); len(ids) != 0 {
		t.Errorf("ids are kept after they went stale: %q", ids)
	}
}
