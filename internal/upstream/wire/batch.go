// Package wire is what a box and the hub say to each other: the compact
// encoding of a batch of events, the signed sneakernet bundle and its
// acknowledgement, box credentials, and the JSON bodies of the sync API.
// It does no I/O beyond the readers and writers it is given, so the box
// (internal/upstream) and the hub (internal/hub) share one definition.
// docs/sync-protocol.md describes every byte.
package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/oklog/ulid/v2"
)

// MediaType is the Content-Type of an encoded batch (it is sent with
// Content-Encoding: gzip).
const MediaType = "application/vnd.stembox.events"

// magic starts every decoded batch: "SBE" and the format version: 1 for a
// batch of epoch "" (every box before epochs), 2 for a batch that names its
// epoch (see Stream).
var (
	magic   = []byte{'S', 'B', 'E', 1}
	magicV2 = []byte{'S', 'B', 'E', 2}
)

// Event is an event as it travels: the fields of a box's events table.
type Event struct {
	Seq     int64  // box-local, gap-free, > 0
	ID      string // global id (a ULID on every box we make)
	Kind    string
	Actor   string
	WallMS  int64  // the box's wall clock, unix ms (may be wrong)
	BootID  string // the box's boot when the event was written
	MonoMS  int64  // ms since that boot
	Payload []byte // a JSON object
}

// Clock is a reading of a box's clocks, sent with every batch so that the
// hub can estimate how wrong the box's wall clock is.
type Clock struct {
	WallMS int64  `json:"wall_ms"`
	BootID string `json:"boot_id"`
	MonoMS int64  `json:"mono_ms"`
}

// Stream names the line of history a batch's events belong to. A box's
// events form one stream, epoch "", until the box finds that the hub holds
// other events than its own at the sequence numbers it is about to use (it
// was restored from a backup): it then goes on under a new epoch, whose
// first event follows Base (its events before that are those of the Parent
// epoch's line up to Base). The hub keeps every epoch of a box apart, so the
// old and the new stream are both kept, each event once.
type Stream struct {
	Epoch  string // "" for a box's first stream; else a random id (a ULID)
	Base   int64  // the epoch's events have seq > Base; 0 for epoch ""
	Parent string // the epoch whose line the epoch goes on from, after Base
}

// MaxEpochLen bounds an epoch's name.
const MaxEpochLen = 64

// Check reports whether the stream is well formed.
func (s Stream) Check() error {
	switch {
	case s.Epoch == "" && (s.Base != 0 || s.Parent != ""):
		return fmt.Errorf("epoch \"\" starts at 0 and has no parent")
	case len(s.Epoch) > MaxEpochLen || len(s.Parent) > MaxEpochLen:
		return fmt.Errorf("an epoch is longer than %d bytes", MaxEpochLen)
	case s.Base < 0:
		return fmt.Errorf("epoch base %d is negative", s.Base)
	case s.Epoch != "" && s.Parent == s.Epoch:
		return fmt.Errorf("epoch %s is its own parent", s.Epoch)
	}
	return nil
}

// Batch is a run of a box's events of one stream, in sequence order.
type Batch struct {
	BoxID string
	Stream
	Clock  Clock // when the batch was made
	Events []Event
}

// Limits bound what a decoder accepts.
type Limits struct {
	MaxEvents  int   // events in one batch
	MaxDecoded int64 // bytes once decompressed
	MaxPayload int   // bytes of one event's payload
}

// DefaultLimits are the hub's: a box sends at most 2,000 events a batch.
var DefaultLimits = Limits{MaxEvents: 10000, MaxDecoded: 64 << 20, MaxPayload: 64 << 10}

// Errors of decoding. Both mean the batch is refused whole.
var (
	ErrMalformed = errors.New("malformed batch")
	ErrTooLarge  = errors.New("batch too large")
)

// Lengths of the short strings, checked both ways.
const (
	maxIDLen    = 64
	maxKindLen  = 64
	maxActorLen = 128
	maxBootLen  = 64
	maxBoxLen   = 64
)

// Marshal encodes b compactly and compresses it with gzip.
//
// The encoding is columnar: every field of every event is written in a
// column of its own, so that similar bytes sit together and compress well.
// Sequence numbers, clocks and ULID timestamps are deltas; kinds, actors
// and boot ids are references into string tables; a payload that is a flat
// JSON object as the box writes it ({"k":v,…}, no spaces) is split into its
// key list (a "shape", stored once) and its values, each key's values in a
// column of their own, dictionary-coded where they repeat. The 80 random
// bits of each ULID are written last, raw, as nothing compresses them.
// Decoding rebuilds every event byte for byte.
func Marshal(b Batch) ([]byte, error) {
	raw, err := encode(b)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("wire: compress: %w", err)
	}
	return out.Bytes(), nil
}

