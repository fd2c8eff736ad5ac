package hub

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a load balancer every request comes from the balancer's address.
// The hub counts sign-in and enrollment attempts by address, so with
// Config.TrustedProxies it takes the client's address from
// X-Forwarded-For when — and only when — the request came from one of
// those proxies: the nearest address in the header that is not itself a
// trusted proxy (a client can write anything at the start of the header;
// only what the trusted proxies appended counts).

// ParseProxies reads addresses and networks ("10.0.0.5", "10.0.0.0/24",
// "fd00::/8"), for Config.TrustedProxies.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("hub: trusted proxy %q is not an address or a network (10.0.0.5, 10.0.0.0/24)", s)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out, nil
}

// trusted reports whether a is one of the trusted proxies.
func (h *Hub) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request came from: the connection's, or,
// from a trusted proxy, the one it forwarded for.
func (h *Hub) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(h.cfg.TrustedProxies) == 0 || !h.trusted(peer) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: trust nothing before it
		}
		client = a.Unmap()
		if !h.trusted(client) {
			break
		}
	}
	return client.String()
}
