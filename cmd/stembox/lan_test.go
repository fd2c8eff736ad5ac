//go:build linux

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/store"
)

const lanVersion = "v0.0.0-lantest"

// TestLAN runs boxes in network namespaces and checks, over a real
// network, that they are found (by stembox discover, by a raw DNS-SD
// query and by avahi), that they follow address changes, rename on a name
// conflict, copy packs from each other and refuse tampered ones, shrug off
// malformed packets, and say goodbye when they stop.
func TestLAN(t *testing.T) {
	needNetns(t)
	top := t // processes started in subtests live as long as TestLAN
	start := time.Now()
	bin := filepath.Join(t.TempDir(), "stembox")
	args := []string{"build", "-ldflags", "-X main.version=" + lanVersion, "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goBin, append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built stembox in %s", time.Since(start).Round(time.Millisecond))

	l := newLab(t, 3) // a = 192.0.2.1, b = 192.0.2.2, c = 192.0.2.3 (no box, a laptop)
	const a, b, c = 0, 1, 2

	// The packs: mini 1.0.0 signed by a key both boxes trust.
	signer := contenttest.Signer(t)
	mini := contenttest.Build(t, contenttest.MiniDir(), signer)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := signer.WriteKeyFiles(keyFile); err != nil {
		t.Fatal(err)
	}
	dataA, dataB, dataC := newDataDir(t, keyFile, mini), newDataDir(t, keyFile), newDataDir(t, keyFile, mini)
	idA, idB := boxID(t, dataA), boxID(t, dataB)

	boxA := l.start(t, "box A", a, bin, "serve", "--data-dir", dataA, "--dev-packs", "", "--mdns-name", "Room 5", "--lang", "en")
	waitFor(t, "box A advertises", 20*time.Second, func() bool { return strings.Contains(boxA.out.String(), "advertising on the LAN") })
	waitHealthy(t, l, c, "http://192.0.2.1:8080")

	t.Run("discover", func(t *testing.T) {
		out, errOut, err := l.runIn(t, c, bin, "discover", "--json", "--timeout", "3s")
		if err != nil {
			t.Fatalf("discover: %v\n%s", err, errOut)
		}
		var boxes []discovery.Box
		if err := json.Unmarshal([]byte(out), &boxes); err != nil {
			t.Fatalf("discover --json printed %q: %v", out, err)
		}
		got := findBox(boxes, idA)
		if got == nil {
			t.Fatalf("box A (%s) not found; found %+v", idA, boxes)
		}
		want := discovery.Box{Name: "Room 5", Host: "stembox.local", Port: 8080, ID: idA, Version: lanVersion, Proto: "1", Path: "/"}
		if got.Name != want.Name || got.Host != want.Host || got.Port != want.Port || got.Version != want.Version || got.Proto != want.Proto || got.Path != want.Path {
			t.Errorf("found %+v, want %+v", *got, want)
		}
		if fmt.Sprint(got.Addrs) != "[192.0.2.1]" || got.URL() != "http://192.0.2.1:8080/" {
			t.Errorf("addresses %v, URL %s; want 192.0.2.1 and http://192.0.2.1:8080/", got.Addrs, got.URL())
		}
		// The table too.
		out, _, err = l.runIn(t, c, bin, "discover", "--timeout", "2s")
		if err != nil || !regexp.MustCompile(`Room 5\s+http://192\.0\.2\.1:8080/\s+`+lanVersion+`\s+`+idA).MatchString(out) {
			t.Errorf("discover table: %v\n%s", err, out)
		}
	})

	t.Run("raw DNS-SD query", func(t *testing.T) {
		q := newQuerier(t, l, c)
		// A querier on port 5353 asks for the service type; the answers come
		// by multicast.
		msgs := q.ask(t, 2*time.Second, dns.Question{Name: "_stembox._tcp.local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET})
		inst := `Room\ 5._stembox._tcp.local.`
		rr := records(msgs)
		for _, want := range []string{
			"_stembox._tcp.local.\t3200\tIN\tPTR\t" + inst,
			inst + "\t3200\tIN\tSRV\t0 0 8080 stembox.local.",
			`"proto=1" "id=` + idA + `" "version=` + lanVersion + `" "path=/"`,
			"stembox.local.\t120\tIN\tA\t192.0.2.1",
		} {
			if !strings.Contains(rr, want) {
				t.Errorf("answers lack %q:\n%s", want, rr)
			}
		}
		msgs = q.ask(t, 2*time.Second, dns.Question{Name: "_http._tcp.local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET})
		if rr := records(msgs); !strings.Contains(rr, "_http._tcp.local.\t3200\tIN\tPTR\tRoom\\ 5._http._tcp.local.") {
			t.Errorf("no _http._tcp answer:\n%s", rr)
		}
		// The host name answers on its own, to an mDNS querier and to a
		// plain resolver asking from another port (dig @224.0.0.251 -p 5353).
		msgs = q.ask(t, 2*time.Second, dns.Question{Name: "stembox.local.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		if rr := records(msgs); !strings.Contains(rr, "stembox.local.\t120\tCLASS32769\tA\t192.0.2.1") {
			t.Errorf("no A record for stembox.local:\n%s", rr)
		}
		if rr := legacyQuery(t, l, c, "stembox.local."); !strings.Contains(rr, "stembox.local.\t10\tIN\tA\t192.0.2.1") {
			t.Errorf("legacy unicast query for stembox.local got:\n%s", rr)
		}
	})

	t.Run("avahi", func(t *testing.T) {
		out := avahi(t, l, c, "avahi-browse -rtp _stembox._tcp; avahi-browse -rtp _http._tcp; avahi-resolve -4 -n stembox.local")
		for _, want := range []string{
			`=;` + l.hosts[c].iface + `;IPv4;Room\0325;_stembox._tcp;local;stembox.local;192.0.2.1;8080;`,
			`"id=` + idA + `"`, `"version=` + lanVersion + `"`, `"proto=1"`,
			`;Web Site;local;stembox.local;192.0.2.1;8080;"path=/"`,
			"stembox.local\t192.0.2.1",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("avahi's output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("connect page", func(t *testing.T) {
		body := httpGet(t, l.client(c), "http://192.0.2.1:8080/connect", 200)
		for _, want := range []string{"Room 5", "<svg", `aria-label="http://192.0.2.1:8080/"`, "http://stembox.local:8080/"} {
			if !strings.Contains(body, want) {
				t.Errorf("/connect lacks %q", want)
			}
		}
		if !strings.Contains(boxA.out.String(), "Scan to open http://192.0.2.1:8080/") {
			t.Errorf("box A did not print its URL and QR code:\n%s", boxA.out.String())
		}
	})

	t.Run("new address is announced", func(t *testing.T) {
		q := newQuerier(t, l, c)
		sh(t, "ip", "-n", l.hosts[a].ns, "addr", "add", "192.0.2.11/24", "dev", l.hosts[a].iface)
		defer exec.Command("ip", "-n", l.hosts[a].ns, "addr", "del", "192.0.2.11/24", "dev", l.hosts[a].iface).Run()
		// Only listen: the box must announce the address by itself.
		msgs := q.listen(t, 8*time.Second, func(m *dns.Msg) bool { return strings.Contains(records([]*dns.Msg{m}), "A\t192.0.2.11") })
		if rr := records(msgs); !strings.Contains(rr, "stembox.local.\t120\tCLASS32769\tA\t192.0.2.11") {
			t.Errorf("no announcement of 192.0.2.11 within 8 s:\n%s", rr)
		}
	})

	var boxB *proc
	t.Run("same name renames", func(t *testing.T) {
		boxB = l.start(top, "box B", b, bin, "serve", "--data-dir", dataB, "--dev-packs", "", "--mdns-name", "Room 5", "--lang", "en")
		waitFor(t, "box B advertises", 20*time.Second, func() bool { return strings.Contains(boxB.out.String(), "advertising on the LAN") })
		out, _, err := l.runIn(t, c, bin, "discover", "--json", "--timeout", "3s")
		var boxes []discovery.Box
		if err != nil || json.Unmarshal([]byte(out), &boxes) != nil {
			t.Fatalf("discover: %v\n%s", err, out)
		}
		ba, bb := findBox(boxes, idA), findBox(boxes, idB)
		if ba == nil || bb == nil {
			t.Fatalf("want both boxes, found %+v", boxes)
		}
		if ba.Name != "Room 5" || ba.Host != "stembox.local" {
			t.Errorf("box A became %q at %s; it was first and keeps its names", ba.Name, ba.Host)
		}
		if bb.Name != "Room 5 (2)" || bb.Host != "stembox-2.local" || fmt.Sprint(bb.Addrs) != "[192.0.2.2]" {
			t.Errorf("box B is %q at %s %v; want Room 5 (2) at stembox-2.local [192.0.2.2]", bb.Name, bb.Host, bb.Addrs)
		}
		if !strings.Contains(boxB.out.String(), `new_name="Room 5 (2)"`) {
			t.Errorf("box B did not log its rename:\n%s", boxB.out.String())
		}
	})

	t.Run("boxes see each other", func(t *testing.T) {
		var peers struct {
			Peers []discovery.Box `json:"peers"`
		}
		waitFor(t, "box B lists box A", 10*time.Second, func() bool {
			peers.Peers = nil
			json.Unmarshal([]byte(httpGet(t, l.client(c), "http://192.0.2.2:8080/api/v1/peers", 200)), &peers)
			return findBox(peers.Peers, idA) != nil
		})
		if findBox(peers.Peers, idB) != nil {
			t.Error("box B lists itself as a peer")
		}
	})

	t.Run("peer copy from the command line", func(t *testing.T) {
		out, errOut, err := l.runIn(t, c, bin, "peer", "list", "http://192.0.2.1:8080")
		if err != nil || !regexp.MustCompile(`http://192\.0\.2\.1:8080\s+mini\s+1\.0\.0\s+Mini pack`).MatchString(out) {
			t.Errorf("peer list: %v\n%s%s", err, out, errOut)
		}
		dataD := newDataDir(t, keyFile)
		out, errOut, err = l.runIn(t, c, bin, "peer", "fetch", "--data-dir", dataD, "http://192.0.2.1:8080", "mini")
		if err != nil || !strings.Contains(out, "installed mini 1.0.0 from http://192.0.2.1:8080") {
			t.Fatalf("peer fetch: %v\n%s%s", err, out, errOut)
		}
		lib, err := box.OpenLibrary(dataD, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := lib.Pack("mini"); !ok || p.Manifest.Version != "1.0.0" {
			t.Error("mini is not installed after peer fetch")
		}
	})

	t.Run("peer copy from the admin page", func(t *testing.T) {
		// Box B's admin page, opened on box B itself, lists box A's packs.
		local := l.client(b)
		page := httpGet(t, local, "http://127.0.0.1:8080/admin/peers", 200)
		if !strings.Contains(page, "Room 5") || !strings.Contains(page, "not on this box") {
			t.Fatalf("box B's admin page does not offer box A's mini:\n%s", page)
		}
		// From another machine it is closed.
		httpGet(t, l.client(c), "http://192.0.2.2:8080/admin/peers", 303)
		resp := httpPostForm(t, local, "http://127.0.0.1:8080/admin/peers/fetch", "http://127.0.0.1:8080",
			"peer=http%3A%2F%2F192.0.2.1%3A8080&pack=mini")
		if resp != 303 {
			t.Fatalf("POST fetch: %d", resp)
		}
		waitFor(t, "box B serves mini", 15*time.Second, func() bool {
			return strings.Contains(httpGet(t, l.client(c), "http://192.0.2.2:8080/api/v1/packs", 200), `"id":"mini"`)
		})
		if page := httpGet(t, local, "http://127.0.0.1:8080/admin/peers", 200); !strings.Contains(page, "installed version 1.0.0") {
			t.Errorf("the admin page does not show the copy as done:\n%s", page)
		}
	})

	t.Run("tampered, garbage and stalling peers", func(t *testing.T) {
		// A hostile box in host a, beside box A, on port 9000.
		signed := contenttest.Build(t, bumpVersion(t, "1.1.0"), signer)
		tampered := flipByte(t, signed)
		stall := make(chan struct{})
		defer close(stall)
		var mu sync.Mutex
		body := tampered
		ln := l.listen(t, a, "192.0.2.1:9000")
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			bdy := body
			mu.Unlock()
			if bdy == nil { // stall: headers and a few bytes, then nothing
				w.Header().Set("Content-Length", "100000")
				w.Write([]byte("PK"))
				w.(http.Flusher).Flush()
				select {
				case <-stall:
				case <-r.Context().Done():
				}
				return
			}
			w.Header().Set("ETag", `"x"`)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(bdy))
		})}
		go srv.Serve(ln)
		defer srv.Close()

		for _, tc := range []struct {
			name string
			body []byte
			want string
		}{
			{"tampered", tampered, "does not match its hash"},
			{"garbage", bytes.Repeat([]byte{0x55}, 70000), "not a pack archive"},
			{"stalling", nil, "sent nothing for 1s"},
		} {
			mu.Lock()
			body = tc.body
			mu.Unlock()
			_, errOut, err := l.runIn(t, c, bin, "peer", "fetch", "--data-dir", dataC, "--stall-timeout", "1s", "http://192.0.2.1:9000", "mini")
			if err == nil || !strings.Contains(errOut, tc.want) {
				t.Errorf("%s peer: err %v, output %q; want a refusal mentioning %q", tc.name, err, errOut, tc.want)
			}
			lib, err := box.OpenLibrary(dataC, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := lib.Pack("mini"); !ok || p.Manifest.Version != "1.0.0" {
				t.Errorf("%s peer: installed mini changed", tc.name)
			}
		}
		// A box fetching from the stalling peer keeps serving.
		mu.Lock()
		body = nil
		mu.Unlock()
		if resp := httpPostForm(t, l.client(b), "http://127.0.0.1:8080/admin/peers/fetch", "http://127.0.0.1:8080", "peer=http%3A%2F%2F192.0.2.1%3A9000&pack=physics"); resp != 303 {
			t.Errorf("POST fetch from the stalling peer: %d", resp)
		}
		t0 := time.Now()
		httpGet(t, l.client(c), "http://192.0.2.2:8080/healthz", 200)
		httpGet(t, l.client(c), "http://192.0.2.2:8080/packs/mini", 200)
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("box B took %s to serve while fetching from a stalled peer", d)
		}
	})

	t.Run("malformed packets", func(t *testing.T) {
		q := newQuerier(t, l, c)
		var packets [][]byte
		good, _ := (&dns.Msg{Question: []dns.Question{{Name: "_stembox._tcp.local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}}}).Pack()
		packets = append(packets, []byte{}, []byte{0, 0, 0}, good[:9], append(bytes.Clone(good), 1, 2, 3))
		packets = append(packets, []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}) // a name pointing at itself
		kas := &dns.Msg{Question: []dns.Question{{Name: "_stembox._tcp.local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}},
			Answer: []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: "_stembox._tcp.local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 120}}}}
		b, _ := kas.Pack()
		packets = append(packets, b)
		// A "box" with a huge TXT record.
		huge := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}}
		txt := []string{"proto=1", "id=01HUGE"}
		for i := 0; i < 30; i++ {
			txt = append(txt, fmt.Sprintf("k%d=%s", i, strings.Repeat("x", 250)))
		}
		huge.Answer = []dns.RR{
			&dns.PTR{Hdr: dns.RR_Header{Name: "_stembox._tcp.local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 120}, Ptr: "Huge._stembox._tcp.local."},
			&dns.SRV{Hdr: dns.RR_Header{Name: "Huge._stembox._tcp.local.", Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 120}, Port: 8080, Target: "huge.local."},
			&dns.TXT{Hdr: dns.RR_Header{Name: "Huge._stembox._tcp.local.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 120}, Txt: txt},
			&dns.A{Hdr: dns.RR_Header{Name: "huge.local.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 120}, A: net.IPv4(192, 0, 2, 3)},
		}
		hb, err := huge.Pack()
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, hb)
		rng := rand.New(rand.NewPCG(5, 3))
		for i := 0; i < 300; i++ {
			p := make([]byte, 1+rng.IntN(1400))
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			packets = append(packets, p)
		}
		for i := 0; i < 3; i++ { // lossy networks: send the huge one again
			packets = append(packets, hb)
		}
		for _, p := range packets {
			q.sendRaw(t, p)
		}
		// The boxes still serve and are still found; the huge "box" is not.
		httpGet(t, l.client(c), "http://192.0.2.1:8080/healthz", 200)
		out, _, err := l.runIn(t, c, bin, "discover", "--json", "--timeout", "2s")
		var boxes []discovery.Box
		if err != nil || json.Unmarshal([]byte(out), &boxes) != nil || findBox(boxes, idA) == nil {
			t.Errorf("after the bad packets, discover: %v\n%s", err, out)
		}
		waitFor(t, "box A logs the huge TXT record", 10*time.Second, func() bool {
			return strings.Contains(boxA.out.String(), "ignoring a box whose TXT record is not a stembox's")
		})
		logs := boxA.out.String()
		if n := strings.Count(logs, "ignoring a malformed mDNS packet"); n != 1 {
			t.Errorf("box A logged %d malformed packets from one sender, want 1", n)
		}
		if n := strings.Count(logs, "ignoring a box whose TXT"); n != 1 {
			t.Errorf("box A logged the huge TXT %d times, want once", n)
		}
	})

	t.Run("mDNS cannot start", func(t *testing.T) {
		// Something on host c holds port 5353 without sharing it, over IPv4
		// and IPv6.
		var block4, block6 net.PacketConn
		if err := inNetns(l.hosts[c].ns, func() (err error) {
			if block4, err = net.ListenPacket("udp4", "0.0.0.0:5353"); err != nil {
				return err
			}
			block6, err = net.ListenPacket("udp6", "[::]:5353")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer block4.Close()
		defer block6.Close()
		boxC := l.start(t, "box C", c, bin, "serve", "--data-dir", newDataDir(t, keyFile), "--dev-packs", "", "--mdns-name", "Room 9")
		waitFor(t, "box C reports the failure and prints its address", 20*time.Second, func() bool {
			out := boxC.out.String()
			return strings.Contains(out, "mDNS failed to start") && strings.Contains(out, "Scan to open")
		})
		httpGet(t, l.client(a), "http://192.0.2.3:8080/healthz", 200)
		if out := boxC.out.String(); !strings.Contains(out, "http://192.0.2.3:8080/") || strings.Contains(out, "stembox.local") {
			t.Errorf("box C should print its plain address and no host name:\n%s", out)
		}
	})

	t.Run("goodbye", func(t *testing.T) {
		q := newQuerier(t, l, c)
		got := make(chan []*dns.Msg)
		go func() {
			var seen []*dns.Msg
			got <- q.listen(t, 10*time.Second, func(m *dns.Msg) bool {
				seen = append(seen, m)
				rr := records(seen)
				return strings.Contains(rr, "\t0\tIN\tPTR\tRoom\\ 5._stembox._tcp.local.") && strings.Contains(rr, "stembox.local.\t0\tIN\tA")
			})
		}()
		time.Sleep(200 * time.Millisecond)
		boxA.stop(t)
		msgs := <-got
		rr := records(msgs)
		for _, want := range []string{"_stembox._tcp.local.\t0\tIN\tPTR\tRoom\\ 5._stembox._tcp.local.", "stembox.local.\t0\tIN\tA\t192.0.2.1"} {
			if !strings.Contains(rr, want) {
				t.Errorf("no goodbye %q:\n%s", want, rr)
			}
		}
		out, _, _ := l.runIn(t, c, bin, "discover", "--json", "--timeout", "2s")
		var boxes []discovery.Box
		json.Unmarshal([]byte(out), &boxes)
		if findBox(boxes, idA) != nil {
			t.Errorf("box A is still found after it stopped: %s", out)
		}
		// Box B's own browser forgot it too.
		var peers struct {
			Peers []discovery.Box `json:"peers"`
		}
		json.Unmarshal([]byte(httpGet(t, l.client(c), "http://192.0.2.2:8080/api/v1/peers", 200)), &peers)
		if findBox(peers.Peers, idA) != nil {
			t.Error("box B still lists box A after its goodbye")
		}
	})
	t.Run("same name at the same moment", func(t *testing.T) {
		// Two boxes switched on together both find the name free; then each
		// sees the other, and the one with the greater id gives way.
		d1, d2 := newDataDir(t, keyFile), newDataDir(t, keyFile)
		id1, id2 := boxID(t, d1), boxID(t, d2)
		p1 := l.start(t, "box D", a, bin, "serve", "--data-dir", d1, "--dev-packs", "", "--mdns-name", "Lab", "--mdns-host", "lab")
		p2 := l.start(t, "box E", c, bin, "serve", "--data-dir", d2, "--dev-packs", "", "--mdns-name", "Lab", "--mdns-host", "lab")
		waitFor(t, "both advertise", 20*time.Second, func() bool {
			return strings.Contains(p1.out.String(), "advertising on the LAN") && strings.Contains(p2.out.String(), "advertising on the LAN")
		})
		// Which one gives way depends on timing: when one box advertises
		// before the other probes, the later one renames; when both probe
		// at once, the greater id does. Either way the class sees two
		// boxes with two names and two host names.
		var boxes []discovery.Box
		waitFor(t, "one box renames", 90*time.Second, func() bool {
			out, _, err := l.runIn(t, b, bin, "discover", "--json", "--timeout", "2s")
			boxes = nil
			if err != nil || json.Unmarshal([]byte(out), &boxes) != nil {
				return false
			}
			one, two := findBox(boxes, id1), findBox(boxes, id2)
			if one == nil || two == nil {
				return false
			}
			names := map[string]bool{one.Name: true, two.Name: true}
			hosts := map[string]bool{one.Host: true, two.Host: true}
			// Host names are settled on their own: whichever box answered for
			// lab.local first keeps it.
			return names["Lab"] && names["Lab (2)"] && hosts["lab.local"] && hosts["lab-2.local"]
		})
	})
	t.Logf("the tests over the network took %s", time.Since(start).Round(time.Millisecond))
}

func findBox(boxes []discovery.Box, id string) *discovery.Box {
	for i := range boxes {
		if boxes[i].ID == id {
			return &boxes[i]
		}
	}
	return nil
}

// newDataDir makes a box's data directory trusting the key in keyFile.pub,
// with packs installed.
func newDataDir(t *testing.T, keyFile string, packs ...[]byte) string {
	t.Helper()
	dir := t.TempDir()
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "trusted-keys"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "trusted-keys", "test.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := box.OpenLibrary(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packs {
		if _, err := lib.Install(bytes.NewReader(p), int64(len(p)), content.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func boxID(t *testing.T, dataDir string) string {
	t.Helper()
	db, err := store.Open(context.Background(), box.DBPath(dataDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, err := db.BoxID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitHealthy(t *testing.T, l *lab, from int, base string) {
	t.Helper()
	waitFor(t, base+" answers", 20*time.Second, func() bool {
		resp, err := l.client(from).Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func httpGet(t *testing.T, c *http.Client, url string, want int) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.2000s", url, resp.StatusCode, want, body)
	}
	return string(body)
}

func httpPostForm(t *testing.T, c *http.Client, url, origin, form string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// bumpVersion copies the mini pack's source with another version.
func bumpVersion(t *testing.T, version string) string {
	dir := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), dir)
	y, _ := os.ReadFile(filepath.Join(dir, "pack.yaml"))
	os.WriteFile(filepath.Join(dir, "pack.yaml"), bytes.Replace(y, []byte("version: 1.0.0"), []byte("version: "+version), 1), 0o644)
	return dir
}

// flipByte changes one byte of a file of a built pack, keeping its
// manifest and signature: what a hostile or broken peer might serve.
func flipByte(t *testing.T, archive []byte) []byte {
	t.Helper()
	a, err := content.InspectArchive(bytes.NewReader(archive), int64(len(archive)), content.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	var buf bytes.Buffer
	err = content.WriteArchive(&buf, a.ManifestBytes, a.Signature, func(p string) (io.ReadCloser, error) {
		rc, err := zr.Open(p)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if p == a.Manifest.Files[0].Path {
			b[len(b)/2] ^= 1
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
