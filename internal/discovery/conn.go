package discovery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The mDNS groups and port (RFC 6762).
var (
	group4 = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	group6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: 5353}
)

const maxPacket = 9000 // RFC 6762 section 17

// mdnsConn is the box's own pair of mDNS sockets (IPv4 and IPv6), bound to
// port 5353 beside any other responder on the machine, joined to the mDNS
// groups on the chosen interfaces.
type mdnsConn struct {
	v4 *ipv4.PacketConn
	v6 *ipv6.PacketConn
	// err4 says why there is no IPv4 socket: mDNS then works over IPv6 only.
	err4 error

	mu     sync.Mutex
	joined map[int]Iface // by interface index
	closed bool
}

// listenMDNS opens the sockets and joins the groups on ifs. It fails only
// when neither IPv4 nor IPv6 works at all.
func listenMDNS(ifs []Iface) (*mdnsConn, error) {
	c := &mdnsConn{joined: map[int]Iface{}}
	var err4, err6 error
	// A multicast address makes Go bind the wildcard address with
	// SO_REUSEADDR, so avahi-daemon and other responders keep working.
	if u, err := net.ListenUDP("udp4", group4); err != nil {
		err4 = err
	} else {
		c.v4 = ipv4.NewPacketConn(u)
		c.v4.SetControlMessage(ipv4.FlagInterface, true)
		c.v4.SetMulticastTTL(255) // RFC 6762 section 11
		c.v4.SetMulticastLoopback(true)
	}
	if u, err := net.ListenUDP("udp6", group6); err != nil {
		err6 = err
	} else {
		c.v6 = ipv6.NewPacketConn(u)
		c.v6.SetControlMessage(ipv6.FlagInterface, true)
		c.v6.SetMulticastHopLimit(255)
		c.v6.SetMulticastLoopback(true)
	}
	c.err4 = err4
	if c.v4 == nil && c.v6 == nil {
		return nil, fmt.Errorf("discovery: cannot open the mDNS port 5353: %w", errors.Join(err4, err6))
	}
	if err := c.join(ifs); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// join makes the sockets members of the mDNS groups on exactly ifs, leaving
// interfaces no longer chosen. It fails when ifs is not empty and no group
// could be joined on any of them.
func (c *mdnsConn) join(ifs []Iface) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := map[int]Iface{}
	for _, it := range ifs {
		want[it.Index] = it
	}
	for idx, it := range c.joined {
		if _, ok := want[idx]; !ok {
			ni := it.netInterface()
			if c.v4 != nil {
				c.v4.LeaveGroup(&ni, group4) // fails harmlessly if the interface is gone
			}
			if c.v6 != nil {
				c.v6.LeaveGroup(&ni, group6)
			}
			delete(c.joined, idx)
		}
	}
	var errs []error
	for idx, it := range want {
		if _, ok := c.joined[idx]; ok {
			c.joined[idx] = it
			continue
		}
		ni := it.netInterface()
		ok := false
		if c.v4 != nil {
			if err := c.v4.JoinGroup(&ni, group4); err == nil {
				ok = true
			} else {
				errs = append(errs, fmt.Errorf("%s (IPv4): %w", it.Name, err))
			}
		}
		if c.v6 != nil {
			if err := c.v6.JoinGroup(&ni, group6); err == nil {
				ok = true
			}
		}
		if ok {
			c.joined[idx] = it
		}
	}
	if len(want) > 0 && len(c.joined) == 0 {
		return fmt.Errorf("discovery: cannot join the mDNS group on %s: %w", ifaceNames(ifs), errors.Join(errs...))
	}
	return nil
}

// isJoined says whether packets from the interface are for this box to see.
func (c *mdnsConn) isJoined(index int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.joined[index]
	return ok
}

func (c *mdnsConn) joinedIndexes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, 0, len(c.joined))
	for idx := range c.joined {
		out = append(out, idx)
	}
	return out
}

// packet is one datagram received.
type packet struct {
	data    []byte
	from    netip.AddrPort
	ifIndex int
}

// read calls handle with every datagram received on either socket until the
// connection is closed; handle runs on the reading goroutine and must not
// keep data. read returns when both readers have stopped.
func (c *mdnsConn) read(handle func(packet)) {
	var wg sync.WaitGroup
	if c.v4 != nil {
		wg.Go(func() {
			buf := make([]byte, maxPacket)
			for {
				n, cm, from, err := c.v4.ReadFrom(buf)
				if err != nil {
					if c.isClosed() {
						return
					}
					time.Sleep(10 * time.Millisecond) // never spin on a persistent error
					continue
				}
				p := packet{data: buf[:n], from: addrPort(from)}
				if cm != nil {
					p.ifIndex = cm.IfIndex
				}
				handle(p)
			}
		})
	}
	if c.v6 != nil {
		wg.Go(func() {
			buf := make([]byte, maxPacket)
			for {
				n, cm, from, err := c.v6.ReadFrom(buf)
				if err != nil {
					if c.isClosed() {
						return
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				p := packet{data: buf[:n], from: addrPort(from)}
				if cm != nil {
					p.ifIndex = cm.IfIndex
				}
				handle(p)
			}
		})
	}
	wg.Wait()
}

func addrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

func (c *mdnsConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// multicast sends msg to the mDNS group on one interface, over IPv4 and
// IPv6 both where they work.
func (c *mdnsConn) multicast(msg *dns.Msg, ifIndex int) error {
	b, err := msg.Pack()
	if err != nil {
		return fmt.Errorf("discovery: pack: %w", err)
	}
	var errs []error
	sent := false
	if c.v4 != nil {
		if _, err := c.v4.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifIndex}, group4); err != nil {
			errs = append(errs, err)
		} else {
			sent = true
		}
	}
	if c.v6 != nil {
		if _, err := c.v6.WriteTo(b, &ipv6.ControlMessage{IfIndex: ifIndex}, group6); err == nil {
			sent = true
		}
	}
	if !sent {
		return fmt.Errorf("discovery: send: %w", errors.Join(errs...))
	}
	return nil
}

// unicast sends msg to one address, out of the interface it came in on.
func (c *mdnsConn) unicast(msg *dns.Msg, to netip.AddrPort, ifIndex int) error {
	b, err := msg.Pack()
	if err != nil {
		return fmt.Errorf("discovery: pack: %w", err)
	}
	dst := net.UDPAddrFromAddrPort(to)
	if to.Addr().Is4() || to.Addr().Is4In6() {
		if c.v4 == nil {
			return errors.New("discovery: no IPv4 socket")
		}
		dst.IP = dst.IP.To4()
		_, err = c.v4.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifIndex}, dst)
		return err
	}
	if c.v6 == nil {
		return errors.New("discovery: no IPv6 socket")
	}
	_, err = c.v6.WriteTo(b, &ipv6.ControlMessage{IfIndex: ifIndex}, dst)
	return err
}

func (c *mdnsConn) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if c.v4 != nil {
		c.v4.Close()
	}
	if c.v6 != nil {
		c.v6.Close()
	}
}
