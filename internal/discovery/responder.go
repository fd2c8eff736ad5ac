package discovery

import (
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

const cacheFlush = 1 << 15 // the top bit of an mDNS record's class

// responder answers for the box's host name (stembox.local) with the
// addresses of the interface a query came in on, announces them when they
// change, and says goodbye to them when the box stops.
type responder struct {
	conn sender

	mu        sync.Mutex
	host      string               // fully qualified, lower case; "" until claimed
	ifs       map[int][]netip.Addr // chosen interfaces and their addresses
	announced map[int][]netip.Addr // what others may have cached, for goodbyes
}

// sender sends mDNS messages: an mdnsConn, or a fake in tests.
type sender interface {
	multicast(msg *dns.Msg, ifIndex int) error
	unicast(msg *dns.Msg, to netip.AddrPort, ifIndex int) error
}

func newResponder(conn sender) *responder {
	return &responder{conn: conn, ifs: map[int][]netip.Addr{}, announced: map[int][]netip.Addr{}}
}

// claim starts answering for host, with these interfaces and addresses.
func (r *responder) claim(host string, ifs []Iface) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.host = strings.ToLower(hostFQDN(host))
	r.ifs = map[int][]netip.Addr{}
	for _, it := range ifs {
		r.ifs[it.Index] = slices.Clone(it.Addrs)
	}
}

func (r *responder) hostName() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.host
}

// records returns the host's address records on one interface.
func (r *responder) records(host string, addrs []netip.Addr, ttl uint32, flush bool) []dns.RR {
	class := uint16(dns.ClassINET)
	if flush {
		class |= cacheFlush
	}
	var out []dns.RR
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, &dns.A{Hdr: dns.RR_Header{Name: host, Rrtype: dns.TypeA, Class: class, Ttl: ttl}, A: a.AsSlice()})
		} else {
			out = append(out, &dns.AAAA{Hdr: dns.RR_Header{Name: host, Rrtype: dns.TypeAAAA, Class: class, Ttl: ttl}, AAAA: a.AsSlice()})
		}
	}
	return out
}

// answer replies to a query that asks for the host name's addresses.
func (r *responder) answer(q *dns.Msg, p packet) {
	r.mu.Lock()
	host := r.host
	addrs, ours := r.ifs[p.ifIndex]
	r.mu.Unlock()
	if host == "" || !ours || len(addrs) == 0 {
		return
	}
	want4, want6, unicast := false, false, false
	for _, question := range q.Question {
		if !strings.EqualFold(question.Name, host) {
			continue
		}
		if c := question.Qclass &^ cacheFlush; c != dns.ClassINET && c != dns.ClassANY {
			continue
		}
		switch question.Qtype {
		case dns.TypeA:
			want4 = true
		case dns.TypeAAAA:
			want6 = true
		case dns.TypeANY:
			want4, want6 = true, true
		default:
			continue
		}
		if question.Qclass&cacheFlush != 0 {
			unicast = true // the QU bit: the asker prefers a unicast reply
		}
	}
	if !want4 && !want6 {
		return
	}
	legacy := p.from.Port() != 5353 // a plain DNS resolver asking (RFC 6762 section 6.7)
	ttl := uint32(hostTTL)
	if legacy {
		ttl = 10
	}
	var answers, extra []dns.RR
	for _, rr := range r.records(host, addrs, ttl, !legacy) {
		is4 := rr.Header().Rrtype == dns.TypeA
		if known(q, rr) {
			continue // known-answer suppression (RFC 6762 section 7.1)
		}
		if is4 && want4 || !is4 && want6 {
			answers = append(answers, rr)
		} else {
			extra = append(extra, rr) // section 6.2: the other family too
		}
	}
	if len(answers) == 0 {
		return
	}
	resp := new(dns.Msg)
	resp.Response, resp.Authoritative = true, true
	resp.Answer, resp.Extra = answers, extra
	switch {
	case legacy:
		resp.Id = q.Id
		resp.Question = q.Question
		r.conn.unicast(resp, p.from, p.ifIndex)
	case unicast:
		r.conn.unicast(resp, p.from, p.ifIndex)
	default:
		r.conn.multicast(resp, p.ifIndex)
	}
}

