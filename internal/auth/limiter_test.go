package auth

import (
	"sync"
	"testing"
	"time"
)

// testLimiter sets l's clock to a fixed time; the function it returns moves
// that clock on.
func testLimiter(l *Limiter) (*Limiter, func(time.Duration)) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l.Now = func() time.Time { return now }
	return l, func(d time.Duration) { now = now.Add(d) }
}

// try makes one attempt and settles it; it says whether it was let through.
func try(l *Limiter, source, target string, right bool) bool {
	a, wait := l.Begin(source, target)
	if wait > 0 {
		return false
	}
	if right {
		a.Succeed()
	} else {
		a.Fail()
	}
	return true
}

func TestLimiterSlowsOneSourceDown(t *testing.T) {
	l, advance := testLimiter(NewStudentLimiter())
	for i := range 5 {
		if !try(l, "tablet", "student:ali", false) {
			t.Fatalf("attempt %d refused; the first 5 are free", i+1)
		}
	}
	a, wait := l.Begin("tablet", "student:ali")
	if a != nil || wait != 5*time.Second {
		t.Fatalf("after 5 failures: attempt %v, wait %s; want a wait of 5s", a, wait)
	}
	if !l.Slowed("student:ali") || l.Slowed("student:bob") {
		t.Errorf("Slowed(ali) = %v, Slowed(bob) = %v; want true, false", l.Slowed("student:ali"), l.Slowed("student:bob"))
	}
	// Another child on the same tablet is not slowed down by Ali's failures.
	if !try(l, "tablet", "student:bob", true) {
		t.Error("Bob's right PIN on the same tablet was refused")
	}
	advance(5 * time.Second)
	if !try(l, "tablet", "student:ali", false) {
		t.Fatal("the wait passed but the attempt was refused")
	}
	if _, wait := l.Begin("tablet", "student:ali"); wait != 10*time.Second {
		t.Errorf("after 6 failures wait %s, want 10s (doubling)", wait)
	}
	for range 10 {
		advance(time.Minute)
		try(l, "tablet", "student:ali", false)
	}
	if _, wait := l.Begin("tablet", "student:ali"); wait != time.Minute {
		t.Errorf("wait %s, want it capped at 1m", wait)
	}
	advance(time.Minute)
	if !try(l, "tablet", "student:ali", true) {
		t.Fatal("the right PIN after the wait was refused")
	}
	if a, wait := l.Begin("tablet", "student:ali"); wait != 0 {
		t.Errorf("after a success wait %s, want 0", wait)
	} else {
		a.Cancel()
	}
}

func TestLimiterBurstReservesBeforeHashing(t *testing.T) {
	l, _ := testLimiter(NewStudentLimiter())
	var mu sync.Mutex
	var got []*Attempt
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, wait := l.Begin("attacker", "student:ali"); wait == 0 {
				mu.Lock()
				got = append(got, a)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 5 {
		t.Fatalf("%d of 100 parallel attempts let through, want 5 (the free ones)", len(got))
	}
	for _, a := range got {
		a.Fail()
		a.Fail() // settling twice counts once
	}
	if a, _ := l.Begin("attacker", "student:ali"); a != nil {
		t.Error("an attempt right after the burst was let through")
	}
	// Cancelled attempts give their slot back.
	l2, _ := testLimiter(NewStudentLimiter())
	for range 20 {
		a, wait := l2.Begin("x", "student:ali")
		if wait > 0 {
			t.Fatal("a cancelled attempt kept its slot")
		}
		a.Cancel()
	}
}

func TestLimiterCapsATargetOverManySources(t *testing.T) {
	l, advance := testLimiter(NewStudentLimiter())
	checked := 0
	for i := range 58 { // a new address for every guess, a guess every 61 s: past every wait
		if try(l, "addr"+string(rune('a'+i%26))+string(rune('a'+i/26)), "student:ali", false) {
			checked++
		}
		advance(61 * time.Second)
	}
	if checked != 30 {
		t.Errorf("%d guesses from many addresses checked in an hour, want the cap of 30", checked)
	}
	// The teacher lifts it.
	if !l.Slowed("student:ali") {
		t.Fatal("the target is not reported slowed")
	}
	l.Unlock("student:ali")
	if !try(l, "tablet", "student:ali", true) || l.Slowed("student:ali") {
		t.Error("after Unlock the right PIN was refused or the student is still slowed")
	}
	// A success does not reset the hourly cap.
	l, advance2 := testLimiter(NewStudentLimiter())
	n := 0
	for i := range 200 {
		if try(l, "addr"+string(rune('a'+i%26))+string(rune('a'+i/26)), "student:ali", false) {
			n++
		}
		if i%10 == 0 {
			try(l, "ali's tablet", "student:ali", true)
		}
		advance2(10 * time.Second)
	}
	if n > 30 {
		t.Errorf("%d guesses checked in 2000 s while the owner kept signing in, want at most 30", n)
	}
	// An hour later the window is over.
	advance2(time.Hour)
	if !try(l, "elsewhere", "student:ali", false) {
		t.Error("an attempt an hour later was refused")
	}
}

func TestAccountsAreNotLockedFromElsewhere(t *testing.T) {
	l, advance := testLimiter(NewAccountLimiter())
	// An attacker fails from many addresses, as fast as allowed.
	for i := range 300 {
		try(l, "evil"+string(rune('a'+i%26))+string(rune('a'+i/26)), "user:aziza", false)
		advance(time.Second)
	}
	if !l.Slowed("user:aziza") {
		t.Fatal("the account is not slowed down after 300 failures")
	}
	// Aziza's laptop has not failed: it gets in.
	if !try(l, "laptop", "user:aziza", true) {
		t.Error("the teacher's right password from a clean device was refused")
	}
	// A source that failed is held to the target's limit.
	try(l, "phone", "user:aziza", false)
	if a, wait := l.Begin("phone", "user:aziza"); a != nil || wait == 0 {
		t.Error("a failing source was not held to the account's limit")
	}
	// A burst from one clean source still gets only the free attempts.
	l, _ = testLimiter(NewAccountLimiter())
	n := 0
	for range 50 {
		if _, wait := l.Begin("burst", "user:aziza"); wait == 0 {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d attempts of a burst from a clean source let through, want 5", n)
	}
}
