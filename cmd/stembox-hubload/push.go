package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// hubProcess is the hub under measurement, a process of its own.
type hubProcess struct {
	cmd      *exec.Cmd
	url      string
	operator string
}

func startHub(ctx context.Context, bin, data, dsn string) (*hubProcess, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "hub", "serve", "--addr", addr, "--data", data, "--db", dsn, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the hub (%s): %w", bin, err)
	}
	h := &hubProcess{cmd: cmd, url: "http://" + addr}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(h.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			h.stop()
			return nil, fmt.Errorf("the hub did not answer at %s: %v", h.url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// An operator of its own: on a kept schema, the first operator's
	// token is in the data directory of the run that made it.
	st, err := hub.OpenStore(ctx, dsn, filepath.Join(data, "operator"))
	if err != nil {
		h.stop()
		return nil, err
	}
	defer st.Close()
	if h.operator, err = st.CreateOperator(ctx, "stembox-hubload"); err != nil {
		h.stop()
		return nil, err
	}
	return h, nil
}

func (h *hubProcess) stop() {
	h.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
}

// regionNames are the regions schools are spread over.
var regionNames = []string{"Sughd", "Khatlon", "Dushanbe", "GBAO", "RRS", "Region 6", "Region 7", "Region 8"}

// simBox is a simulated box: its credential and the batches it sends.
type simBox struct {
	id, credential string
	batches        [][]byte
}

// enrollBoxes makes a school for each box and enrolls it through the hub's
// store, then makes each box's batches as the box would send them.
func enrollBoxes(ctx context.Context, dsn, data string, c config) ([]*simBox, error) {
	st, err := hub.OpenStore(ctx, dsn, filepath.Join(data, "enroller"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	start := time.Now()
	boxes := make([]*simBox, c.boxes)
	for i := range boxes {
		region := regionNames[i%min(c.regions, len(regionNames))]
		tok, err := st.CreateSchool(ctx, fmt.Sprintf("School %03d", i+1), region, time.Hour)
		if err != nil {
			return nil, err
		}
		b := &simBox{id: fmt.Sprintf("LOADBOX%03d", i+1)}
		resp, err := st.Enroll(ctx, tok.Token, b.id, "box of school "+fmt.Sprint(i+1))
		if err != nil {
			return nil, err
		}
		b.credential = resp.Credential
		boxes[i] = b
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(boxes))
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(boxes); i += 2 {
				g := upstreamtest.NewGen(uint64(i+1), 8, 30)
				for sent := 0; sent < c.push; sent += c.batch {
					evs := g.Events(min(c.batch, c.push-sent))
					body, err := wire.Marshal(wire.Batch{BoxID: boxes[i].id, Clock: wire.Clock{WallMS: evs[len(evs)-1].WallMS, BootID: evs[0].BootID, MonoMS: evs[len(evs)-1].MonoMS}, Events: evs})
					if err != nil {
						errs <- err
						return
					}
					boxes[i].batches = append(boxes[i].batches, body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, err
	}
	fmt.Printf("enrolled %d boxes and made their batches in %s\n", len(boxes), time.Since(start).Round(time.Millisecond))
	return boxes, nil
}

// pushAll has every box push its batches at once, each box one after the
// other as a box does, and reports events/s and batch latencies.
func pushAll(ctx context.Context, hubURL string, boxes []*simBox, c config) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(boxes), MaxConnsPerHost: len(boxes)}, Timeout: 10 * time.Minute}
	var mu sync.Mutex
	var lat []time.Duration
	var wireBytes, events int64
	var firstErr error
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, b := range boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for _, body := range b.batches {
				t0 := time.Now()
				resp, err := postBatch(ctx, client, hubURL, b.credential, body)
				d := time.Since(t0)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("box %s: %w", b.id, err)
				}
				lat = append(lat, d)
				wireBytes += int64(len(body))
				events += int64(resp.Stored + resp.Duplicates)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	fmt.Printf("push over HTTP: %d boxes at once, %d batches, %d events, %.1f MB on the wire, in %s\n",
		len(boxes), len(lat), events, float64(wireBytes)/1e6, elapsed.Round(time.Millisecond))
	fmt.Printf("  ingest: %.0f events/s; batch latency p50 %s, p90 %s, p99 %s, max %s (load average %s at the end)\n",
		float64(events)/elapsed.Seconds(), pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1].Round(time.Millisecond), loadAverage())
	return nil
}

func postBatch(ctx context.Context, client *http.Client, hubURL, credential string, body []byte) (wire.IngestResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hubURL+wire.PathEvents, bytes.NewReader(body))
	if err != nil {
		return wire.IngestResponse{}, err
	}
	req.Header.Set("Authorization", "Bearer "+credential)
	req.Header.Set("Content-Type", wire.MediaType)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return wire.IngestResponse{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return wire.IngestResponse{}, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var out wire.IngestResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return wire.IngestResponse{}, err
	}
	return out, nil
}
