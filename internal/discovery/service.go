package discovery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grandcat/zeroconf"

	"github.com/mitstem/stembox/internal/term"
)

// Config says how a box makes itself known.
type Config struct {
	Name       string   // instance name people see (a school, a room); "" for DefaultName
	Host       string   // host name under .local; "" for DefaultHost
	Interfaces []string // interfaces to advertise on; none for every up, multicast, non-loopback one
	Listen     Listen   // what the web server listens on
	Info       Info     // the box's id and version, for its TXT record
	MDNS       bool     // advertise and browse; without it the service only lists URLs
	// Console gets the URLs and a QR code at start and whenever they
	// change; nil for none.
	Console io.Writer
}

// Service advertises a box, browses for others, and keeps the list of URLs
// the box is reached at. Run it as one of the box's background tasks.
type Service struct {
	cfg  Config
	log  *slog.Logger
	once *onceLog
	read func() ([]Iface, error)

	mu      sync.Mutex
	reach   Reach
	eng     *engine
	name    string // instance name, after any rename
	host    string // host name, after any rename
	servers []*zeroconf.Server

	ifs     []Iface // the chosen interfaces, as last read
	printed string  // the URLs last printed
	wg      sync.WaitGroup
}

// New returns a service for cfg; it does nothing until Run.
func New(cfg Config, logger *slog.Logger) *Service {
	cfg.Name = CleanName(cfg.Name)
	if h, err := CheckHost(cfg.Host); err == nil {
		cfg.Host = h
	} else {
		cfg.Host = DefaultHost
	}
	cfg.Info.Proto = Proto
	s := &Service{cfg: cfg, log: logger, once: newOnceLog(logger), read: readInterfaces, name: cfg.Name, host: cfg.Host}
	s.reach = Reach{Name: cfg.Name, Port: cfg.Listen.Port}
	return s
}

// advertising says whether the box uses mDNS at all: not when told not to,
// and not when it listens on loopback only, where no device could follow
// an advertisement (and tests stay off the real network).
func (s *Service) advertising() bool { return s.cfg.MDNS && !s.cfg.Listen.LoopbackOnly() }

// Reach returns how devices reach the box now.
func (s *Service) Reach() Reach {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reach
	r.URLs = slices.Clone(r.URLs)
	return r
}

// Peers returns the other boxes seen on the LAN, by name.
func (s *Service) Peers() []Box {
	s.mu.Lock()
	eng := s.eng
	s.mu.Unlock()
	if eng == nil {
		return nil
	}
	return slices.DeleteFunc(eng.br.boxes(s.badTXT), func(b Box) bool { return b.ID == s.cfg.Info.ID })
}

func (s *Service) badTXT(instance string, err error) {
	s.once.warn("bad-txt "+instance, "ignoring a box whose TXT record is not a stembox's", "box_name", instance, "reason", err.Error())
}

// Run advertises the box until ctx ends, then says goodbye. It returns nil
// whatever happens on the network: a box that cannot advertise still serves.
func (s *Service) Run(ctx context.Context) error {
	defer s.stop()
	s.ifs = s.poll()
	if s.cfg.MDNS && s.cfg.Listen.LoopbackOnly() {
		s.log.Info("mDNS is off: the box listens on loopback only, so no other device can reach it")
	}
	if s.advertising() {
		s.start(ctx)
	}
	s.updateReach()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ifs := s.poll()
		ifsChanged, addrsChanged := !sameInterfaces(ifs, s.ifs), !sameAddrs(ifs, s.ifs)
		s.ifs = ifs
		if addrsChanged {
			s.updateReach()
		}
		if !s.advertising() {
			continue
		}
		s.mu.Lock()
		eng := s.eng
		s.mu.Unlock()
		if eng == nil {
			if ifsChanged || addrsChanged {
				s.start(ctx)
				s.updateReach()
			}
			continue
		}
		if ifsChanged || addrsChanged {
			s.log.Info("network changed; announcing the box anew", "interfaces", ifaceNames(ifs), "addresses", fmt.Sprint(allAddrs(ifs)))
			if err := eng.conn.join(ifs); err != nil {
				s.once.error("join", "mDNS: cannot use the new interfaces", "err", err)
			}
			if changed := eng.resp.update(s.hostAddrs(ifs)); len(changed) > 0 {
				s.announceTwice(ctx, eng, changed...)
			}
			if ifsChanged {
				s.register()
			}
			eng.requeryNow()
		}
		s.resolveConflicts(ctx, eng)
	}
}

// poll reads the interfaces and chooses those to use.
func (s *Service) poll() []Iface {
	all, err := s.read()
	if err != nil {
		s.once.error("interfaces", "cannot list network interfaces", "err", err)
		return s.ifs
	}
	return selectInterfaces(all, s.cfg.Interfaces)
}

