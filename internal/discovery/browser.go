package discovery

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Box is another stembox found on the LAN.
type Box struct {
	Name    string       `json:"name"`
	Host    string       `json:"host"` // e.g. stembox.local
	Port    int          `json:"port"`
	Addrs   []netip.Addr `json:"addrs"`
	URLs    []string     `json:"urls"` // the host name's first, then by address
	ID      string       `json:"id"`
	Version string       `json:"version"`
	Proto   string       `json:"proto"`
	Path    string       `json:"path"`
}

// URL returns the box's best URL to connect to from a program: the first by
// address (a program may not resolve .local names), else the host name's.
func (b Box) URL() string {
	for _, u := range b.URLs {
		if !strings.Contains(u, ".local") {
			return u
		}
	}
	if len(b.URLs) > 0 {
		return b.URLs[0]
	}
	return ""
}

// How long records from a box that stopped answering are kept: the browser
// asks at least every maxQueryGap, so a box that missed three answers is
// gone (RFC 6762 section 10.5, "passive observation of failures"). A box
// switched off by a power cut sends no goodbye.
const (
	maxQueryGap = time.Minute
	staleAfter  = 3*maxQueryGap + 10*time.Second
	maxRecords  = 4096
)

type rrKey struct {
	name string // lower case
	typ  uint16
	data string
}

type cachedRR struct {
	rr      dns.RR
	expires time.Time
	seen    time.Time
}

// browser keeps the records other boxes announce and turns them into Boxes.
// It is a cache with the TTLs the records carry; a goodbye (TTL 0) removes
// a record at once.
type browser struct {
	now func() time.Time

	mu       sync.Mutex
	rrs      map[rrKey]*cachedRR
	lastSeen map[string]time.Time // instance name (lower case) → when it last answered
	// ids keeps, per instance name, the box ids its TXT records carried and
	// when: two boxes with one name overwrite each other's records in the
	// cache (cache-flush), but both ids stay here, to settle the conflict.
	ids map[string]map[string]time.Time
}

func newBrowser(now func() time.Time) *browser {
	return &browser{now: now, rrs: map[rrKey]*cachedRR{}, lastSeen: map[string]time.Time{}, ids: map[string]map[string]time.Time{}}
}

var stemboxPTR = strings.ToLower(serviceFQDN(ServiceType))

// observe records what a response says. It returns false when the cache
// is full and records were dropped.
func (b *browser) observe(msg *dns.Msg) bool {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	ok := true
	for _, sec := range [][]dns.RR{msg.Answer, msg.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			name := strings.ToLower(h.Name)
			var data string
			switch rr := rr.(type) {
			case *dns.PTR:
				if name != stemboxPTR {
					continue
				}
				data = strings.ToLower(rr.Ptr)
				b.touch(data, now)
			case *dns.SRV:
				if !strings.HasSuffix(name, "."+stemboxPTR) {
					continue
				}
				data = strings.ToLower(rr.Target) + " " + strconv.Itoa(int(rr.Port))
				b.touch(name, now)
			case *dns.TXT:
				if !strings.HasSuffix(name, "."+stemboxPTR) {
					continue
				}
				data = strings.Join(rr.Txt, "\x00")
				b.touch(name, now)
				b.noteID(name, rr, now)
			case *dns.A:
				if !strings.HasSuffix(name, ".local.") {
					continue
				}
				data = rr.A.String()
			case *dns.AAAA:
				if !strings.HasSuffix(name, ".local.") {
					continue
				}
				data = rr.AAAA.String()
			default:
				continue
			}
			key := rrKey{name: name, typ: h.Rrtype, data: data}
			if h.Ttl == 0 {
				delete(b.rrs, key)
				continue
			}
			if h.Class&(1<<15) != 0 {
				// Cache flush (RFC 6762 section 10.2): other records of this
				// name and type that are older than a second go.
				for k, c := range b.rrs {
					if k.name == name && k.typ == h.Rrtype && k != key && now.Sub(c.seen) > time.Second {
						delete(b.rrs, k)
					}
				}
			}
			if _, exists := b.rrs[key]; !exists && len(b.rrs) >= maxRecords {
				b.expire(now)
				if len(b.rrs) >= maxRecords {
					ok = false
					continue
				}
			}
			b.rrs[key] = &cachedRR{rr: dns.Copy(rr), expires: now.Add(time.Duration(h.Ttl) * time.Second), seen: now}
		}
	}
	return ok
}

// noteID remembers which box id an instance's TXT record carries; a
// goodbye forgets it. The caller holds b.mu.
func (b *browser) noteID(instance string, rr *dns.TXT, now time.Time) {
	info, err := ParseTXT(rr.Txt)
	if err != nil {
		return
	}
	if rr.Hdr.Ttl == 0 {
		delete(b.ids[instance], info.ID)
		return
	}
	if b.ids[instance] == nil {
		if len(b.ids) >= maxBoxes {
			return
		}
		b.ids[instance] = map[string]time.Time{}
	}
	if m := b.ids[instance]; len(m) < 8 {
		m[info.ID] = now
	}
}