// Unmarshal decompresses and decodes a batch made by Marshal, checking
// every length against lim and every payload for valid JSON.
func Unmarshal(data []byte, lim Limits) (Batch, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return Batch{}, fmt.Errorf("%w: not gzip (%v)", ErrMalformed, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, lim.MaxDecoded+1))
	if err != nil {
		return Batch{}, fmt.Errorf("%w: decompress: %v", ErrMalformed, err)
	}
	if int64(len(raw)) > lim.MaxDecoded {
		return Batch{}, fmt.Errorf("%w: it expands beyond %d bytes", ErrTooLarge, lim.MaxDecoded)
	}
	return decode(raw, lim)
}

// columns are the byte streams of an encoding, in the order written.
type columns struct {
	head, seq, kind, actor, boot, wall, mono, idMode, idTime, idRaw, shape, rawPayload bytes.Buffer
	values                                                                             map[int][]*valueColumn // per shape, per key
	idRand                                                                             bytes.Buffer
}

type strTable struct {
	index map[string]uint64
	list  []string
}

func (t *strTable) ref(s string) uint64 {
	if t.index == nil {
		t.index = map[string]uint64{}
	}
	if i, ok := t.index[s]; ok {
		return i
	}
	i := uint64(len(t.list))
	t.index[s] = i
	t.list = append(t.list, s)
	return i
}

// valueColumn holds one payload key's values for the events of one shape.
type valueColumn struct {
	dict strTable
	refs []uint64
	vals []string
}

func putUvarint(b *bytes.Buffer, v uint64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], v)])
}

func putVarint(b *bytes.Buffer, v int64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutVarint(tmp[:], v)])
}

func putString(b *bytes.Buffer, s string) {
	putUvarint(b, uint64(len(s)))
	b.WriteString(s)
}

func putTable(b *bytes.Buffer, t *strTable) {
	putUvarint(b, uint64(len(t.list)))
	for _, s := range t.list {
		putString(b, s)
	}
}

func encode(b Batch) ([]byte, error) {
	if len(b.BoxID) == 0 || len(b.BoxID) > maxBoxLen || len(b.Clock.BootID) > maxBootLen {
		return nil, fmt.Errorf("wire: box id or boot id is empty or too long")
	}
	if err := b.Stream.Check(); err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	var c columns
	c.values = map[int][]*valueColumn{}
	var kinds, actors, boots, shapes strTable
	var shapeKeys [][]string
	var prevSeq, prevWall, prevMono, prevIDTime int64
	for i, ev := range b.Events {
		if err := checkEvent(ev); err != nil {
			return nil, fmt.Errorf("wire: event %d: %w", ev.Seq, err)
		}
		if ev.Seq <= b.Base {
			return nil, fmt.Errorf("wire: event %d is not after the base %d of epoch %s", ev.Seq, b.Base, b.Epoch)
		}
		if i == 0 {
			putVarint(&c.seq, ev.Seq)
		} else {
			if ev.Seq <= prevSeq {
				return nil, fmt.Errorf("wire: events are not in sequence order (%d after %d)", ev.Seq, prevSeq)
			}
			putUvarint(&c.seq, uint64(ev.Seq-prevSeq-1))
		}
		prevSeq = ev.Seq
		putUvarint(&c.kind, kinds.ref(ev.Kind))
		putUvarint(&c.actor, actors.ref(ev.Actor))
		putUvarint(&c.boot, boots.ref(ev.BootID))
		putVarint(&c.wall, ev.WallMS-prevWall)
		prevWall = ev.WallMS
		putVarint(&c.mono, ev.MonoMS-prevMono)
		prevMono = ev.MonoMS

		if u, err := ulid.ParseStrict(ev.ID); err == nil && u.String() == ev.ID {
			c.idMode.WriteByte(0)
			t := int64(u.Time())
			putVarint(&c.idTime, t-prevIDTime)
			prevIDTime = t
			c.idRand.Write(u[6:])
		} else {
			c.idMode.WriteByte(1)
			putString(&c.idRaw, ev.ID)
		}

		keys, vals, ok := splitObject(ev.Payload)
		if !ok {
			putUvarint(&c.shape, 0)
			putString(&c.rawPayload, string(ev.Payload))
			continue
		}
		sk := strings.Join(keys, "\x00")
		s := int(shapes.ref(sk))
		if s == len(shapeKeys) {
			shapeKeys = append(shapeKeys, keys)
			cols := make([]*valueColumn, len(keys))
			for j := range cols {
				cols[j] = &valueColumn{}
			}
			c.values[s] = cols
		}
		putUvarint(&c.shape, uint64(s+1))
		for j, v := range vals {
			col := c.values[s][j]
			col.vals = append(col.vals, v)
			col.refs = append(col.refs, col.dict.ref(v))
		}
	}

	var out bytes.Buffer
	if b.Epoch == "" {
		out.Write(magic) // as every box wrote before epochs: older hubs read it
		putString(&out, b.BoxID)
	} else {
		out.Write(magicV2)
		putString(&out, b.BoxID)
		putString(&out, b.Epoch)
		putUvarint(&out, uint64(b.Base))
		putString(&out, b.Parent)
	}
	putVarint(&out, b.Clock.WallMS)
	putString(&out, b.Clock.BootID)
	putVarint(&out, b.Clock.MonoMS)
	putUvarint(&out, uint64(len(b.Events)))
	putTable(&out, &kinds)
	putTable(&out, &actors)
	putTable(&out, &boots)
	putUvarint(&out, uint64(len(shapeKeys)))
	for _, keys := range shapeKeys {
		putUvarint(&out, uint64(len(keys)))
		for _, k := range keys {
			putString(&out, k)
		}
	}
	for _, col := range []*bytes.Buffer{&c.seq, &c.kind, &c.actor, &c.boot, &c.wall, &c.mono, &c.shape} {
		out.Write(col.Bytes())
	}
	for s := range shapeKeys {
		for _, col := range c.values[s] {
			// Dictionary-code a column whose values repeat; write one with
			// mostly distinct values (ids, free text) plainly.
			if len(col.dict.list)*2 <= len(col.vals) {
				out.WriteByte(0)
				putTable(&out, &col.dict)
				for _, r := range col.refs {
					putUvarint(&out, r)
				}
			} else {
				out.WriteByte(1)
				for _, v := range col.vals {
					putString(&out, v)
				}
			}
		}
	}
	out.Write(c.rawPayload.Bytes())
	out.Write(c.idMode.Bytes())
	out.Write(c.idTime.Bytes())
	out.Write(c.idRaw.Bytes())
	out.Write(c.idRand.Bytes())
	return out.Bytes(), nil
}

