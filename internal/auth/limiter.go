package auth

import (
	"sync"
	"time"
)

// Policy is how one counter of failed sign-ins slows guessing down.
type Policy struct {
	Free   int           // failures allowed before any wait
	Base   time.Duration // the wait after the Free-th failure; it doubles with each further one
	Max    time.Duration // the longest wait
	Cap    int           // most failures in one Window (0: no cap); then none until the window ends
	Window time.Duration // a counter is forgotten this long after its first failure
}

// Limiter slows down guessing of a secret. It counts failures per target
// (a student, an account) and per source and target (a device address
// trying that target), never per source alone: children who mistype their
// own PINs on one shared tablet do not slow each other down.
//
// An attempt is reserved with Begin before the secret is hashed and
// settled after, so a burst of parallel attempts counts as what it is:
// attempts in flight count as failures until they are settled, and once a
// counter is past its free attempts only one attempt at a time may be in
// flight. A success clears the delays of its source and target; the
// target's Cap still counts the failures of its window, so a distributed
// guesser gets at most Cap guesses a Window however often the owner signs in.
type Limiter struct {
	Source Policy // per source and target
	Target Policy // per target, over all sources
	// TrustCleanSources exempts from the Target policy an attempt from a
	// source with no failures (and no attempt in flight) on the target,
	// so that nobody elsewhere can keep the owner out of their account;
	// each new source then adds one guess to the target's Cap.
	TrustCleanSources bool
	Now               func() time.Time

	mu      sync.Mutex
	targets map[string]*targetState
}

type targetState struct {
	counter
	sources map[string]*counter
}

type counter struct {
	failures int       // since the last success: they set the wait
	tally    int       // in this window, successes or not: they meet the Cap
	pending  int       // attempts in flight
	start    time.Time // the window's first failure
	until    time.Time // no attempt before this
}

// The box's policies, written down for operators in docs/install.md. A
// source may make 5 attempts on a target, then waits 5 s, doubling to a
// minute; a target takes 10 failures from all sources together before they
// wait. A student's PIN (10,000 choices) takes at most 30 failures an hour,
// so guessing one from many devices takes days, not minutes; an account's
// password (8 characters or more) takes 50, plus one from each source with
// no failures, which the target's limit does not stop.
var (
	sourcePolicy  = Policy{Free: 5, Base: 5 * time.Second, Max: time.Minute, Window: time.Hour}
	studentPolicy = Policy{Free: 10, Base: 5 * time.Second, Max: time.Minute, Cap: 30, Window: time.Hour}
	accountPolicy = Policy{Free: 10, Base: 5 * time.Second, Max: time.Minute, Cap: 50, Window: time.Hour}
)

// NewStudentLimiter returns the limiter for students' PINs and pictures.
func NewStudentLimiter() *Limiter {
	return &Limiter{Source: sourcePolicy, Target: studentPolicy, Now: time.Now}
}

// NewAccountLimiter returns the limiter for teachers' and admins'
// passwords: a device that has not failed is never kept out by the
// failures of others.
func NewAccountLimiter() *Limiter {
	return &Limiter{Source: sourcePolicy, Target: accountPolicy, TrustCleanSources: true, Now: time.Now}
}

// maxKeys bounds the memory of a limiter under a flood of names or addresses.
const maxKeys = 100000

// Attempt is a reserved try at a target's secret. Settle it with Fail or
// Succeed once the secret is checked, or Cancel it if it was not; the
// first call settles it, later ones do nothing, so `defer a.Cancel()` is
// safe.
type Attempt struct {
	l              *Limiter
	source, target string
	counted        bool // the target's counter holds it
	done           bool
}

// Begin reserves an attempt by source on target, or says how long to wait
// before the next one may be made.
func (l *Limiter) Begin(source, target string) (*Attempt, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	t := l.target(target, now)
	p := t.source(source, now, l.Source)
	counted := !l.TrustCleanSources || p.failures > 0 || p.pending > 0
	wait := p.wait(now, l.Source)
	if counted {
		wait = max(wait, t.wait(now, l.Target))
	}
	if wait > 0 {
		return nil, wait
	}
	p.pending++
	if counted {
		t.pending++
	}
	return &Attempt{l: l, source: source, target: target, counted: counted}, 0
}

