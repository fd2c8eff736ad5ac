package discovery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// engine reads the box's mDNS sockets and hands each packet to the browser
// (responses) or the responder (queries), and sends the browser's queries.
type engine struct {
	conn *mdnsConn
	br   *browser
	resp *responder // nil when only browsing (stembox discover)
	log  *onceLog

	requery chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startEngine opens the sockets on ifs and starts reading and querying.
func startEngine(ifs []Iface, answer bool, log *onceLog) (*engine, error) {
	conn, err := listenMDNS(ifs)
	if err != nil {
		return nil, err
	}
	e := &engine{conn: conn, br: newBrowser(time.Now), log: log, requery: make(chan struct{}, 1)}
	if answer {
		e.resp = newResponder(conn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Go(func() { conn.read(e.handle) })
	e.wg.Go(func() { e.queryLoop(ctx) })
	return e, nil
}

// stop closes the sockets and waits for the engine's goroutines.
func (e *engine) stop() {
	e.cancel()
	e.conn.close()
	e.wg.Wait()
}

// handle deals with one received datagram. Nothing in it may crash the box
// or stall it: what cannot be parsed is logged once and dropped.
func (e *engine) handle(p packet) {
	if p.ifIndex != 0 && !e.conn.isJoined(p.ifIndex) {
		return // an interface the box was told not to use
	}
	var m dns.Msg
	if err := m.Unpack(p.data); err != nil {
		e.log.warn("bad-packet "+p.from.Addr().String(), "ignoring a malformed mDNS packet", "from", p.from.String(), "reason", err.Error())
		return
	}
	if m.Opcode != dns.OpcodeQuery || m.Rcode != dns.RcodeSuccess {
		return // RFC 6762 section 18.3 and 18.11
	}
	if m.Response {
		if p.from.Port() != 5353 {
			return // section 6: responses from other ports are not mDNS
		}
		if !e.br.observe(&m) {
			e.log.warn("cache-full", "too many mDNS records on the network; ignoring some", "from", p.from.String())
		}
		if e.resp != nil {
			if host := e.resp.hostName(); host != "" {
				if f := e.resp.foreign(&m, host); len(f) > 0 {
					e.log.warn("foreign-host "+f[0].String(), "another device answers for this box's host name; devices may reach it instead",
						"host", host, "address", f[0].String(), "hint", "choose another name with --mdns-host")
				}
			}
		}
		return
	}
	if e.resp != nil {
		e.resp.answer(&m, p)
	}
}

// queryLoop asks for stembox boxes at once, then after 1, 2, 4 … seconds up
// to a minute apart (RFC 6762 section 5.2), and starts over on requeryNow.
func (e *engine) queryLoop(ctx context.Context) {
	gap := time.Second
	t := time.NewTimer(time.Duration(20+rand.IntN(100)) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.requery:
			gap = time.Second
			t.Reset(time.Duration(20+rand.IntN(100)) * time.Millisecond)
		case <-t.C:
			e.query()
			t.Reset(gap)
			gap = min(2*gap, maxQueryGap)
		}
	}
}

// requeryNow starts the query schedule over: a new interface or address
// may have brought new neighbours.
func (e *engine) requeryNow() {
	select {
	case e.requery <- struct{}{}:
	default:
	}
}

// query sends one browse query on every interface, also asking for the
// addresses of hosts known from SRV records but not yet resolved.
func (e *engine) query(hosts ...string) {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: serviceFQDN(ServiceType), Qtype: dns.TypePTR, Qclass: dns.ClassINET}}
	hosts = append(hosts, e.br.hostsMissingAddrs()...)
	for i, h := range hosts {
		if i == 16 {
			break
		}
		m.Question = append(m.Question,
			dns.Question{Name: h, Qtype: dns.TypeA, Qclass: dns.ClassINET},
			dns.Question{Name: h, Qtype: dns.TypeAAAA, Qclass: dns.ClassINET})
	}
	for _, idx := range e.conn.joinedIndexes() {
		e.conn.multicast(m, idx)
	}
}

// onceLog logs each kind of trouble (a key) once an hour at most, so a
// flood of bad packets cannot fill the SD card with logs.
type onceLog struct {
	log *slog.Logger
	mu  sync.Mutex
	at  map[string]time.Time
}

func newOnceLog(l *slog.Logger) *onceLog { return &onceLog{log: l, at: map[string]time.Time{}} }

func (o *onceLog) warn(key, msg string, args ...any) { o.logAt(slog.LevelWarn, key, msg, args...) }

func (o *onceLog) error(key, msg string, args ...any) { o.logAt(slog.LevelError, key, msg, args...) }

func (o *onceLog) logAt(level slog.Level, key, msg string, args ...any) {
	o.mu.Lock()
	now := time.Now()
	if t, ok := o.at[key]; ok && now.Sub(t) < time.Hour {
		o.mu.Unlock()
		return
	}
	if len(o.at) >= 1024 {
		clear(o.at)
	}
	o.at[key] = now
	o.mu.Unlock()
	o.log.Log(context.Background(), level, msg, args...)
}

// forget lets a key be logged again, once the trouble is over.
func (o *onceLog) forget(key string) {
	o.mu.Lock()
	delete(o.at, key)
	o.mu.Unlock()
}