func checkEvent(ev Event) error {
	switch {
	case ev.Seq <= 0:
		return fmt.Errorf("sequence number %d is not positive", ev.Seq)
	case ev.ID == "" || len(ev.ID) > maxIDLen:
		return fmt.Errorf("id %q is empty or longer than %d bytes", ev.ID, maxIDLen)
	case ev.Kind == "" || len(ev.Kind) > maxKindLen:
		return fmt.Errorf("kind %q is empty or longer than %d bytes", ev.Kind, maxKindLen)
	case len(ev.Actor) > maxActorLen:
		return fmt.Errorf("actor is longer than %d bytes", maxActorLen)
	case len(ev.BootID) > maxBootLen:
		return fmt.Errorf("boot id is longer than %d bytes", maxBootLen)
	case !json.Valid(ev.Payload):
		return fmt.Errorf("payload is not valid JSON")
	}
	return nil
}

// splitObject splits a flat JSON object written without spaces into its
// keys (as they appear between the quotes) and raw values. ok is false for
// anything it cannot rebuild byte for byte, which is then sent as it is.
func splitObject(p []byte) (keys, vals []string, ok bool) {
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return nil, nil, false
	}
	i := 1
	if len(p) == 2 {
		return []string{}, []string{}, true
	}
	for {
		if i >= len(p) || p[i] != '"' {
			return nil, nil, false
		}
		end := scanString(p, i)
		if end < 0 || end >= len(p) || p[end] != ':' {
			return nil, nil, false
		}
		keys = append(keys, string(p[i+1:end-1]))
		start := end + 1
		stop := scanValue(p, start)
		if stop <= start || stop >= len(p) {
			return nil, nil, false
		}
		vals = append(vals, string(p[start:stop]))
		if p[stop] == '}' {
			if stop != len(p)-1 {
				return nil, nil, false
			}
			break
		}
		if p[stop] != ',' {
			return nil, nil, false
		}
		i = stop + 1
	}
	if !bytes.Equal(joinObject(keys, vals), p) {
		return nil, nil, false
	}
	return keys, vals, true
}

// scanString returns the index just past the JSON string starting at p[i]
// (a '"'), or -1.
func scanString(p []byte, i int) int {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// scanValue returns the index just past the JSON value starting at p[i]:
// a string, an object or array (brackets counted, strings skipped), or a
// literal or number (up to the next ',' or '}').
func scanValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return scanString(p, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(p); j++ {
			switch p[j] {
			case '"':
				e := scanString(p, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(p); j++ {
		if p[j] == ',' || p[j] == '}' {
			return j
		}
	}
	return -1
}

func joinObject(keys, vals []string) []byte {
	n := 2
	for i := range keys {
		n += len(keys[i]) + len(vals[i]) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, keys[i]...)
		b = append(b, '"', ':')
		b = append(b, vals[i]...)
	}
	return append(b, '}')
}
