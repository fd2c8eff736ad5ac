package logtest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/logtest"
)

func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b logtest.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got, want := strings.Count(b.Take(), "line\n"), 800; got != want {
		t.Errorf("Take has %d lines, want %d", got, want)
	}
	if got := b.Take(); got != "" {
		t.Errorf("a second Take = %q, want nothing", got)
	}
}
