package peer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// Job is a fetch started from the admin page, as it stands.
type Job struct {
	Peer    string
	Pack    string
	State   string // "running", "done" or "failed"
	Done    int64
	Total   int64 // -1 while unknown
	Version string
	Err     string
	Started time.Time
	Ended   time.Time
}

// Percent is how much of the archive has arrived, 0–100, or -1 if unknown.
func (j Job) Percent() int {
	if j.Total <= 0 {
		return -1
	}
	return int(j.Done * 100 / j.Total)
}

const keepJobs = 20

// Jobs runs fetches in the background for a running box, one at a time per
// pack, and remembers how the last ones went.
type Jobs struct {
	client *Client
	lib    *content.Library
	dir    string
	log    *slog.Logger

	mu   sync.Mutex
	ctx  context.Context // set by Run; nil before and after
	jobs []*Job
	wg   sync.WaitGroup
}

// NewJobs returns a job runner that downloads into dir and installs into lib.
func NewJobs(c *Client, lib *content.Library, dir string, logger *slog.Logger) *Jobs {
	return &Jobs{client: c, lib: lib, dir: dir, log: logger}
}

// Run lets jobs start until ctx ends, then waits for running ones, which end
// with it (a download stopped this way resumes next time).
func (j *Jobs) Run(ctx context.Context) error {
	j.mu.Lock()
	j.ctx = ctx
	j.mu.Unlock()
	<-ctx.Done()
	j.mu.Lock()
	j.ctx = nil
	j.mu.Unlock()
	j.wg.Wait()
	return nil
}

// Start begins fetching pack id from the peer at base.
func (j *Jobs) Start(base, id string) error {
	base, err := BaseURL(base)
	if err != nil {
		return err
	}
	if !content.ValidID(id) {
		return failure.Errorf(failure.Invalid, "peer: %q is not a pack id", id)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ctx == nil {
		return failure.Errorf(failure.Unavailable, "peer: the box is not running")
	}
	for _, job := range j.jobs {
		if job.Pack == id && job.State == "running" {
			return failure.Wrap(failure.Conflict, ErrBusy, "pack "+id+" is being fetched already")
		}
	}
	job := &Job{Peer: base, Pack: id, State: "running", Total: -1, Started: time.Now()}
	j.jobs = append(j.jobs, job)
	for len(j.jobs) > keepJobs {
		i := slices.IndexFunc(j.jobs, func(x *Job) bool { return x.State != "running" })
		if i < 0 {
			break
		}
		j.jobs = slices.Delete(j.jobs, i, i+1)
	}
	ctx := j.ctx
	j.wg.Go(func() { j.run(ctx, job) })
	return nil
}

func (j *Jobs) run(ctx context.Context, job *Job) {
	j.log.Info("fetching a pack from another box", "pack", job.Pack, "peer", job.Peer)
	res, err := Fetch(ctx, j.client, j.lib, j.dir, job.Peer, job.Pack, func(p Progress) {
		j.mu.Lock()
		job.Done, job.Total = p.Done, p.Total
		j.mu.Unlock()
	})
	j.mu.Lock()
	defer j.mu.Unlock()
	job.Ended = time.Now()
	if err != nil {
		job.State, job.Err = "failed", err.Error() // the page is the administrator's
		if errors.Is(err, context.Canceled) {
			job.Err = "stopped with the box; it resumes when started again"
		}
		j.log.Warn("fetching a pack from another box failed", "pack", job.Pack, "peer", job.Peer, "err", err)
		return
	}
	job.State, job.Version = "done", res.Pack.Manifest.Version
	j.log.Info("installed a pack from another box", "pack", job.Pack, "version", job.Version, "peer", job.Peer, "unchanged", res.Unchanged)
}

// List returns the jobs, newest first.
func (j *Jobs) List() []Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Job, len(j.jobs))
	for i, job := range j.jobs {
		out[len(out)-1-i] = *job
	}
	return out
}

// Running says whether any job is still running.
func (j *Jobs) Running() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.ContainsFunc(j.jobs, func(x *Job) bool { return x.State == "running" })
}
