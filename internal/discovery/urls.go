package discovery

import (
	"net/netip"
	"slices"
	"strconv"
)

// URL is one address a device can open the box at.
type URL struct {
	URL  string `json:"url"`
	Kind string `json:"kind"` // "name" (host.local), "ipv4", "ipv6" or "local" (this computer only)
}

// Reach says how devices reach the box: its name, its URLs, and the one to
// put in a QR code.
type Reach struct {
	Name string `json:"name"`           // the instance name others see
	Host string `json:"host,omitempty"` // e.g. stembox.local; empty when mDNS is off
	Port int    `json:"port"`
	URLs []URL  `json:"urls"`
	Best string `json:"best"` // the URL for a QR code
}

// Listen describes what the web server listens on: the port, and the
// address when it is not a wildcard.
type Listen struct {
	IP   netip.Addr // invalid or unspecified: every address
	Port int
}

// reachable filters a box's interface addresses by what it listens on: all
// of them for a wildcard, only IPv4 for 0.0.0.0, only the one address
// otherwise.
func (l Listen) reachable(addrs []netip.Addr) []netip.Addr {
	switch {
	case !l.IP.IsValid() || l.IP == netip.IPv6Unspecified():
		return addrs
	case l.IP == netip.IPv4Unspecified():
		return slices.DeleteFunc(slices.Clone(addrs), func(a netip.Addr) bool { return !a.Is4() })
	}
	if slices.Contains(addrs, l.IP) {
		return []netip.Addr{l.IP}
	}
	return nil
}

// LoopbackOnly says whether the box listens only on a loopback address, so
// that no other device can reach it.
func (l Listen) LoopbackOnly() bool { return l.IP.IsValid() && l.IP.IsLoopback() }

// URLs lists the URLs a box is reached at, best first for devices: the
// host name (if mDNS answers for one), IPv4 addresses (which every device
// can use), IPv6 addresses that need no zone, then this computer's own. Link-
// local IPv6 addresses are left out (browsers cannot open them); link-local
// IPv4 ones come after the others. Best is the first IPv4 URL that is not
// link-local, else any IP URL, else the host name, else localhost.
func URLs(host string, l Listen, addrs []netip.Addr) ([]URL, string) {
	var out []URL
	if host != "" {
		out = append(out, URL{URL: httpURL(host, l.Port), Kind: "name"})
	}
	var v4, v4ll, v6 []URL
	for _, a := range l.reachable(addrs) {
		a = a.Unmap().WithZone("")
		switch {
		case !advertisable(a):
		case a.Is4() && a.IsLinkLocalUnicast():
			v4ll = append(v4ll, URL{URL: httpURL(a.String(), l.Port), Kind: "ipv4"})
		case a.Is4():
			v4 = append(v4, URL{URL: httpURL(a.String(), l.Port), Kind: "ipv4"})
		case !a.IsLinkLocalUnicast():
			v6 = append(v6, URL{URL: httpURL("["+a.String()+"]", l.Port), Kind: "ipv6"})
		}
	}
	out = append(append(append(out, v4...), v6...), v4ll...)
	switch {
	case !l.IP.IsValid() || l.IP == netip.IPv6Unspecified():
		out = append(out, URL{URL: httpURL("localhost", l.Port), Kind: "local"})
	case l.IP == netip.IPv4Unspecified():
		out = append(out, URL{URL: httpURL("127.0.0.1", l.Port), Kind: "local"})
	case l.IP.Is4() && l.IP.IsLoopback():
		out = append(out, URL{URL: httpURL(l.IP.String(), l.Port), Kind: "local"})
	case l.IP.IsLoopback():
		out = append(out, URL{URL: httpURL("["+l.IP.String()+"]", l.Port), Kind: "local"})
	}
	best := ""
	switch {
	case len(v4) > 0:
		best = v4[0].URL
	case len(v6) > 0:
		best = v6[0].URL
	case len(v4ll) > 0:
		best = v4ll[0].URL
	case len(out) > 0:
		best = out[0].URL
	}
	return out, best
}

func httpURL(host string, port int) string {
	if port == 80 || port == 0 {
		return "http://" + host + "/"
	}
	return "http://" + host + ":" + strconv.Itoa(port) + "/"
}