// Fail records that the attempt's secret was wrong.
func (a *Attempt) Fail() { a.settle(func(c *counter, pol Policy, now time.Time) { c.fail(pol, now) }) }

// Succeed records that the attempt's secret was right: the source's and
// the target's waits are cleared.
func (a *Attempt) Succeed() {
	a.settle(func(c *counter, _ Policy, _ time.Time) { c.failures, c.until = 0, time.Time{} })
}

// Cancel gives the attempt back unused: its secret was not checked.
func (a *Attempt) Cancel() { a.settle(func(*counter, Policy, time.Time) {}) }

func (a *Attempt) settle(f func(c *counter, pol Policy, now time.Time)) {
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	now := l.Now()
	t := l.target(a.target, now) // Unlock may have dropped it meanwhile
	p := t.source(a.source, now, l.Source)
	p.release()
	f(p, l.Source, now)
	if a.counted {
		t.release()
	}
	f(&t.counter, l.Target, now)
}

// Slowed reports whether anyone must wait before trying target again.
func (l *Limiter) Slowed(target string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.targets[target]
	if !ok {
		return false
	}
	now := l.Now()
	if t.expire(now, l.Target); t.wait(now, l.Target) > 0 {
		return true
	}
	for _, p := range t.sources {
		if p.expire(now, l.Source); p.wait(now, l.Source) > 0 {
			return true
		}
	}
	return false
}

// Unlock forgets every failure on target, from every source: a teacher
// vouches for a student, an admin sets a new password.
func (l *Limiter) Unlock(target string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.targets, target)
}

func (l *Limiter) target(key string, now time.Time) *targetState {
	if l.targets == nil {
		l.targets = map[string]*targetState{}
	}
	t, ok := l.targets[key]
	if !ok {
		if len(l.targets) >= maxKeys {
			l.prune(now)
		}
		t = &targetState{sources: map[string]*counter{}}
		l.targets[key] = t
	}
	t.expire(now, l.Target)
	return t
}

// prune drops the targets nobody has to wait for. Under a flood of more
// than maxKeys names their failures below the free allowance are forgotten.
func (l *Limiter) prune(now time.Time) {
	for k, t := range l.targets {
		if t.idle(now, l.Target) && t.pending == 0 {
			idle := true
			for _, p := range t.sources {
				idle = idle && p.idle(now, l.Source) && p.pending == 0
			}
			if idle {
				delete(l.targets, k)
			}
		}
	}
}

func (t *targetState) source(key string, now time.Time, pol Policy) *counter {
	p, ok := t.sources[key]
	if !ok {
		if len(t.sources) >= maxKeys {
			for k, q := range t.sources {
				if q.idle(now, pol) && q.pending == 0 {
					delete(t.sources, k)
				}
			}
		}
		p = &counter{}
		t.sources[key] = p
	}
	p.expire(now, pol)
	return p
}

// expire forgets a counter whose window has passed.
func (c *counter) expire(now time.Time, pol Policy) {
	if c.pending == 0 && !c.start.IsZero() && now.Sub(c.start) >= pol.Window {
		*c = counter{}
	}
}

// idle says the counter makes nobody wait now.
func (c *counter) idle(now time.Time, pol Policy) bool {
	return !c.until.After(now) && (pol.Cap == 0 || c.tally < pol.Cap)
}

// wait is how long a new attempt must wait, counting those in flight as
// failures.
func (c *counter) wait(now time.Time, pol Policy) time.Duration {
	if pol.Cap > 0 && c.tally+c.pending >= pol.Cap {
		if c.start.IsZero() { // all in flight: they end soon
			return pol.Base
		}
		return max(c.start.Add(pol.Window).Sub(now), time.Second)
	}
	if c.failures+c.pending < pol.Free {
		return 0
	}
	if c.pending > 0 { // past the free attempts, one at a time
		return max(c.until.Sub(now), pol.Base)
	}
	return max(c.until.Sub(now), 0)
}

func (c *counter) fail(pol Policy, now time.Time) {
	if c.start.IsZero() {
		c.start = now
	}
	c.failures++
	c.tally++
	if over := c.failures - pol.Free; over >= 0 {
		d := pol.Base << min(over, 20)
		if d > pol.Max || d <= 0 {
			d = pol.Max
		}
		c.until = now.Add(d)
	}
}

func (c *counter) release() {
	if c.pending > 0 {
		c.pending--
	}
}
