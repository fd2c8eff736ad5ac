package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/oklog/ulid/v2"
)

// reader reads the decoded bytes of a batch, failing (once) at the first
// byte that does not fit.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) string(max int) string {
	n := r.uvarint()
	if n > uint64(max) {
		r.fail("a string of %d bytes is longer than %d", n, max)
		return ""
	}
	return string(r.bytes(int(n)))
}

// count reads a count no larger than max.
func (r *reader) count(max int, what string) int {
	n := r.uvarint()
	if n > uint64(max) {
		r.fail("%d %s, more than %d", n, what, max)
		return 0
	}
	return int(n)
}

func (r *reader) table(max, maxLen int, what string) []string {
	n := r.count(max, what)
	out := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.string(maxLen))
	}
	return out
}

// ref reads a reference into a table of size m; -1 once anything failed.
func (r *reader) ref(m int, what string) int {
	v := r.uvarint()
	if r.err != nil {
		return -1
	}
	if v >= uint64(m) {
		r.fail("%s reference %d out of range", what, v)
		return -1
	}
	return int(v)
}

// pick is list[i], or "" for a failed reference.
func pick(list []string, i int) string {
	if i < 0 || i >= len(list) {
		return ""
	}
	return list[i]
}

func decode(raw []byte, lim Limits) (Batch, error) {
	v2 := bytes.HasPrefix(raw, magicV2)
	if !v2 && !bytes.HasPrefix(raw, magic) {
		return Batch{}, fmt.Errorf("%w: not a stembox event batch (or a newer format)", ErrMalformed)
	}
	r := &reader{b: raw[len(magic):]}
	var b Batch
	b.BoxID = r.string(maxBoxLen)
	if v2 {
		b.Epoch = r.string(MaxEpochLen)
		base := r.uvarint()
		if base > 1<<62 {
			r.fail("epoch base out of range")
		}
		b.Base = int64(base)
		b.Parent = r.string(MaxEpochLen)
		if r.err == nil && b.Epoch == "" {
			r.fail("a version 2 batch names its epoch")
		}
		if err := b.Stream.Check(); r.err == nil && err != nil {
			r.fail("%v", err)
		}
	}
	b.Clock.WallMS = r.varint()
	b.Clock.BootID = r.string(maxBootLen)
	b.Clock.MonoMS = r.varint()
	n64 := r.uvarint()
	if r.err == nil && n64 > uint64(lim.MaxEvents) {
		return Batch{}, fmt.Errorf("%w: %d events, more than the %d a batch may hold", ErrTooLarge, n64, lim.MaxEvents)
	}
	n := int(n64)
	kinds := r.table(n, maxKindLen, "kinds")
	actors := r.table(n, maxActorLen, "actors")
	boots := r.table(n, maxBootLen, "boot ids")
	nShapes := r.count(n, "shapes")
	shapes := make([][]string, 0, nShapes)
	for i := 0; i < nShapes && r.err == nil; i++ {
		shapes = append(shapes, r.table(256, lim.MaxPayload, "keys"))
	}
	if r.err != nil {
		return Batch{}, r.err
	}
	if b.BoxID == "" {
		return Batch{}, fmt.Errorf("%w: no box id", ErrMalformed)
	}
	evs := make([]Event, n)
	for i := range evs {
		if i == 0 {
			evs[i].Seq = r.varint()
		} else {
			d := r.uvarint()
			if d > 1<<40 {
				r.fail("sequence gap too large")
			}
			evs[i].Seq = evs[i-1].Seq + int64(d) + 1
		}
	}
	for i := range evs {
		evs[i].Kind = pick(kinds, r.ref(len(kinds), "kind"))
	}
	for i := range evs {
		evs[i].Actor = pick(actors, r.ref(len(actors), "actor"))
	}
	for i := range evs {
		evs[i].BootID = pick(boots, r.ref(len(boots), "boot"))
	}
	var prev int64
	for i := range evs {
		prev += r.varint()
		evs[i].WallMS = prev
	}
	prev = 0
	for i := range evs {
		prev += r.varint()
		evs[i].MonoMS = prev
	}
	shapeOf := make([]int, n)
	perShape := make([]int, len(shapes))
	for i := range evs {
		shapeOf[i] = r.ref(len(shapes)+1, "shape") - 1
		if shapeOf[i] >= 0 {
			perShape[shapeOf[i]]++
		}
	}
	if r.err != nil {
		return Batch{}, r.err
	}
	// Values, per shape and key, in event order.
	values := make([][][]string, len(shapes))
	for s, keys := range shapes {
		values[s] = make([][]string, len(keys))
		for j := range keys {
			col := make([]string, perShape[s])
			switch r.byte() {
			case 0:
				dict := r.table(perShape[s], lim.MaxPayload, "values")
				for k := range col {
					col[k] = pick(dict, r.ref(len(dict), "value"))
				}
			case 1:
				for k := range col {
					col[k] = r.string(lim.MaxPayload)
				}
			default:
				r.fail("unknown value column mode")
			}
			values[s][j] = col
		}
	}
	next := make([]int, len(shapes))
	for i := range evs {
		s := shapeOf[i]
		if s < 0 {
			evs[i].Payload = []byte(r.string(lim.MaxPayload))
			continue
		}
		vals := make([]string, len(shapes[s]))
		for j := range vals {
			vals[j] = values[s][j][next[s]]
		}
		next[s]++
		evs[i].Payload = joinObject(shapes[s], vals)
	}
	modes := r.bytes(n)
	if r.err != nil {
		return Batch{}, r.err
	}
	times := make([]int64, n)
	prev = 0
	for i := range evs {
		switch modes[i] {
		case 0:
			prev += r.varint()
			if prev < 0 || prev > int64(ulid.MaxTime()) {
				r.fail("id time out of range")
			}
			times[i] = prev
		case 1:
		default:
			r.fail("unknown id mode")
		}
	}
	for i := range evs {
		if modes[i] == 1 {
			evs[i].ID = r.string(maxIDLen)
		}
	}
	for i := range evs {
		if modes[i] != 0 || r.err != nil {
			continue
		}
		var u ulid.ULID
		if err := u.SetTime(uint64(times[i])); err != nil {
			r.fail("id time out of range")
			break
		}
		copy(u[6:], r.bytes(10))
		evs[i].ID = u.String()
	}
	if r.err != nil {
		return Batch{}, r.err
	}
	if len(r.b) != 0 {
		return Batch{}, fmt.Errorf("%w: %d bytes after the last column", ErrMalformed, len(r.b))
	}
	for i := range evs {
		if err := checkEvent(evs[i]); err != nil {
			return Batch{}, fmt.Errorf("%w: event %d: %v", ErrMalformed, evs[i].Seq, err)
		}
		if evs[i].Seq <= b.Base {
			return Batch{}, fmt.Errorf("%w: event %d is not after the base %d of epoch %s", ErrMalformed, evs[i].Seq, b.Base, b.Epoch)
		}
		if len(evs[i].Payload) > lim.MaxPayload {
			return Batch{}, fmt.Errorf("%w: event %d's payload is more than %d bytes", ErrTooLarge, evs[i].Seq, lim.MaxPayload)
		}
	}
	b.Events = evs
	return b, nil
}
