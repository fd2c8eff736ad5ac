package wire_test

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

func roundTrip(t *testing.T, b wire.Batch) []byte {
	t.Helper()
	data, err := wire.Marshal(b)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	got, err := wire.Unmarshal(data, wire.DefaultLimits)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if len(b.Events) == 0 {
		b.Events = []wire.Event{}
	}
	if !reflect.DeepEqual(got, b) {
		for i := range b.Events {
			if i < len(got.Events) && !reflect.DeepEqual(got.Events[i], b.Events[i]) {
				t.Fatalf("event %d:\n got %+v (payload %s)\nwant %+v (payload %s)", i, got.Events[i], got.Events[i].Payload, b.Events[i], b.Events[i].Payload)
			}
		}
		t.Fatalf("round trip changed the batch:\n got %+v\nwant %+v", got, b)
	}
	return data
}

func TestRoundTripRealistic(t *testing.T) {
	g := upstreamtest.NewGen(1, 4, 30)
	evs := g.Events(3000)
	g.Reboot()
	evs = append(evs, g.Events(500)...)
	roundTrip(t, wire.Batch{BoxID: "01BOX", Clock: wire.Clock{WallMS: 1700000000000, BootID: "b", MonoMS: 12345}, Events: evs})
}

func TestRoundTripOddPayloadsAndIDs(t *testing.T) {
	payloads := []string{
		`{}`, `[]`, `1`, `"x"`, `null`,
		`{"a":1}`, `{ "a": 1 }`, `{"a":{"b":[1,2,{"c":"}"}]},"d":"\"q\\"}`,
		`{"text":"Салом, дунё","n":-1.5e3,"t":true,"f":false,"z":null}`,
		`{"a":1,"a":2}`, `{"k\"ey":"v"}`, `{"a":[]}`, `{"a":""}`,
	}
	var evs []wire.Event
	for i, p := range payloads {
		id := "01HZY3J2Q9K8S0M6V4T7B5N1XC"
		switch i % 3 {
		case 1:
			id = "not-a-ulid-" + string(rune('a'+i))
		case 2:
			id = strings.ToLower("01HZY3J2Q9K8S0M6V4T7B5N1X" + string(rune('A'+i))) // lower case: not canonical
		}
		evs = append(evs, wire.Event{Seq: int64(10 + i*3), ID: id, Kind: "k", Actor: "", WallMS: -int64(i) * 1000, BootID: "", MonoMS: int64(i), Payload: []byte(p)})
	}
	roundTrip(t, wire.Batch{BoxID: "box", Events: evs})
	roundTrip(t, wire.Batch{BoxID: "box"})
}

func TestMarshalRefusesBadEvents(t *testing.T) {
	ok := wire.Event{Seq: 1, ID: "x", Kind: "k", Payload: []byte(`{}`)}
	bad := map[string][]wire.Event{
		"zero seq":     {{Seq: 0, ID: "x", Kind: "k", Payload: []byte(`{}`)}},
		"out of order": {ok, ok},
		"no id":        {{Seq: 1, Kind: "k", Payload: []byte(`{}`)}},
		"no kind":      {{Seq: 1, ID: "x", Payload: []byte(`{}`)}},
		"bad json":     {{Seq: 1, ID: "x", Kind: "k", Payload: []byte(`{`)}},
	}
	for name, evs := range bad {
		if _, err := wire.Marshal(wire.Batch{BoxID: "b", Events: evs}); err == nil {
			t.Errorf("%s: marshal succeeded, want an error", name)
		}
	}
}

// TestUnmarshalNeverPanics feeds damaged batches to the decoder: each must
// be refused with ErrMalformed or ErrTooLarge, or decode to events that
// are themselves valid, and none may panic.
func TestUnmarshalNeverPanics(t *testing.T) {
	g := upstreamtest.NewGen(2, 2, 10)
	raw := rawBatch(t, wire.Batch{BoxID: "box", Events: g.Events(100)})
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 600; i++ {
		b := bytes.Clone(raw)
		switch i % 3 {
		case 0:
			b = b[:r.IntN(len(b))]
		case 1:
			for k := 0; k < 1+r.IntN(4); k++ {
				b[4+r.IntN(len(b)-4)] ^= byte(1 + r.IntN(255))
			}
		case 2:
			b = append(b, byte(r.IntN(256)))
		}
		_, err := wire.Unmarshal(gz(b), wire.DefaultLimits)
		if err != nil && !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrTooLarge) {
			t.Fatalf("damaged batch: error %v is neither malformed nor too large", err)
		}
	}
	if _, err := wire.Unmarshal([]byte("not gzip"), wire.DefaultLimits); !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("not gzip: got %v, want ErrMalformed", err)
	}
}

