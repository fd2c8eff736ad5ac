package discovery

import (
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/mitstem/stembox/internal/logtest"
)

type sent struct {
	msg     *dns.Msg
	to      netip.AddrPort // invalid for multicast
	ifIndex int
}

// fakeSender records what would have been sent.
type fakeSender struct {
	mu   sync.Mutex
	sent []sent
}

func (f *fakeSender) multicast(m *dns.Msg, ifIndex int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sent{msg: m.Copy(), ifIndex: ifIndex})
	return nil
}

func (f *fakeSender) unicast(m *dns.Msg, to netip.AddrPort, ifIndex int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sent{msg: m.Copy(), to: to, ifIndex: ifIndex})
	return nil
}

func (f *fakeSender) take() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

var testIfs = []Iface{
	{Index: 2, Name: "eth0", Up: true, Multicast: true, Addrs: addrs("192.0.2.1", "2001:db8::1")},
	{Index: 3, Name: "wlan0", Up: true, Multicast: true, Addrs: addrs("198.51.100.1")},
}

func query(name string, qtype uint16, qu bool) *dns.Msg {
	m := new(dns.Msg)
	q := dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}
	if qu {
		q.Qclass |= cacheFlush
	}
	m.Question = []dns.Question{q}
	return m
}

var peerAddr = netip.MustParseAddrPort("192.0.2.3:5353")

func records(rrs []dns.RR) string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return strings.Join(out, "\n")
}

func TestResponderAnswers(t *testing.T) {
	f := &fakeSender{}
	r := newResponder(f)
	r.answer(query("stembox.local.", dns.TypeA, false), packet{from: peerAddr, ifIndex: 2})
	if s := f.take(); len(s) != 0 {
		t.Fatalf("answered before claiming the name: %v", s[0].msg)
	}
	r.claim("stembox", testIfs)

	r.answer(query("StemBox.Local.", dns.TypeA, false), packet{from: peerAddr, ifIndex: 2})
	s := f.take()
	if len(s) != 1 || s[0].to.IsValid() || s[0].ifIndex != 2 {
		t.Fatalf("want one multicast reply on interface 2, got %+v", s)
	}
	m := s[0].msg
	if !m.Response || !m.Authoritative || len(m.Question) != 0 {
		t.Errorf("reply header: response %v, authoritative %v, %d questions", m.Response, m.Authoritative, len(m.Question))
	}
	want := "stembox.local.\t120\tCLASS32769\tA\t192.0.2.1"
	if got := records(m.Answer); got != want {
		t.Errorf("answer:\n%s\nwant\n%s", got, want)
	}
	if got := records(m.Extra); !strings.Contains(got, "AAAA\t2001:db8::1") {
		t.Errorf("additional section lacks the AAAA record: %s", got)
	}

	// Each interface answers with its own addresses.
	r.answer(query("stembox.local.", dns.TypeANY, false), packet{from: netip.MustParseAddrPort("198.51.100.9:5353"), ifIndex: 3})
	if s := f.take(); len(s) != 1 || records(s[0].msg.Answer) != "stembox.local.\t120\tCLASS32769\tA\t198.51.100.1" {
		t.Errorf("wlan0 answer: %+v", s)
	}

	// Not ours: another name, another type, an interface not chosen.
	r.answer(query("other.local.", dns.TypeA, false), packet{from: peerAddr, ifIndex: 2})
	r.answer(query("stembox.local.", dns.TypeTXT, false), packet{from: peerAddr, ifIndex: 2})
	r.answer(query("stembox.local.", dns.TypeA, false), packet{from: peerAddr, ifIndex: 9})
	if s := f.take(); len(s) != 0 {
		t.Errorf("answered what is not ours: %v", s[0].msg)
	}

	// The QU bit asks for a unicast reply.
	r.answer(query("stembox.local.", dns.TypeA, true), packet{from: peerAddr, ifIndex: 2})
	if s := f.take(); len(s) != 1 || s[0].to != peerAddr {
		t.Errorf("QU query: %+v", s)
	}

	// A plain resolver asking from another port gets a unicast DNS reply
	// with its id and question, short TTLs and no cache-flush bit.
	legacy := netip.MustParseAddrPort("192.0.2.3:40000")
	q := query("stembox.local.", dns.TypeA, false)
	q.Id = 4242
	r.answer(q, packet{from: legacy, ifIndex: 2})
	s = f.take()
	if len(s) != 1 || s[0].to != legacy {
		t.Fatalf("legacy query: %+v", s)
	}
	if m := s[0].msg; m.Id != 4242 || len(m.Question) != 1 || records(m.Answer) != "stembox.local.\t10\tIN\tA\t192.0.2.1" {
		t.Errorf("legacy reply: id %d, question %v, answer %s", m.Id, m.Question, records(m.Answer))
	}

	// Known-answer suppression: the asker has the record already.
	q = query("stembox.local.", dns.TypeA, false)
	q.Answer = rrs(t, "stembox.local. 100 IN A 192.0.2.1")
	r.answer(q, packet{from: peerAddr, ifIndex: 2})
	if s := f.take(); len(s) != 0 {
		t.Errorf("answered a known answer: %v", s[0].msg)
	}
}