// idsNamed returns the box ids seen recently under an instance name.
func (b *browser) idsNamed(instance string) []string {
	key := strings.ToLower(instance)
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for id, seen := range b.ids[key] {
		if b.now().Sub(seen) <= staleAfter {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (b *browser) touch(instance string, now time.Time) {
	if _, ok := b.lastSeen[instance]; ok || len(b.lastSeen) < maxRecords {
		b.lastSeen[instance] = now
	}
}

// expire drops records past their TTL and instances that stopped
// answering. The caller holds b.mu.
func (b *browser) expire(now time.Time) {
	for k, c := range b.rrs {
		if now.After(c.expires) {
			delete(b.rrs, k)
		}
	}
	for inst, m := range b.ids {
		for id, seen := range m {
			if now.Sub(seen) > staleAfter {
				delete(m, id)
			}
		}
		if len(m) == 0 {
			delete(b.ids, inst)
		}
	}
	for inst, seen := range b.lastSeen {
		if now.Sub(seen) > staleAfter {
			delete(b.lastSeen, inst)
			for k := range b.rrs {
				if k.name == inst || k.typ == dns.TypePTR && k.data == inst {
					delete(b.rrs, k)
				}
			}
		}
	}
}

// candidate is an instance as far as the records tell, before checks.
type candidate struct {
	box  Box
	txt  []string
	addr bool
}

// boxes returns the boxes the records describe completely (a PTR, its SRV
// and TXT, and an address for the SRV's host), sorted by name. bad gets
// the instances whose TXT record is not a box's, with the reason.
func (b *browser) boxes(bad func(instance string, err error)) []Box {
	now := b.now()
	b.mu.Lock()
	b.expire(now)
	type instance struct{ key, name string } // lower case; as announced
	var instances []instance
	srvs := map[string]*dns.SRV{}
	txts := map[string][]string{}
	addrs := map[string][]netip.Addr{}
	for k, c := range b.rrs {
		switch rr := c.rr.(type) {
		case *dns.PTR:
			instances = append(instances, instance{k.data, rr.Ptr})
		case *dns.SRV:
			srvs[k.name] = rr
		case *dns.TXT:
			txts[k.name] = rr.Txt
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A); ok {
				addrs[k.name] = append(addrs[k.name], a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA); ok {
				addrs[k.name] = append(addrs[k.name], a)
			}
		}
	}
	b.mu.Unlock()

	var out []Box
	for _, inst := range instances {
		srv, txt := srvs[inst.key], txts[inst.key]
		if srv == nil || txt == nil {
			continue
		}
		label, rest, ok := splitFirstLabel(inst.name)
		if !ok || strings.ToLower(rest) != stemboxPTR {
			continue
		}
		info, err := ParseTXT(txt)
		if err != nil {
			if bad != nil {
				bad(label, err)
			}
			continue
		}
		host := strings.ToLower(srv.Target)
		as := addrs[host]
		if len(as) == 0 {
			continue
		}
		slices.SortFunc(as, func(x, y netip.Addr) int { return x.Compare(y) })
		as = slices.Compact(as)
		box := Box{Name: label, Host: strings.TrimSuffix(host, "."), Port: int(srv.Port), Addrs: as,
			ID: info.ID, Version: info.Version, Proto: info.Proto, Path: info.Path}
		box.URLs = boxURLs(box)
		out = append(out, box)
	}
	slices.SortFunc(out, func(x, y Box) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// hostsMissingAddrs returns the SRV targets that have no address yet, to ask
// for them.
func (b *browser) hostsMissingAddrs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	has := map[string]bool{}
	for k := range b.rrs {
		if k.typ == dns.TypeA || k.typ == dns.TypeAAAA {
			has[k.name] = true
		}
	}
	var out []string
	for _, c := range b.rrs {
		if srv, ok := c.rr.(*dns.SRV); ok {
			host := strings.ToLower(srv.Target)
			if !has[host] && !slices.Contains(out, host) {
				out = append(out, host)
			}
		}
	}
	return out
}

// hostClaims returns the addresses records say a host name has.
func (b *browser) hostClaims(host string) []netip.Addr {
	host = strings.ToLower(host)
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []netip.Addr
	for k, c := range b.rrs {
		if k.name != host {
			continue
		}
		switch rr := c.rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A); ok {
				out = append(out, a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// boxURLs lists the URLs of a found box: by host name, then by each
// address a browser can open (not link-local IPv6, which needs a zone).
func boxURLs(b Box) []string {
	path := b.Path
	if path == "" {
		path = "/"
	}
	port := ""
	if b.Port != 80 {
		port = ":" + strconv.Itoa(b.Port)
	}
	out := []string{"http://" + b.Host + port + path}
	for _, a := range b.Addrs {
		switch {
		case a.Is4():
			out = append(out, "http://"+a.String()+port+path)
		case !a.IsLinkLocalUnicast():
			out = append(out, "http://["+a.String()+"]"+port+path)
		}
	}
	return out
}
