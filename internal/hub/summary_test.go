package hub_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// The summaries the reports read (learner_items, learner_packs) equal a
// recount of every answer however the batches arrive: overlapping, out of
// order, each twice, from several connections at once — and a box's
// answers before the roster events that give its learners' class and
// gender.
func TestSummariesEqualARecount(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		ids := map[string]hub.BoxIdentity{}
		for i, box := range []string{"SUMBOX1", "SUMBOX2"} {
			id, _ := enrolled(t, st, "School "+box, []string{"Sughd", "Khatlon"}[i], box)
			ids[box] = id
		}
		r := rand.New(rand.NewPCG(7, 7))
		var batches, backwards []wire.Batch
		for i, box := range []string{"SUMBOX1", "SUMBOX2"} {
			g := upstreamtest.NewGen(uint64(i+1), 3, 12)
			evs := g.Events(2500)
			for j := range evs { // a third of the live answers: to questions the teacher typed
				if evs[j].Kind != event.KindLiveResponse || j%3 != 0 {
					continue
				}
				var p event.LiveResponse
				json.Unmarshal(evs[j].Payload, &p)
				p.Pack, p.PackVersion, p.Set = "", "", ""
				p.Item = "q" + string(rune('0'+p.Question))
				evs[j].Payload, _ = json.Marshal(p)
			}
			for start := 0; start < len(evs); {
				n := 1 + r.IntN(300)
				end := min(start+n, len(evs))
				from := max(0, start-r.IntN(40)) // overlapping the batch before
				b := wire.Batch{BoxID: box, Clock: wire.Clock{WallMS: time.Now().UnixMilli(), BootID: evs[0].BootID, MonoMS: 1}, Events: evs[from:end]}
				if box == "SUMBOX1" {
					batches = append(batches, b)
				} else { // the last batch first: answers before the roster that says who answered
					backwards = append([]wire.Batch{b}, backwards...)
				}
				start = end
			}
		}
		batches, backwards = append(batches, batches...), append(backwards, backwards...) // each twice
		r.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
		var wg sync.WaitGroup
		errs := make(chan error, len(batches)+len(backwards))
		wg.Add(1)
		go func() { // beside the others, one box's batches from the last to the first
			defer wg.Done()
			for _, b := range backwards {
				if _, err := st.Ingest(ctx, ids[b.BoxID], b, true, 1); err != nil {
					errs <- err
				}
			}
		}()
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(batches); i += 4 {
					if _, err := st.Ingest(ctx, ids[batches[i].BoxID], batches[i], true, 1); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("ingest: %v", err)
		}
		for _, re := range summariesEqualRecount(t, st) {
			if re.Query.By != "subject" {
				continue
			}
			var own bool
			for _, row := range re.Rows {
				own = own || (row.Key == hub.OwnQuestions && row.ByGender["all"].Answers > 0)
			}
			if !own {
				t.Errorf("by subject: no answers to the teacher's own questions in %+v", re.Rows)
			}
		}
	})
}

// summariesEqualRecount checks that a report from the summaries equals a
// recount, by each dimension, and returns the recounts.
func summariesEqualRecount(t *testing.T, st *hub.Store) []hub.Report {
	t.Helper()
	var out []hub.Report
	for _, by := range hub.Dimensions {
		sum, err := st.Report(t.Context(), hub.ReportQuery{By: by})
		if err != nil {
			t.Fatal(err)
		}
		re, err := st.Report(t.Context(), hub.ReportQuery{By: by, Recount: true})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, re)
		sum.Query, re.Query = hub.ReportQuery{}, hub.ReportQuery{}
		if !reflect.DeepEqual(sum, re) {
			t.Errorf("by %s: the summaries say\n%+v\na recount says\n%+v", by, sum.Rows, re.Rows)
		}
	}
	return out
}
