// Package upstreamtest makes realistic event streams for the tests and
// benchmarks of sync: a school day of a few classes, as the box records it.
package upstreamtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// packs and their exercise sets and items, as the sample packs have them.
var packs = []struct {
	id, version string
	sets        []string
	items       []int // per set
	lessons     []string
}{
	{"math-linear-equations", "1.2.0", []string{"solving", "slope", "graphs", "systems", "word-problems"}, []int{8, 6, 6, 7, 9}, []string{"solving-equations", "slope-and-intercept", "linear-function-graph"}},
	{"physics-forces-motion", "1.0.3", []string{"speed", "acceleration", "newton-laws", "gravity-friction"}, []int{8, 7, 9, 6}, []string{"speed", "acceleration", "newton-laws"}},
	{"climate-energy-change", "1.1.0", []string{"greenhouse", "energy-balance", "evidence", "central-asia"}, []int{6, 5, 7, 6}, []string{"greenhouse-effect", "sun-energy"}},
}

var genders = []string{"female", "male", "female", "male", "unspecified"}

// Gen makes events: a roster first (classes and their students), then a
// day of answers (most multiple choice, some typed), lessons completed and
// live-session answers, from several classes at once, in the box's order.
type Gen struct {
	r       *rand.Rand
	seq     int64
	wall    time.Time
	boot    string
	mono    time.Duration
	ids     *ulid.MonotonicEntropy
	classes []genClass
	queue   []wire.Event // roster events not yet handed out
}

type genClass struct {
	id       string
	grade    int
	students []string
	pack     int
	set      int
}

// NewGen returns a generator for a box with classes of size students each;
// its events start at seq 1.
func NewGen(seed uint64, classes, size int) *Gen {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	src := rand.NewChaCha8(key)
	g := &Gen{
		r:    rand.New(src),
		wall: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
		boot: fmt.Sprintf("boot-%08x-aaaa-bbbb-cccc-%012x", seed, seed),
		mono: 90 * time.Second,
	}
	g.ids = ulid.Monotonic(src, 0)
	teacher := "user:" + g.id()
	for c := 0; c < classes; c++ {
		gc := genClass{id: g.id(), grade: 7 + c%4, pack: c % len(packs)}
		g.queue = append(g.queue, g.event(teacher, event.ClassCreated{Class: gc.id, Name: fmt.Sprintf("%d%c", gc.grade, 'A'+c), Grade: gc.grade, Teacher: teacher[5:]}))
		for s := 0; s < size; s++ {
			sid := g.id()
			gc.students = append(gc.students, sid)
			g.queue = append(g.queue, g.event(teacher, event.StudentCreated{Student: sid, Class: gc.id, Gender: genders[g.r.IntN(len(genders))], BirthYear: 2013 - (gc.grade - 7)}))
		}
		g.classes = append(g.classes, gc)
	}
	return g
}

func (g *Gen) id() string {
	return ulid.MustNew(ulid.Timestamp(g.wall), g.ids).String()
}

func (g *Gen) event(actor string, p event.Payload) wire.Event {
	b, err := event.Marshal(p)
	if err != nil {
		panic(err)
	}
	g.seq++
	return wire.Event{Seq: g.seq, ID: g.id(), Kind: p.EventKind(), Actor: actor, WallMS: g.wall.UnixMilli(), BootID: g.boot, MonoMS: g.mono.Milliseconds(), Payload: b}
}

// tick moves the clocks on by a moment: a class of 30 answers every second
// or two between them.
func (g *Gen) tick() {
	d := time.Duration(50+g.r.IntN(1500)) * time.Millisecond
	g.wall = g.wall.Add(d)
	g.mono += d
}

// Next returns the next event.
func (g *Gen) Next() wire.Event {
	if len(g.queue) > 0 {
		ev := g.queue[0]
		g.queue = g.queue[1:]
		return ev
	}
	g.tick()
	c := &g.classes[g.r.IntN(len(g.classes))]
	p := packs[c.pack]
	learner := "student:" + c.students[g.r.IntN(len(c.students))]
	if g.r.IntN(20) == 0 { // now and then the class moves on to another set
		c.set = g.r.IntN(len(p.sets))
	}
	set, item := p.sets[c.set], fmt.Sprintf("%s-%d", p.sets[c.set], 1+g.r.IntN(p.items[c.set]))
	switch n := g.r.IntN(100); {
	case n < 7:
		return g.event(learner, event.LessonCompleted{Pack: p.id, Version: p.version, Lesson: p.lessons[g.r.IntN(len(p.lessons))]})
	case n < 12:
		correct := g.r.IntN(3) > 0
		return g.event(learner, event.LiveResponse{Session: "01JLIVESESSION00000000000" + fmt.Sprint(c.grade%10), Question: g.r.IntN(10), Player: fmt.Sprintf("p%d", 1+g.r.IntN(30)),
			Item: item, Kind: "choice", Pack: p.id, PackVersion: p.version, Set: set, Lang: "tg",
			Choices: []int{g.r.IntN(4)}, Correct: correct, Score: b2f(correct), Points: 500 + g.r.IntN(500), ElapsedMS: int64(2000 + g.r.IntN(20000))})
	}
	return g.Answer(learner, p.id, p.version, set, item)
}