func TestUnmarshalLimits(t *testing.T) {
	g := upstreamtest.NewGen(3, 1, 5)
	data, err := wire.Marshal(wire.Batch{BoxID: "box", Events: g.Events(100)})
	if err != nil {
		t.Fatal(err)
	}
	lim := wire.DefaultLimits
	lim.MaxEvents = 99
	if _, err := wire.Unmarshal(data, lim); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("100 events with a limit of 99: got %v, want ErrTooLarge", err)
	}
	lim = wire.DefaultLimits
	lim.MaxDecoded = 100
	if _, err := wire.Unmarshal(data, lim); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("decoded limit 100 bytes: got %v, want ErrTooLarge", err)
	}
	// A zip bomb: megabytes of zeros in a few kilobytes.
	bomb := gz(append([]byte("SBE\x01"), make([]byte, 8<<20)...))
	lim = wire.DefaultLimits
	lim.MaxDecoded = 4 << 20
	if _, err := wire.Unmarshal(bomb, lim); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("zip bomb: got %v, want ErrTooLarge", err)
	}
}

// TestBytesPerAnswerEvent measures the encoding against the target: at
// most 40 bytes per answer event after compression, in batches of the size
// a box sends, for a realistic mix and for answers alone.
func TestBytesPerAnswerEvent(t *testing.T) {
	const batch = 2000
	g := upstreamtest.NewGen(4, 4, 30)
	for range 4*30 + 4 { // skip the roster
		g.Next()
	}
	var mixBytes, mixEvents, jsonBytes int
	for range 4 {
		evs := g.Events(batch)
		data, err := wire.Marshal(wire.Batch{BoxID: "01JBOXBOXBOXBOXBOXBOXBOXBO", Clock: wire.Clock{WallMS: 1, BootID: "b", MonoMS: 1}, Events: evs})
		if err != nil {
			t.Fatal(err)
		}
		mixBytes += len(data)
		mixEvents += len(evs)
		jsonBytes += naiveJSONGzip(evs)
	}
	var answers []wire.Event
	for len(answers) < batch*2 {
		if ev := g.Next(); ev.Kind == "answer.submitted" {
			answers = append(answers, ev)
		}
	}
	var ansBytes int
	for i := 0; i < len(answers); i += batch {
		evs := answers[i : i+batch]
		for j := range evs {
			evs[j].Seq = int64(j + 1)
		}
		data, err := wire.Marshal(wire.Batch{BoxID: "01JBOXBOXBOXBOXBOXBOXBOXBO", Events: evs})
		if err != nil {
			t.Fatal(err)
		}
		ansBytes += len(data)
	}
	perMix := float64(mixBytes) / float64(mixEvents)
	perAnswer := float64(ansBytes) / float64(len(answers))
	t.Logf("bytes per event on the wire: %.1f (realistic mix), %.1f (answers only); plain JSON lines + gzip: %.1f", perMix, perAnswer, float64(jsonBytes)/float64(mixEvents))
	if perAnswer > 40 || perMix > 40 {
		t.Errorf("bytes per event: %.1f (mix), %.1f (answers), want at most 40", perMix, perAnswer)
	}
}

