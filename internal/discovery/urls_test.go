package discovery

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func urlStrings(us []URL) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.URL+" "+u.Kind)
	}
	return out
}

func TestURLs(t *testing.T) {
	lan := addrs("fe80::1", "192.0.2.1", "2001:db8::5", "169.254.3.4", "192.0.2.77")
	for _, tc := range []struct {
		name   string
		host   string
		listen Listen
		addrs  []netip.Addr
		want   []string
		best   string
	}{
		{"every address", "stembox.local", Listen{Port: 8080}, lan, []string{
			"http://stembox.local:8080/ name",
			"http://192.0.2.1:8080/ ipv4",
			"http://192.0.2.77:8080/ ipv4",
			"http://[2001:db8::5]:8080/ ipv6",
			"http://169.254.3.4:8080/ ipv4",
			"http://localhost:8080/ local",
		}, "http://192.0.2.1:8080/"},
		{"port 80 and no mDNS", "", Listen{IP: netip.IPv6Unspecified(), Port: 80}, addrs("192.0.2.1"), []string{
			"http://192.0.2.1/ ipv4",
			"http://localhost/ local",
		}, "http://192.0.2.1/"},
		{"IPv4 only", "stembox.local", Listen{IP: netip.IPv4Unspecified(), Port: 8080}, lan, []string{
			"http://stembox.local:8080/ name",
			"http://192.0.2.1:8080/ ipv4",
			"http://192.0.2.77:8080/ ipv4",
			"http://169.254.3.4:8080/ ipv4",
			"http://127.0.0.1:8080/ local",
		}, "http://192.0.2.1:8080/"},
		{"one address", "", Listen{IP: netip.MustParseAddr("192.0.2.77"), Port: 9000}, lan, []string{
			"http://192.0.2.77:9000/ ipv4",
		}, "http://192.0.2.77:9000/"},
		{"loopback only", "", Listen{IP: netip.MustParseAddr("127.0.0.1"), Port: 8080}, lan, []string{
			"http://127.0.0.1:8080/ local",
		}, "http://127.0.0.1:8080/"},
		{"IPv6 loopback", "", Listen{IP: netip.IPv6Loopback(), Port: 8080}, lan, []string{
			"http://[::1]:8080/ local",
		}, "http://[::1]:8080/"},
		{"no network", "stembox.local", Listen{Port: 8080}, addrs("fe80::1"), []string{
			"http://stembox.local:8080/ name",
			"http://localhost:8080/ local",
		}, "http://stembox.local:8080/"},
		{"IPv6 only", "", Listen{Port: 8080}, addrs("fd00::7"), []string{
			"http://[fd00::7]:8080/ ipv6",
			"http://localhost:8080/ local",
		}, "http://[fd00::7]:8080/"},
		{"link-local IPv4 only", "", Listen{Port: 8080}, addrs("169.254.9.9"), []string{
			"http://169.254.9.9:8080/ ipv4",
			"http://localhost:8080/ local",
		}, "http://169.254.9.9:8080/"},
	} {
		got, best := URLs(tc.host, tc.listen, tc.addrs)
		if !slices.Equal(urlStrings(got), tc.want) {
			t.Errorf("%s: URLs =\n  %s\nwant\n  %s", tc.name, strings.Join(urlStrings(got), "\n  "), strings.Join(tc.want, "\n  "))
		}
		if best != tc.best {
			t.Errorf("%s: best = %q, want %q", tc.name, best, tc.best)
		}
	}
}

func TestSelectInterfaces(t *testing.T) {
	all := []Iface{
		{Index: 1, Name: "lo", Up: true, Loopback: true, Addrs: addrs("127.0.0.1", "::1")},
		{Index: 2, Name: "eth0", Up: true, Multicast: true, Addrs: addrs("192.0.2.1", "fe80::1")},
		{Index: 3, Name: "wlan0", Up: false, Multicast: true, Addrs: addrs("192.0.2.9")},
		{Index: 4, Name: "tun0", Up: true, Addrs: addrs("198.51.100.1")}, // no multicast
		{Index: 5, Name: "wlan1", Up: true, Multicast: true},
	}
	names := func(ifs []Iface) string { return ifaceNames(ifs) }
	if got := names(selectInterfaces(all, nil)); got != "eth0, wlan1" {
		t.Errorf("default selection = %s, want eth0, wlan1", got)
	}
	if got := names(selectInterfaces(all, []string{"wlan0", "tun0"})); got != "tun0" {
		t.Errorf("selecting wlan0 (down) and tun0 = %s, want tun0", got)
	}
	sel := selectInterfaces(all, nil)
	if !slices.Equal(sel[0].Addrs, addrs("192.0.2.1", "fe80::1")) {
		t.Errorf("eth0 addresses = %v", sel[0].Addrs)
	}
	if !slices.Equal(all[1].Addrs, addrs("192.0.2.1", "fe80::1")) {
		t.Error("selectInterfaces changed its input")
	}
	moved := slices.Clone(sel)
	moved[0].Addrs = addrs("192.0.2.2")
	if !sameInterfaces(sel, moved) || sameAddrs(sel, moved) {
		t.Error("a changed address must count as the same interfaces with other addresses")
	}
}

func TestPrintReach(t *testing.T) {
	urls, best := URLs("stembox.local", Listen{Port: 8080}, addrs("192.0.2.1"))
	var b strings.Builder
	PrintReach(&b, Reach{Name: "Room 5", URLs: urls, Best: best}, false)
	out := b.String()
	for _, want := range []string{`"Room 5"`, "http://stembox.local:8080/", "http://192.0.2.1:8080/", "http://localhost:8080/", "Scan to open http://192.0.2.1:8080/", "█", "projector, the same code and addresses: http://192.0.2.1:8080/connect"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed URLs lack %q:\n%s", want, out)
		}
	}
	b.Reset()
	urls, best = URLs("", Listen{Port: 8080}, nil)
	PrintReach(&b, Reach{Name: "Room 5", URLs: urls, Best: best}, false)
	if out := b.String(); !strings.Contains(out, "No other device can reach this box yet") || strings.Contains(out, "█") {
		t.Errorf("with no network, want a warning and no QR code:\n%s", out)
	}
}