// hostAddrs narrows the interfaces' addresses to those the web server
// listens on: no use announcing an address nothing answers at.
func (s *Service) hostAddrs(ifs []Iface) []Iface {
	out := slices.Clone(ifs)
	for i := range out {
		out[i].Addrs = s.cfg.Listen.reachable(out[i].Addrs)
	}
	return out
}

// start opens mDNS on the chosen interfaces, listens a moment for other
// boxes using the same names, picks free ones, and advertises.
func (s *Service) start(ctx context.Context) {
	ifs := s.ifs
	if len(ifs) == 0 {
		s.once.warn("no-interfaces", "mDNS: no network interface to advertise on yet; the box will advertise when one comes up",
			"interfaces", strings.Join(s.cfg.Interfaces, ","))
		return
	}
	eng, err := startEngine(ifs, true, s.once)
	if err != nil {
		s.once.error("start", "mDNS failed to start; the box keeps serving, but devices must use one of the addresses it prints", "err", err)
		return
	}
	s.once.forget("start")
	s.once.forget("no-interfaces")
	if eng.conn.err4 != nil {
		s.once.error("ipv4", "mDNS over IPv4 failed to start; only devices using IPv6 will find the box by name, the others must use one of the addresses it prints",
			"err", eng.conn.err4)
	}

	// Listen for other boxes (and any machine) using the names we want.
	eng.query(hostFQDN(s.host))
	select {
	case <-ctx.Done():
		eng.stop()
		return
	case <-time.After(probeWait):
	}
	boxes := slices.DeleteFunc(eng.br.boxes(s.badTXT), func(b Box) bool { return b.ID == s.cfg.Info.ID })
	mine := allAddrs(ifs)
	name := FreeName(s.name, func(n string) bool {
		return slices.ContainsFunc(boxes, func(b Box) bool { return sameName(b.Name, n) })
	})
	host := FreeHost(s.host, func(h string) bool {
		if slices.ContainsFunc(boxes, func(b Box) bool { return sameName(b.Host, strings.TrimSuffix(hostFQDN(h), ".")) }) {
			return true
		}
		return slices.ContainsFunc(eng.br.hostClaims(hostFQDN(h)), func(a netip.Addr) bool { return !slices.Contains(mine, a) })
	})
	if name != s.name {
		s.log.Warn("another box on the network uses this name; using another", "box_name", s.name, "new_name", name)
	}
	if host != s.host {
		s.log.Warn("another machine on the network answers to this host name; using another", "host", s.host+".local", "new_host", host+".local")
	}
	s.mu.Lock()
	s.eng, s.name, s.host = eng, name, host
	s.mu.Unlock()
	eng.resp.claim(host, s.hostAddrs(ifs))
	s.announceTwice(ctx, eng)
	s.register()
	s.log.Info("advertising on the LAN with mDNS", "box_name", name, "host", host+".local", "interfaces", ifaceNames(ifs))
}

// announceTwice announces the host's addresses now and a second later.
func (s *Service) announceTwice(ctx context.Context, eng *engine, indexes ...int) {
	eng.resp.announce(indexes...)
	s.wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			eng.resp.announce(indexes...)
		}
	})
}

// register (re-)registers the service records with zeroconf on the chosen
// interfaces; the servers it replaces say goodbye first.
func (s *Service) register() {
	s.shutdownServers()
	if len(s.ifs) == 0 {
		return
	}
	var nifs []net.Interface
	for _, it := range s.ifs {
		nifs = append(nifs, it.netInterface())
	}
	// With no addresses given, zeroconf answers with those of the interface
	// a query came in on, which is what a device on that network can reach.
	var ips []string
	if ip := s.cfg.Listen.IP; ip.IsValid() && !ip.IsUnspecified() {
		ips = []string{ip.String()}
	}
	s.mu.Lock()
	instance, host := escapeLabel(s.name), s.host
	s.mu.Unlock()
	info := s.cfg.Info
	var servers []*zeroconf.Server
	for _, svc := range []struct {
		typ string
		txt []string
	}{
		{ServiceType, info.TXT()},
		{HTTPServiceType, []string{"path=" + pathOr(info.Path)}},
	} {
		srv, err := zeroconf.RegisterProxy(instance, svc.typ, Domain, s.cfg.Listen.Port, host, ips, svc.txt, nifs)
		if err != nil {
			s.once.error("register "+svc.typ, "mDNS: cannot advertise the service", "service", svc.typ, "err", err)
			continue
		}
		s.once.forget("register " + svc.typ)
		servers = append(servers, srv)
	}
	s.mu.Lock()
	s.servers = servers
	s.mu.Unlock()
}

func pathOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func (s *Service) shutdownServers() {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Shutdown() // sends goodbye packets
	}
}

// resolveConflicts renames the box when another box (another id) uses its
// instance or host name. Both boxes see the conflict; the one with the
// greater id gives way, so exactly one renames.
func (s *Service) resolveConflicts(ctx context.Context, eng *engine) {
	my := s.cfg.Info.ID
	boxes := slices.DeleteFunc(eng.br.boxes(s.badTXT), func(b Box) bool { return b.ID == my })
	s.mu.Lock()
	name, host := s.name, s.host
	s.mu.Unlock()
	newName, newHost := name, host
	// Two boxes with one instance name show as one in the cache, so the
	// ids seen under the name tell.
	// ids seen under the name tell. The name itself counts as taken: the
	// cache may show this box under it, not the other.
	renaming := slices.ContainsFunc(eng.br.idsNamed(instanceFQDN(name, ServiceType)), func(id string) bool { return my > id })
	if renaming {
		newName = FreeName(name, func(n string) bool {
			return sameName(n, name) || slices.ContainsFunc(boxes, func(b Box) bool { return sameName(b.Name, n) })
		})
	}
	// While two boxes share an instance name the cache merges their records
	// (one's SRV, the other's TXT), so the host it shows under that name may
	// be this box's own: host clashes are judged only on boxes with a name
	// of their own, and not in the round that renames this one (the next
	// round sees the other box's records alone). Judging them on the merged
	// record moved a box off a host nobody else used, onto the other's.
	if !renaming && slices.ContainsFunc(boxes, func(b Box) bool {
		return my > b.ID && !sameName(b.Name, name) && sameName(b.Host, host+".local")
	}) {
		newHost = FreeHost(host, func(h string) bool {
			return sameName(h, host) || slices.ContainsFunc(boxes, func(b Box) bool { return sameName(b.Host, h+".local") })
		})
	}
	if newName == name && newHost == host {
		return
	}
	s.log.Warn("another box on the network uses the same name; renaming this one",
		"box_name", name, "new_name", newName, "host", host+".local", "new_host", newHost+".local")
	if newHost != host {
		eng.resp.goodbye()
		eng.resp.claim(newHost, s.hostAddrs(s.ifs))
		s.announceTwice(ctx, eng)
	}
	s.mu.Lock()
	s.name, s.host = newName, newHost
	s.mu.Unlock()
	s.register()
	s.updateReach()
}

// stop says goodbye and closes everything.
func (s *Service) stop() {
	s.wg.Wait() // pending announcements end with ctx
	s.shutdownServers()
	s.mu.Lock()
	eng := s.eng
	s.eng = nil
	s.mu.Unlock()
	if eng != nil {
		eng.resp.goodbye()
		eng.stop()
		s.log.Info("mDNS: said goodbye")
	}
}

// updateReach recomputes the URLs and prints them when they changed.
func (s *Service) updateReach() {
	s.mu.Lock()
	host := ""
	if s.eng != nil {
		host = s.host + ".local"
	}
	urls, best := URLs(host, s.cfg.Listen, allAddrs(s.ifs))
	s.reach = Reach{Name: s.name, Host: host, Port: s.cfg.Listen.Port, URLs: urls, Best: best}
	r := s.reach
	s.mu.Unlock()
	if s.cfg.Console == nil {
		return
	}
	key := fmt.Sprint(r.URLs)
	if key == s.printed {
		return
	}
	s.printed = key
	PrintReach(s.cfg.Console, r, term.IsTerminal(s.cfg.Console))
}

// PrintReach writes the URLs a box is reached at and a QR code of the best
// one, for a terminal or a log.
func PrintReach(w io.Writer, r Reach, ansi bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n  Students and teachers open stembox %q at:\n", r.Name)
	lan := false
	for _, u := range r.URLs {
		note := ""
		switch u.Kind {
		case "name":
			note = "  (phones that resolve .local names)"
		case "local":
			note = "  (this computer only)"
		default:
			lan = true
		}
		fmt.Fprintf(&b, "    %s%s\n", u.URL, note)
	}
	if !lan {
		b.WriteString("  No other device can reach this box yet: it has no network address, or listens on this computer only (--addr).\n")
	}
	if r.Best != "" && lan {
		if qr, err := NewQR(r.Best); err == nil {
			fmt.Fprintf(&b, "\n  Scan to open %s\n\n", r.Best)
			for _, line := range strings.SplitAfter(qr.Terminal(ansi), "\n") {
				if line != "" {
					b.WriteString("  " + line)
				}
			}
		}
		fmt.Fprintf(&b, "\n  For a projector, the same code and addresses: %sconnect\n", r.Best)
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}
