//go:build linux

package main

// The independent mDNS clients TestLAN checks the box with: raw queries
// written with miekg/dns, the legacy unicast form, and avahi.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// querier is an independent mDNS client written with miekg/dns: a socket on
// port 5353 in one host, joined to 224.0.0.251 on its interface.
type querier struct {
	conn *ipv4.PacketConn
	msgs chan *dns.Msg
}

func newQuerier(t *testing.T, l *lab, i int) *querier {
	t.Helper()
	q := &querier{msgs: make(chan *dns.Msg, 1024)}
	h := l.hosts[i]
	if err := inNetns(h.ns, func() error {
		ifi, err := net.InterfaceByName(h.iface)
		if err != nil {
			return err
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353})
		if err != nil {
			return err
		}
		q.conn = ipv4.NewPacketConn(c)
		if err := q.conn.JoinGroup(ifi, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)}); err != nil {
			return err
		}
		return q.conn.SetMulticastInterface(ifi)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.conn.Close() })
	go func() {
		buf := make([]byte, 9000)
		for {
			n, _, _, err := q.conn.ReadFrom(buf)
			if err != nil {
				close(q.msgs)
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) == nil && m.Response {
				select {
				case q.msgs <- m:
				default:
				}
			}
		}
	}()
	return q
}

func (q *querier) sendRaw(t *testing.T, b []byte) {
	t.Helper()
	if _, err := q.conn.WriteTo(b, nil, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}); err != nil {
		t.Fatal(err)
	}
}

// ask sends a query and collects the responses that come within d.
func (q *querier) ask(t *testing.T, d time.Duration, questions ...dns.Question) []*dns.Msg {
	t.Helper()
	m := &dns.Msg{Question: questions}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	q.sendRaw(t, b)
	return q.listen(t, d, nil)
}

// listen collects responses for d, or until one satisfies stop.
func (q *querier) listen(t *testing.T, d time.Duration, stop func(*dns.Msg) bool) []*dns.Msg {
	var out []*dns.Msg
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-q.msgs:
			if !ok {
				return out
			}
			out = append(out, m)
			if stop != nil && stop(m) {
				return out
			}
		case <-timeout:
			return out
		}
	}
}

func records(msgs []*dns.Msg) string {
	var lines []string
	for _, m := range msgs {
		for _, sec := range [][]dns.RR{m.Answer, m.Extra} {
			for _, rr := range sec {
				lines = append(lines, rr.String())
			}
		}
	}
	return strings.Join(lines, "\n")
}

// legacyQuery asks like a plain DNS resolver would (from a random port),
// and returns the unicast answer's records.
func legacyQuery(t *testing.T, l *lab, i int, name string) string {
	t.Helper()
	var conn *net.UDPConn
	if err := inNetns(l.hosts[i].ns, func() (err error) {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(l.hosts[i].ip)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	b, _ := m.Pack()
	if _, err := conn.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 9000)
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) == nil && r.Id == m.Id && len(r.Answer) > 0 {
			return records([]*dns.Msg{r})
		}
	}
}

// avahi runs avahi-daemon with a D-Bus of its own in host i (in a private
// mount namespace, so nothing of the machine's is touched) and returns the
// output of the shell commands cmds run against it.
func avahi(t *testing.T, l *lab, i int, cmds string) string {
	t.Helper()
	for _, p := range []string{"avahi-daemon", "avahi-browse", "avahi-resolve", "dbus-daemon", "unshare", "timeout"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: .ci/run must install avahi-daemon, avahi-utils and dbus", p)
			}
			t.Skipf("SKIP: avahi check needs %s (apt-get install avahi-daemon avahi-utils dbus)", p)
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "avahi-daemon.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=%s
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
disable-publishing=yes
disable-user-service-publishing=yes
`, l.hosts[i].iface)), 0o644)
	script := `set -e
mount --make-rprivate /
mkdir -p /run/dbus /run/avahi-daemon
mount -t tmpfs tmpfs /run/dbus
mount -t tmpfs tmpfs /run/avahi-daemon
dbus-daemon --system --nofork --nopidfile & DBUS=$!
AVAHI=
trap 'kill $AVAHI $DBUS 2>/dev/null || true; wait' EXIT
for i in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
avahi-daemon -f "$1" --no-drop-root --no-chroot --no-rlimits --no-proc-title 2>/dev/null & AVAHI=$!
for i in $(seq 100); do avahi-browse -at -p >/dev/null 2>&1 && break; sleep 0.05; done
sleep 1
timeout 15 sh -c "$2"
`
	out, err := exec.Command("ip", "netns", "exec", l.hosts[i].ns, "unshare", "--mount", "sh", "-c", script, "sh", conf, cmds).CombinedOutput()
	if err != nil {
		t.Logf("avahi: %v", err)
	}
	return string(out)
}
