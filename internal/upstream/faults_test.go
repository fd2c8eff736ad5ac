package upstream_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// faultEvents is how many events the box writes in the proof test;
// STEMBOX_TEST_FAULT_EVENTS makes it bigger (or smaller, to try things).
func faultEvents(t *testing.T) int {
	if s := os.Getenv("STEMBOX_TEST_FAULT_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 10000
	}
	return 100000
}

// TestNothingLostOrDoubled is the proof: a box writes 100,000 events while
// it syncs through a proxy that resets connections mid-request, drops the
// hub's answers after the hub committed, duplicates requests, and stalls
// them past the box's patience; the hub is killed (SIGKILL) and restarted
// twice, and the box's sync loop is restarted mid-batch once. At the end
// the hub holds exactly the box's events: same count, same content hash,
// no duplicates, none missing.
func TestNothingLostOrDoubled(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			testNothingLostOrDoubled(t, backend.Target(t))
		})
	}
}

func testNothingLostOrDoubled(t *testing.T, target string) {
	start := time.Now()
	n := faultEvents(t)
	hubDir := t.TempDir()
	// The school and its token are made before the hub runs.
	st, err := hub.OpenStore(t.Context(), target, hubDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := st.CreateSchool(t.Context(), "School 1", "Sughd", time.Hour)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	hp := startHubProcess(t, hubDir, target)
	var weights [numFaults]int
	weights[passThrough] = 60
	weights[resetRequest] = 8
	weights[dropResponse] = 10
	weights[duplicate] = 10
	weights[stallRequest] = 4
	weights[stallResponse] = 4
	weights[cutResponse] = 4
	proxy := newFaultProxy(t, 42, hp.url, 1500*time.Millisecond, weights)

	box := newBox(t, content.NewKeyring())
	cfg := upstream.Config{
		HubURL: proxy.URL, EnrollToken: tok.Token,
		Every: 200 * time.Millisecond, MinGap: 20 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Client: noProxyClient(time.Second),
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runLoop := func(ctx context.Context) (stop func()) {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			box.syncer(cfg).Run(ctx)
		}()
		return func() { cancel(); <-done }
	}
	stopLoop := runLoop(ctx)

	// The box writes: a roster and some answers through its own store (as
	// its pages do), and the bulk of a term's events straight into its
	// events table, in steps, so that syncing overlaps writing throughout.
	w, err := upstreamtest.NewBox(ctx, box.db, 4, 30, 7)
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := upstreamtest.OpenBulk(filepath.Join(box.dir, "stembox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bulk.Close()
	var wg sync.WaitGroup
	writeErr := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := bulk.Fill(ctx, upstreamtest.NewGen(8, 6, 30), n, 1000, 30*time.Millisecond); err != nil {
			writeErr <- err
		}
	}()
	go func() {
		defer wg.Done()
		if err := w.Write(ctx, n/50, 2); err != nil {
			writeErr <- err
		}
	}()

	// Kill the hub twice while events flow, and restart the box's loop
	// once, in the middle of whatever batch it was sending.
	acked := func() int64 {
		s, err := upstream.ReadStatus(context.Background(), box.db)
		if err != nil {
			t.Error(err)
			return 0
		}
		return s.AckedSeq
	}
	waitAcked := func(min int64, within time.Duration) {
		defer func() { t.Logf("%s: acked %d", time.Since(start).Round(time.Millisecond), acked()) }()
		deadline := time.Now().Add(within)
		for acked() < min {
			if time.Now().After(deadline) {
				t.Fatalf("the hub acknowledged %d events after %s, want at least %d (faults: %s)", acked(), within, min, proxy.stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked(int64(n)/5, 2*time.Minute)
	hp.kill()
	time.Sleep(300 * time.Millisecond)
	hp.start()
	waitAcked(int64(n)/2, 2*time.Minute)
	stopLoop()
	stopLoop = runLoop(ctx)
	waitAcked(int64(n)*7/10, 2*time.Minute)
	hp.kill()
	time.Sleep(300 * time.Millisecond)
	hp.start()

	wg.Wait()
	t.Logf("%s: writing done", time.Since(start).Round(time.Millisecond))
	select {
	case err := <-writeErr:
		t.Fatalf("writing events: %v", err)
	default:
	}
	last, err := box.db.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitAcked(last, 3*time.Minute)
	stopLoop()
	hp.stop()

	// The hub's database, read directly.
	hs, err := hub.OpenStore(context.Background(), target, hubDir)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	boxN, boxSum := boxDigest(t, box.db)
	hubN, hubSum := hubDigest(t, hs, box.boxID(t))
	bs, err := hs.BoxState(context.Background(), box.boxID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events in %s; faults: %s", boxN, time.Since(start).Round(time.Millisecond), proxy.stats())
	if boxN < n || hubN != boxN || hubSum != boxSum || bs.Events != int64(boxN) || bs.AckedSeq != int64(boxN) {
		t.Fatalf("the box has %d events (%s); the hub holds %d (%s), counts %d, acked %d", boxN, boxSum, hubN, hubSum, bs.Events, bs.AckedSeq)
	}
	var rows, ids int64
	if err := hs.DB().QueryRow(context.Background(), "SELECT count(*), count(DISTINCT id) FROM events WHERE box_id = ?", box.boxID(t)).Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != int64(boxN) || ids != rows {
		t.Fatalf("the hub's events table has %d rows with %d distinct ids, want %d", rows, ids, boxN)
	}
}

// TestPackDownloadResumes cuts every download of pack files at a random
// point: the box resumes each with range requests and installs the pack
// intact.
func TestPackDownloadResumes(t *testing.T) {
	archive, key := miniPack(t)
	keys := content.NewKeyring(key.Public())
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	publish(t, h, archive, keys)
	var weights [numFaults]int
	weights[cutResponse] = 1
	proxy := newFaultProxy(t, 9, func() string { return h.URL }, 0, weights)
	var mu sync.Mutex
	var ranges, files int
	proxy.filter = func(r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, wire.PathFiles) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		files++
		if r.Header.Get("Range") != "" {
			ranges++
		}
		return files%4 != 0 // three downloads in four are cut
	}
	box := newBox(t, keys)
	s := box.syncer(upstream.Config{HubURL: proxy.URL, EnrollToken: newToken(t, h, "School", "R"), Client: noProxyClient(30 * time.Second)})
	ctx := t.Context()
	var err error
	for try := 0; try < 100; try++ {
		s.Poke() // pull now, not on the pull's backoff
		if err = s.Sync(ctx); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("sync never succeeded: %v", err)
	}
	p, ok := box.lib.Pack("mini")
	if !ok {
		t.Fatalf("the pack was not installed: %v", box.lib.Problems())
	}
	for _, f := range p.Manifest.Files {
		path, _, _ := p.FilePath(f.Path)
		if st, err := os.Stat(path); err != nil || st.Size() != f.Size {
			t.Errorf("%s: %v", f.Path, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if ranges == 0 {
		t.Errorf("no download was resumed with a range request (%d file requests)", files)
	}
	t.Logf("%d file requests, %d resumed with a range", files, ranges)
	left, _ := filepath.Glob(filepath.Join(box.dir, "upstream-cache", "*"))
	if len(left) != 0 {
		t.Errorf("the download cache still holds %v", left)
	}
	st, _ := upstream.ReadStatus(ctx, box.db)
	if st.Download != nil {
		t.Errorf("status still shows a download: %+v", st.Download)
	}
}
