package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/studio"
)

func setDoc(prompts ...string) studio.Doc {
	doc := studio.Doc{Title: studio.Text{"tg": "Қувва"}, Subject: "physics", Grades: []int{7}, Languages: []string{"tg"}}
	for i, p := range prompts {
		doc.Items = append(doc.Items, studio.Item{ID: fmt.Sprintf("q%d", i+1), Type: "truefalse", Prompt: studio.Text{"tg": p}, True: true})
	}
	return doc
}

var sha = strings.Repeat("5a", 32)

func published(version string) event.StudioPublished {
	return event.StudioPublished{Pack: "tkey-abcdefghij", Version: version, Kind: "set", Items: 1, SHA256: sha}
}

func prompts(d studio.Draft) []string {
	var out []string
	for _, it := range d.Doc.Items {
		out = append(out, it.Prompt["tg"])
	}
	return out
}

func wantKind(t *testing.T, err error, kind failure.Kind, what string) {
	t.Helper()
	if got := failure.KindOf(err); got != kind {
		t.Fatalf("%s: got error %v (kind %s), want kind %s", what, err, got, kind)
	}
}

func TestDraftSaveAndUndo(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	d, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc("a"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Rev != 1 || !studio.ValidID(d.ID) {
		t.Fatalf("new draft: rev %d id %q, want rev 1 and a studio id", d.Rev, d.ID)
	}
	for i, p := range [][]string{{"a", "b"}, {"a", "b", "c"}, {"a2", "b", "c"}} {
		if d, err = db.SaveDraft(ctx, d.ID, d.Rev, setDoc(p...)); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	if d.Rev != 4 {
		t.Fatalf("after three saves rev is %d, want 4", d.Rev)
	}
	// A save on an old revision (a second tab) is refused and changes nothing.
	_, err = db.SaveDraft(ctx, d.ID, 2, setDoc("stale"))
	wantKind(t, err, failure.Conflict, "save on revision 2 of 4")
	// Undo on an old revision too.
	_, err = db.UndoDraft(ctx, d.ID, 3)
	wantKind(t, err, failure.Conflict, "undo of revision 3 of 4")

	// Undo walks back change by change, each a new revision.
	for i, want := range [][]string{{"a", "b", "c"}, {"a", "b"}, {"a"}} {
		if d, err = db.UndoDraft(ctx, d.ID, d.Rev); err != nil {
			t.Fatalf("undo %d: %v", i+1, err)
		}
		if got := prompts(d); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after undo %d the prompts are %v, want %v", i+1, got, want)
		}
		if d.Rev != int64(5+i) {
			t.Fatalf("after undo %d rev is %d, want %d", i+1, d.Rev, 5+i)
		}
	}
	// Past the start: nothing to undo, and nothing changes.
	_, err = db.UndoDraft(ctx, d.ID, d.Rev)
	wantKind(t, err, failure.NotFound, "undo past the first revision")
	got, err := db.Draft(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rev != 7 || fmt.Sprint(prompts(got)) != "[a]" {
		t.Fatalf("after a refused undo: rev %d prompts %v, want rev 7 [a]", got.Rev, prompts(got))
	}
	// A save after undos is undone back to the undone state.
	if d, err = db.SaveDraft(ctx, d.ID, d.Rev, setDoc("x")); err != nil {
		t.Fatal(err)
	}
	if d, err = db.UndoDraft(ctx, d.ID, d.Rev); err != nil || fmt.Sprint(prompts(d)) != "[a]" {
		t.Fatalf("undo of a save after undos: %v %v, want [a]", prompts(d), err)
	}

	_, err = db.Draft(ctx, "nosuchdraf")
	wantKind(t, err, failure.NotFound, "an unknown draft")
	_, err = db.SaveDraft(ctx, "nosuchdraf", 1, setDoc("a"))
	wantKind(t, err, failure.NotFound, "saving an unknown draft")
}

func TestDraftUndoKeepsTheLast100(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	d, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc("0"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 150; i++ {
		if d, err = db.SaveDraft(ctx, d.ID, d.Rev, setDoc(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Revisions 52…151 are kept: 99 undos reach revision 52 ("51"), the
	// 100th finds nothing kept.
	for i := 1; i <= 99; i++ {
		if d, err = db.UndoDraft(ctx, d.ID, d.Rev); err != nil {
			t.Fatalf("undo %d: %v", i, err)
		}
	}
	if got := prompts(d); fmt.Sprint(got) != "[51]" {
		t.Fatalf("after 99 undos the draft is %v, want [51]", got)
	}
	_, err = db.UndoDraft(ctx, d.ID, d.Rev)
	wantKind(t, err, failure.NotFound, "undo past the kept revisions")
}

// Two tabs (or a phone and the laptop) save the same revision at once, many
// times over: exactly one save of each round wins, the others get Conflict
// and write nothing, and every winner's document is a revision.
func TestDraftConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	d, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc("start"))
	if err != nil {
		t.Fatal(err)
	}
	const tabs, rounds = 4, 20
	for round := 0; round < rounds; round++ {
		base := d.Rev
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []studio.Draft
		conflicts := 0
		for tab := 0; tab < tabs; tab++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.SaveDraft(ctx, d.ID, base, setDoc(fmt.Sprintf("round %d tab %d", round, tab)))
				mu.Lock()
				defer mu.Unlock()
				switch failure.KindOf(err) {
				case failure.Conflict:
					conflicts++
				default:
					if err != nil {
						t.Errorf("round %d tab %d: %v", round, tab, err)
						return
					}
					won = append(won, got)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 || conflicts != tabs-1 {
			t.Fatalf("round %d: %d saves won and %d conflicts, want 1 and %d", round, len(won), conflicts, tabs-1)
		}
		now, err := db.Draft(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if now.Rev != base+1 || fmt.Sprint(prompts(now)) != fmt.Sprint(prompts(won[0])) {
			t.Fatalf("round %d: stored rev %d %v, want the winner's rev %d %v", round, now.Rev, prompts(now), base+1, prompts(won[0]))
		}
		d = now
	}
	// Undo walks back through every round's winner.
	for round := rounds - 1; round >= 0; round-- {
		if d, err = db.UndoDraft(ctx, d.ID, d.Rev); err != nil {
			t.Fatalf("undo to before round %d: %v", round, err)
		}
	}
	if got := prompts(d); fmt.Sprint(got) != "[start]" {
		t.Fatalf("after undoing every round: %v, want [start]", got)
	}
}

func TestDraftsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	pic := []byte("\x89PNG a cleaned picture")
	sum := sha256.Sum256(pic)
	picName := hex.EncodeToString(sum[:]) + ".png"
	var id string
	for run := 0; run < 3; run++ {
		db, err := store.Open(ctx, path, nil)
		if err != nil {
			t.Fatalf("open %d: %v", run, err)
		}
		switch run {
		case 0:
			d, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc("a"))
			if err != nil {
				t.Fatal(err)
			}
			id = d.ID
			if _, err = db.SaveDraft(ctx, id, 1, setDoc("a", "b")); err != nil {
				t.Fatal(err)
			}
			if err := db.PutMedia(ctx, "user:t1", picName, "image/png", pic); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordPublish(ctx, "user:t1", id, studio.Version{Version: "1.0.0", Rev: 2, Published: time.Now(), SHA256: sha}, published("1.0.0")); err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreateDraft(ctx, "user:t2", studio.KindLesson, studio.Doc{Languages: []string{"ru"}, Body: studio.Text{"ru": "# Урок"}}); err != nil {
				t.Fatal(err)
			}
		case 1:
			d, err := db.Draft(ctx, id)
			if err != nil {
				t.Fatalf("after reopening: %v", err)
			}
			if d.Rev != 2 || fmt.Sprint(prompts(d)) != "[a b]" || len(d.Versions) != 1 || d.Versions[0].Version != "1.0.0" || d.Versions[0].Rev != 2 {
				t.Fatalf("after reopening: %+v, want rev 2 [a b] and version 1.0.0 of rev 2", d)
			}
			if d, err = db.UndoDraft(ctx, id, 2); err != nil || fmt.Sprint(prompts(d)) != "[a]" {
				t.Fatalf("undo after reopening: %v %v", prompts(d), err)
			}
		case 2:
			d, err := db.Draft(ctx, id)
			if err != nil || d.Rev != 3 || fmt.Sprint(prompts(d)) != "[a]" {
				t.Fatalf("after the second reopening: %+v %v, want rev 3 [a]", d, err)
			}
			data, ct, err := db.Media(ctx, picName)
			if err != nil || string(data) != string(pic) || ct != "image/png" {
				t.Fatalf("picture after reopening: %q %q %v", data, ct, err)
			}
			mine, err := db.Drafts(ctx, "user:t1")
			if err != nil || len(mine) != 1 || mine[0].ID != id {
				t.Fatalf("user:t1's drafts: %+v %v, want the one set", mine, err)
			}
			all, err := db.Drafts(ctx, "")
			if err != nil || len(all) != 2 {
				t.Fatalf("everyone's drafts: %d %v, want 2", len(all), err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDraftLimits(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	huge := make([]string, 10000)
	for i := range huge {
		huge[i] = "2+2=4"
	}
	_, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc(huge...))
	wantKind(t, err, failure.Invalid, "a new draft of 10,000 items")
	ps := studio.ProblemsOf(err)
	if len(ps) != 1 || ps[0].Key != "studio.problem.too_many_items" {
		t.Fatalf("problems of 10,000 items: %+v, want one too_many_items", ps)
	}
	if all, _ := db.Drafts(ctx, ""); len(all) != 0 {
		t.Fatalf("a refused draft was stored: %+v", all)
	}

	d, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc("a"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.SaveDraft(ctx, d.ID, d.Rev, setDoc(huge...))
	wantKind(t, err, failure.Invalid, "saving 10,000 items")
	bad := setDoc("a")
	bad.Languages = []string{"de"}
	bad.Items[0].Prompt["tg"] = string(make([]byte, 21<<10))
	_, err = db.SaveDraft(ctx, d.ID, d.Rev, bad)
	wantKind(t, err, failure.Invalid, "saving a 21 KB prompt in German")
	if ps := studio.ProblemsOf(err); len(ps) != 2 || ps[0].Key != "studio.problem.language" || ps[1].Key != "studio.problem.too_long" || ps[1].Item != 1 {
		t.Fatalf("problems: %+v, want an unknown language and a long prompt in item 1", ps)
	}
	got, err := db.Draft(ctx, d.ID)
	if err != nil || got.Rev != 1 || fmt.Sprint(prompts(got)) != "[a]" {
		t.Fatalf("after refused saves: %+v %v, want rev 1 unchanged", got, err)
	}
	_, err = db.UndoDraft(ctx, d.ID, 1)
	wantKind(t, err, failure.NotFound, "undo of the first revision after refused saves")

	_, err = db.CreateDraft(ctx, "user:t1", "quiz", setDoc("a"))
	wantKind(t, err, failure.Invalid, "a draft of an unknown kind")
}

func TestDraftDeleteKeepsVersions(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	d, err := db.CreateDraft(ctx, "user:t1", studio.KindSet, setDoc("a"))
	if err != nil {
		t.Fatal(err)
	}
	v := studio.Version{Version: "1.0.0", Rev: 1, Published: time.Now(), SHA256: sha}
	if err := db.RecordPublish(ctx, "user:t1", d.ID, v, published("1.0.0")); err != nil {
		t.Fatal(err)
	}
	before, _ := db.LastSeq(ctx)
	wantKind(t, db.RecordPublish(ctx, "user:t1", d.ID, v, published("1.0.0")), failure.Conflict, "publishing 1.0.0 twice")
	v.Version = "3.0.0"
	wantKind(t, db.RecordPublish(ctx, "user:t1", d.ID, v, published("3.0.0")), failure.Conflict, "skipping 2.0.0")
	if after, _ := db.LastSeq(ctx); after != before {
		t.Fatalf("refused publishes wrote events: seq %d → %d", before, after)
	}
	v.Version = "2.0.0"
	if err := db.RecordPublish(ctx, "user:t1", d.ID, v, published("2.0.0")); err != nil {
		t.Fatal(err)
	}
	evs, err := db.EventsAfter(ctx, before, 10)
	if err != nil || len(evs) != 1 || evs[0].Kind != event.KindStudioPublished || evs[0].Actor != "user:t1" {
		t.Fatalf("events of publishing 2.0.0: %+v %v, want one studio.published by user:t1", evs, err)
	}
	if err := db.DeleteDraft(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.Draft(ctx, d.ID)
	wantKind(t, err, failure.NotFound, "a deleted draft")
	wantKind(t, db.DeleteDraft(ctx, d.ID), failure.NotFound, "deleting twice")
	vs, err := db.DraftVersions(ctx, d.ID)
	if err != nil || len(vs) != 2 || vs[1].Version != "2.0.0" {
		t.Fatalf("versions of a deleted draft: %+v %v, want 1.0.0 and 2.0.0", vs, err)
	}
}

func TestPutMediaChecks(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	pic := []byte("jpeg bytes")
	sum := sha256.Sum256(pic)
	name := hex.EncodeToString(sum[:]) + ".jpg"
	for _, c := range []struct{ name, ct string }{
		{"../../x.png", "image/png"},
		{name, "image/png"},
		{name[:64] + ".svg", "image/svg+xml"},
		{"0" + name[1:], "image/jpeg"},
	} {
		wantKind(t, db.PutMedia(ctx, "user:t1", c.name, c.ct, pic), failure.Invalid, "picture "+c.name+" "+c.ct)
	}
	for i := 0; i < 2; i++ {
		if err := db.PutMedia(ctx, "user:t1", name, "image/jpeg", pic); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	_, _, err := db.Media(ctx, "0"+name[1:])
	wantKind(t, err, failure.NotFound, "an unknown picture")
}