// Answer returns an answer.submitted event as the box records one: most
// are a choice, some a typed number; two in three are right. A third of
// the ids are made by the phone that queued the answer offline (entirely
// random), the rest by the box (monotonic).
func (g *Gen) Answer(learner, pack, version, set, item string) wire.Event {
	a := event.Answer{Pack: pack, PackVersion: version, Set: set, Item: item, Lang: []string{"tg", "tg", "ru", "en"}[g.r.IntN(4)]}
	if g.r.IntN(4) == 0 {
		a.Text = fmt.Sprint(g.r.IntN(30) - 5)
	} else {
		a.Choices = []int{g.r.IntN(4)}
	}
	a.Correct = g.r.IntN(3) > 0
	a.Score = b2f(a.Correct)
	ev := g.event(learner, a)
	if g.r.IntN(3) == 0 {
		var u ulid.ULID
		u.SetTime(ulid.Timestamp(g.wall))
		for i := 6; i < 16; i++ {
			u[i] = byte(g.r.UintN(256))
		}
		ev.ID = u.String()
	}
	return ev
}

// Events returns the next n events.
func (g *Gen) Events(n int) []wire.Event {
	out := make([]wire.Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// Reboot starts a new boot: the clock since boot starts again, and the
// wall clock jumps back as a Raspberry Pi's does without a real-time clock.
func (g *Gen) Reboot() {
	g.boot = fmt.Sprintf("boot-%08x-%04x-bbbb-cccc-%012x", g.seq, g.r.IntN(1<<16), g.r.Uint64()&0xffffffffffff)
	g.mono = 25 * time.Second
	g.wall = g.wall.Add(-72 * time.Hour)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Box writes a school's events through the box's own store, as its web
// handlers do: a roster, then answers (a third with ids made by phones)
// and lessons completed, from several writers at once.
type Box struct {
	DB       *store.DB
	students []string
	r        *rand.Rand
}

// NewBox makes classes of size students in db.
func NewBox(ctx context.Context, db *store.DB, classes, size int, seed uint64) (*Box, error) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := &Box{DB: db, r: rand.New(rand.NewChaCha8(key))}
	for c := 0; c < classes; c++ {
		cl, err := db.CreateClass(ctx, "user:teacher", fmt.Sprintf("%d%c", 7+c%4, 'A'+c), 7+c%4, "")
		if err != nil {
			return nil, err
		}
		var ns []school.NewStudent
		for s := 0; s < size; s++ {
			ns = append(ns, school.NewStudent{Name: fmt.Sprintf("Student %d-%d", c, s), Gender: genders[b.r.IntN(len(genders))]})
		}
		sts, err := db.AddStudents(ctx, "user:teacher", cl.ID, ns)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			b.students = append(b.students, st.LearnerID())
		}
	}
	return b, nil
}

// Write writes n answers and lessons with the given number of writers,
// each with a random source of its own.
func (b *Box) Write(ctx context.Context, n, writers int) error {
	errs := make(chan error, writers)
	per := n / writers
	for w := 0; w < writers; w++ {
		count := per
		if w == writers-1 {
			count = n - per*(writers-1)
		}
		seed := b.r.Uint64()
		go func() {
			r := rand.New(rand.NewPCG(seed, 1))
			for i := 0; i < count; i++ {
				p := packs[r.IntN(len(packs))]
				learner := b.students[r.IntN(len(b.students))]
				var err error
				if r.IntN(12) == 0 {
					err = b.DB.CompleteLesson(ctx, learner, p.id, p.version, p.lessons[r.IntN(len(p.lessons))])
				} else {
					s := r.IntN(len(p.sets))
					a := event.Answer{Learner: learner, Pack: p.id, PackVersion: p.version, Set: p.sets[s], Item: fmt.Sprintf("%s-%d", p.sets[s], 1+r.IntN(p.items[s])), Lang: "tg", Choices: []int{r.IntN(4)}}
					a.Correct = r.IntN(3) > 0
					a.Score = b2f(a.Correct)
					if r.IntN(3) == 0 {
						a.ID = ulid.MustNew(ulid.Now(), ulid.DefaultEntropy()).String()
					}
					_, err = b.DB.RecordAnswer(ctx, a)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