// known says whether the query lists rr as an answer it already has, with at
// least half its TTL left.
func known(q *dns.Msg, rr dns.RR) bool {
	plain := dns.Copy(rr)
	plain.Header().Class &^= cacheFlush
	for _, k := range q.Answer {
		if k.Header().Rrtype != rr.Header().Rrtype || k.Header().Ttl < rr.Header().Ttl/2 {
			continue
		}
		k = dns.Copy(k)
		k.Header().Class &^= cacheFlush
		if dns.IsDuplicate(k, plain) {
			return true
		}
	}
	return false
}

// update sets the interfaces and addresses to answer with. It says goodbye
// to addresses that went away and announces the current ones on every
// interface whose addresses changed; the caller repeats announce a second
// later, as RFC 6762 section 8.3 asks.
func (r *responder) update(ifs []Iface) (changed []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := map[int][]netip.Addr{}
	for _, it := range ifs {
		now[it.Index] = slices.Clone(it.Addrs)
	}
	if r.host != "" {
		for idx, old := range r.announced {
			gone := slices.DeleteFunc(slices.Clone(old), func(a netip.Addr) bool { return slices.Contains(now[idx], a) })
			if len(gone) > 0 {
				r.send(idx, r.records(r.host, gone, 0, false))
			}
		}
		for idx := range r.announced {
			if _, ok := now[idx]; !ok {
				delete(r.announced, idx)
			}
		}
		for idx, addrs := range now {
			if !slices.Equal(addrs, r.announced[idx]) {
				changed = append(changed, idx)
			}
		}
	}
	r.ifs = now
	return changed
}

// announce sends the host's records, with the cache-flush bit, on the given
// interfaces (all when none are given).
func (r *responder) announce(indexes ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host == "" {
		return
	}
	if len(indexes) == 0 {
		for idx := range r.ifs {
			indexes = append(indexes, idx)
		}
	}
	for _, idx := range indexes {
		addrs, ok := r.ifs[idx]
		if !ok {
			continue
		}
		if len(addrs) > 0 {
			r.send(idx, r.records(r.host, addrs, hostTTL, true))
		}
		if len(addrs) == 0 {
			delete(r.announced, idx)
		} else {
			r.announced[idx] = slices.Clone(addrs)
		}
	}
}

// goodbye withdraws every address announced and stops answering.
func (r *responder) goodbye() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host != "" {
		for idx, addrs := range r.announced {
			r.send(idx, r.records(r.host, addrs, 0, false))
		}
	}
	r.announced = map[int][]netip.Addr{}
	r.host = ""
}

// send multicasts an unsolicited response. The caller holds r.mu.
func (r *responder) send(ifIndex int, rrs []dns.RR) {
	if len(rrs) == 0 {
		return
	}
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	m.Answer = rrs
	r.conn.multicast(m, ifIndex)
}

// foreign returns the addresses a response claims for the host name that
// are not this box's: another machine answers to the same name.
func (r *responder) foreign(msg *dns.Msg, host string) []netip.Addr {
	r.mu.Lock()
	mine := map[netip.Addr]bool{}
	for _, addrs := range r.ifs {
		for _, a := range addrs {
			mine[a] = true
		}
	}
	r.mu.Unlock()
	var out []netip.Addr
	for _, sec := range [][]dns.RR{msg.Answer, msg.Extra} {
		for _, rr := range sec {
			if rr.Header().Ttl == 0 || !strings.EqualFold(rr.Header().Name, host) {
				continue
			}
			var a netip.Addr
			switch rr := rr.(type) {
			case *dns.A:
				a, _ = netip.AddrFromSlice(rr.A)
			case *dns.AAAA:
				a, _ = netip.AddrFromSlice(rr.AAAA)
			default:
				continue
			}
			if a = a.Unmap(); a.IsValid() && !mine[a] {
				out = append(out, a)
			}
		}
	}
	return out
}