func TestResponderAnnouncesChangesAndSaysGoodbye(t *testing.T) {
	f := &fakeSender{}
	r := newResponder(f)
	r.claim("stembox", testIfs)
	r.announce()
	if s := f.take(); len(s) != 2 {
		t.Fatalf("announced on %d interfaces, want 2", len(s))
	}

	moved := []Iface{testIfs[0], testIfs[1]}
	moved[0].Addrs = addrs("192.0.2.1", "192.0.2.11", "2001:db8::1") // an address added
	moved[1].Addrs = nil                                             // wlan0 lost its address
	changed := r.update(moved)
	s := f.take()
	if len(s) != 1 || s[0].ifIndex != 3 || records(s[0].msg.Answer) != "stembox.local.\t0\tIN\tA\t198.51.100.1" {
		t.Errorf("goodbye for the lost address: %+v", s)
	}
	if len(changed) != 2 {
		t.Errorf("changed interfaces = %v, want both", changed)
	}
	r.announce(changed...)
	s = f.take()
	if len(s) != 1 || s[0].ifIndex != 2 || !strings.Contains(records(s[0].msg.Answer), "A\t192.0.2.11") {
		t.Errorf("announcement of the new address: %+v", s)
	}

	r.goodbye()
	s = f.take()
	if len(s) != 1 {
		t.Fatalf("goodbye: %d messages, want 1 (wlan0 has nothing to withdraw)", len(s))
	}
	for _, rr := range s[0].msg.Answer {
		if rr.Header().Ttl != 0 {
			t.Errorf("goodbye record with TTL %d: %v", rr.Header().Ttl, rr)
		}
	}
	r.answer(query("stembox.local.", dns.TypeA, false), packet{from: peerAddr, ifIndex: 2})
	if s := f.take(); len(s) != 0 {
		t.Error("answered after saying goodbye")
	}
}

func TestResponderSeesForeignClaims(t *testing.T) {
	r := newResponder(&fakeSender{})
	r.claim("stembox", testIfs)
	m := new(dns.Msg)
	m.Response = true
	m.Answer = rrs(t, "stembox.local. 120 IN A 192.0.2.1", "stembox.local. 120 IN A 192.0.2.99", "stembox.local. 0 IN A 192.0.2.98", "other.local. 120 IN A 192.0.2.97")
	if got := r.foreign(m, "stembox.local."); len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.99") {
		t.Errorf("foreign = %v, want only 192.0.2.99", got)
	}
}

// Nothing a neighbour sends may crash the box: malformed packets, records
// of the wrong shape, floods. Each kind of trouble is logged once.
func TestEngineSurvivesBadPackets(t *testing.T) {
	logs := &logtest.Buffer{}
	f := &fakeSender{}
	e := &engine{
		conn: &mdnsConn{joined: map[int]Iface{2: testIfs[0]}},
		br:   newBrowser(newFakeClock().now),
		resp: newResponder(f),
		log:  newOnceLog(slog.New(slog.NewTextHandler(logs, nil))),
	}
	e.resp.claim("stembox", testIfs[:1])

	good := query("_stembox._tcp.local.", dns.TypePTR, false)
	goodBytes, _ := good.Pack()
	var bad [][]byte
	bad = append(bad, nil, []byte{0}, goodBytes[:7], append(append([]byte{}, goodBytes...), 0xff))
	// A name whose compression pointer points at itself.
	loop := []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}
	bad = append(bad, loop)
	// A known answer that is a PTR with no data (crashed zeroconf's
	// responder with old miekg/dns).
	kas := query("_stembox._tcp.local.", dns.TypePTR, false)
	kas.Answer = []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: "_stembox._tcp.local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 120}}}
	kb, _ := kas.Pack()
	bad = append(bad, kb)
	// Random bytes, and random mutations of good packets.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := rng.IntN(600)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		bad = append(bad, b)
		m := append([]byte{}, goodBytes...)
		m[rng.IntN(len(m))] = byte(rng.Uint32())
		bad = append(bad, m)
	}
	for i, b := range bad {
		from := peerAddr
		if i%2 == 1 {
			from = netip.MustParseAddrPort("192.0.2.4:5353")
		}
		e.handle(packet{data: b, from: from, ifIndex: 2})
	}
	if n := strings.Count(logs.String(), "malformed mDNS packet"); n != 2 {
		t.Errorf("logged %d malformed packets, want one for each of the 2 senders:\n%s", n, logs.String())
	}
	// The engine still answers.
	f.take()
	e.handle(packet{data: mustPack(t, query("stembox.local.", dns.TypeA, false)), from: peerAddr, ifIndex: 2})
	if s := f.take(); len(s) != 1 {
		t.Errorf("after the bad packets, a good query got %d replies, want 1", len(s))
	}
}

func mustPack(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
