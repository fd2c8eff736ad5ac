package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPoolBoundsConcurrency(t *testing.T) {
	p := NewPool(2, time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Hash(context.Background(), "1234"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := p.Stats()
	if st.Peak != 2 || st.Done != 20 || st.Running != 0 {
		t.Errorf("stats %+v, want peak 2, done 20, running 0", st)
	}
}

func TestPoolSendsAwayWhenFull(t *testing.T) {
	p := NewPool(1, 20*time.Millisecond)
	hold, held := make(chan struct{}), make(chan struct{})
	go p.Do(context.Background(), func() { close(held); <-hold })
	<-held
	if _, err := p.Verify(context.Background(), Hash("x"), "x"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the only slot held: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Do(ctx, func() {}); !errors.Is(err, context.Canceled) {
		t.Errorf("Do with a cancelled context: %v, want context.Canceled", err)
	}
	close(hold)
	if ok, err := p.Verify(context.Background(), Hash("x"), "x"); !ok || err != nil {
		t.Errorf("Verify after the slot was freed: %v, %v", ok, err)
	}
	if st := p.Stats(); st.Refused != 1 {
		t.Errorf("refused %d, want 1", st.Refused)
	}
}
