//go:build linux

package main

// Helpers for tests over a real network: network namespaces joined by veth
// pairs to a bridge, with addresses from 192.0.2.0/24 (TEST-NET-1) only and
// IPv6 off, so nothing leaves the test's own little LAN.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mitstem/stembox/internal/logtest"
)

// needNetns skips a test, visibly, unless it may create network namespaces.
func needNetns(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the tests over network namespaces")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP: the tests over network namespaces need root (CI runs them as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("SKIP: the tests over network namespaces need iproute2's ip (apt-get install iproute2)")
	}
	name := fmt.Sprintf("sbxprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("SKIP: cannot create a network namespace here: %v: %s", err, out)
	}
	exec.Command("ip", "netns", "del", name).Run()
}

// lab is a LAN of hosts, each a network namespace with one interface on a
// bridge in a namespace of its own. Host i is 192.0.2.(i+1).
type lab struct {
	t      *testing.T
	prefix string
	hosts  []labHost
}

type labHost struct {
	ns, iface, ip string
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newLab(t *testing.T, n int) *lab {
	t.Helper()
	l := &lab{t: t, prefix: fmt.Sprintf("sbx%d", os.Getpid()%100000)}
	sw := l.prefix + "sw"
	sh(t, "ip", "netns", "add", sw)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", sw).Run() })
	sh(t, "ip", "netns", "exec", sw, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	sh(t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	sh(t, "ip", "-n", sw, "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		h := labHost{ns: fmt.Sprintf("%sh%d", l.prefix, i), iface: fmt.Sprintf("%se%d", l.prefix, i), ip: fmt.Sprintf("192.0.2.%d", i+1)}
		port := fmt.Sprintf("%sp%d", l.prefix, i)
		sh(t, "ip", "netns", "add", h.ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", h.ns).Run() })
		sh(t, "ip", "netns", "exec", h.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		sh(t, "ip", "link", "add", h.iface, "netns", h.ns, "type", "veth", "peer", "name", port, "netns", sw)
		sh(t, "ip", "-n", sw, "link", "set", port, "master", "br0", "up")
		sh(t, "ip", "-n", h.ns, "addr", "add", h.ip+"/24", "dev", h.iface)
		sh(t, "ip", "-n", h.ns, "link", "set", h.iface, "up", "multicast", "on")
		sh(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
		l.hosts = append(l.hosts, h)
	}
	return l
}

// proc is a program running in a host of the lab.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *logtest.Buffer
	done   chan struct{}
	err    error
	killed bool // by stop, after SIGTERM went unheeded
}

// start runs bin with args in host i until the test ends (or stop).
func (l *lab) start(t *testing.T, name string, i int, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &logtest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", l.hosts[i].ns, bin}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if strings.Contains(p.out.String(), "DATA RACE") {
			t.Errorf("%s: the race detector found a data race", p.name)
		} else if p.err != nil && !p.killed {
			t.Errorf("%s exited with %v", p.name, p.err)
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// stop ends the program as a service manager would: SIGTERM, then SIGKILL.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM) // ip netns exec execs the program: this is its pid
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not stop within 15 s of SIGTERM", p.name)
		p.killed = true
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runIn runs bin with args in host i and returns its standard output and
// error.
func (l *lab) runIn(t *testing.T, i int, bin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.hosts[i].ns, bin}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if strings.Contains(stderr.String(), "DATA RACE") {
		t.Errorf("stembox %s: the race detector found a data race:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

// inNetns runs fn on an OS thread that has entered namespace ns. Sockets
// fn makes belong to that namespace for good; the thread is thrown away.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		f, err := os.Open(filepath.Join("/var/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// client is an HTTP client whose connections start in host i.
func (l *lab) client(i int) *http.Client {
	ns := l.hosts[i].ns
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNetns(ns, func() (err error) {
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// listen opens a TCP listener in host i.
func (l *lab) listen(t *testing.T, i int, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := inNetns(l.hosts[i].ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