func naiveJSONGzip(evs []wire.Event) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	for _, ev := range evs {
		zw.Write([]byte(`{"seq":` + itoa(ev.Seq) + `,"id":"` + ev.ID + `","kind":"` + ev.Kind + `","actor":"` + ev.Actor + `","wall_ms":` + itoa(ev.WallMS) + `,"boot_id":"` + ev.BootID + `","mono_ms":` + itoa(ev.MonoMS) + `,"payload":`))
		zw.Write(ev.Payload)
		zw.Write([]byte("}\n"))
	}
	zw.Close()
	return buf.Len()
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// rawBatch returns the uncompressed encoding of b.
func rawBatch(t testing.TB, b wire.Batch) []byte {
	t.Helper()
	data, err := wire.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestBundleAndAck(t *testing.T) {
	cred := wire.NewCredential(wire.BoxPrefix)
	key := wire.BundleKey(cred.Secret)
	pub := key.Public().(ed25519.PublicKey)
	g := upstreamtest.NewGen(5, 1, 3)
	batch, err := wire.Marshal(wire.Batch{BoxID: "box", Events: g.Events(50)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	h := wire.BundleHeader{BoxID: "box", Credential: cred.ID, FirstSeq: 1, LastSeq: 50, Events: 50, Packs: map[string]string{"p": "1.0.0"}}
	if err := wire.WriteBundle(&buf, h, [][]byte{batch, batch}, key); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	if !wire.IsBundle(file) {
		t.Fatal("IsBundle is false for a bundle")
	}
	b, err := wire.ReadBundle(bytes.NewReader(file), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(pub); err != nil {
		t.Fatalf("verify with the box's key: %v", err)
	}
	if len(b.Batches) != 2 || !bytes.Equal(b.Batches[1], batch) {
		t.Fatalf("bundle holds %d batches, want the 2 written", len(b.Batches))
	}
	other := wire.BundleKey(wire.NewCredential(wire.BoxPrefix).Secret).Public().(ed25519.PublicKey)
	if err := b.Verify(other); !errors.Is(err, wire.ErrBadSignature) {
		t.Errorf("verify with another box's key: got %v, want ErrBadSignature", err)
	}
	// Any byte changed is caught, in the header or in the events.
	for _, at := range []int{20, 40, len(file) - 10} {
		bad := bytes.Clone(file)
		bad[at] ^= 1
		b, err := wire.ReadBundle(bytes.NewReader(bad), 1<<20)
		if err == nil {
			err = b.Verify(pub)
		}
		if err == nil {
			t.Errorf("a bundle with byte %d changed was accepted", at)
		}
	}
	if _, err := wire.ReadBundle(bytes.NewReader(file[:len(file)-1]), 1<<20); err == nil {
		t.Error("a truncated bundle was accepted")
	}

	_, hubKey, _ := ed25519.GenerateKey(nil)
	hubPub := hubKey.Public().(ed25519.PublicKey)
	buf.Reset()
	ack := wire.Ack{BoxID: "box", Credential: cred.ID, Bundle: b.SHA256(), AckedSeq: 50, Stored: 50, HubMS: 7,
		Streams: []wire.StreamAck{{Epoch: "", AckedSeq: 50, AckedID: "x"}}}
	if err := wire.WriteAck(&buf, ack, hubKey); err != nil {
		t.Fatal(err)
	}
	got, err := wire.ReadAck(bytes.NewReader(buf.Bytes()), hubPub)
	if err != nil || !reflect.DeepEqual(got, ack) {
		t.Fatalf("ReadAck = %+v, %v; want %+v", got, err, ack)
	}
	bad := bytes.Replace(buf.Bytes(), []byte(`"acked_seq":50`), []byte(`"acked_seq":90`), 1)
	if _, err := wire.ReadAck(bytes.NewReader(bad), hubPub); !errors.Is(err, wire.ErrBadSignature) {
		t.Errorf("altered ack: got %v, want ErrBadSignature", err)
	}
}

func TestCredential(t *testing.T) {
	c := wire.NewCredential(wire.BoxPrefix)
	got, err := wire.ParseCredential(c.String())
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("ParseCredential(%q) = %+v, %v", c.String(), got, err)
	}
	for _, bad := range []string{"", "sbx1", "sbx1.x.y", "abc1." + c.ID + ".AAAA", c.String() + "x", strings.Replace(c.String(), ".", "..", 1)} {
		if _, err := wire.ParseCredential(bad); err == nil {
			t.Errorf("ParseCredential(%q) succeeded", bad)
		}
	}
}
