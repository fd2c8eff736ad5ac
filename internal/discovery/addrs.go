package discovery

import (
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Iface is a network interface as the box saw it at one moment.
type Iface struct {
	Index     int
	Name      string
	Up        bool
	Loopback  bool
	Multicast bool
	Addrs     []netip.Addr // without zones
}

// readInterfaces lists the machine's interfaces and their addresses.
func readInterfaces() ([]Iface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Iface, 0, len(ifs))
	for _, ifi := range ifs {
		it := Iface{
			Index: ifi.Index, Name: ifi.Name,
			Up:        ifi.Flags&net.FlagUp != 0,
			Loopback:  ifi.Flags&net.FlagLoopback != 0,
			Multicast: ifi.Flags&net.FlagMulticast != 0,
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue // the interface went away between the two calls
		}
		for _, a := range addrs {
			var ip net.IP
			switch a := a.(type) {
			case *net.IPNet:
				ip = a.IP
			case *net.IPAddr:
				ip = a.IP
			}
			if addr, ok := netip.AddrFromSlice(ip); ok {
				it.Addrs = append(it.Addrs, addr.Unmap())
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// selectInterfaces returns the interfaces to advertise on: those named, if
// any are (and are up), else every interface that is up, not loopback and
// can multicast. Each keeps only addresses a device could reach it at.
func selectInterfaces(all []Iface, names []string) []Iface {
	var out []Iface
	for _, it := range all {
		if !it.Up {
			continue
		}
		if len(names) > 0 {
			if !slices.Contains(names, it.Name) {
				continue
			}
		} else if it.Loopback || !it.Multicast {
			continue
		}
		it.Addrs = slices.DeleteFunc(slices.Clone(it.Addrs), func(a netip.Addr) bool { return !advertisable(a) })
		out = append(out, it)
	}
	return out
}

// advertisable says whether an address belongs in the box's A and AAAA
// records: unicast addresses other than loopback.
func advertisable(a netip.Addr) bool {
	return a.IsValid() && !a.IsLoopback() && !a.IsUnspecified() && !a.IsMulticast()
}

// sameInterfaces says whether two selections have the same interfaces
// (index and name), whatever their addresses.
func sameInterfaces(a, b []Iface) bool {
	return slices.EqualFunc(a, b, func(x, y Iface) bool { return x.Index == y.Index && x.Name == y.Name })
}

// sameAddrs says whether two selections have the same addresses on the same
// interfaces.
func sameAddrs(a, b []Iface) bool {
	return slices.EqualFunc(a, b, func(x, y Iface) bool { return x.Index == y.Index && slices.Equal(x.Addrs, y.Addrs) })
}

// allAddrs returns the addresses of a selection, each once.
func allAddrs(ifs []Iface) []netip.Addr {
	var out []netip.Addr
	for _, it := range ifs {
		for _, a := range it.Addrs {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func ifaceNames(ifs []Iface) string {
	names := make([]string, len(ifs))
	for i, it := range ifs {
		names[i] = it.Name
	}
	return strings.Join(names, ", ")
}

func (it Iface) netInterface() net.Interface {
	f := net.Flags(0)
	if it.Up {
		f |= net.FlagUp
	}
	if it.Multicast {
		f |= net.FlagMulticast
	}
	if it.Loopback {
		f |= net.FlagLoopback
	}
	return net.Interface{Index: it.Index, Name: it.Name, Flags: f}
}
