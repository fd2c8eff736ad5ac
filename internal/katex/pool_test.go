package katex

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestPoolRendersInParallelAndCaches(t *testing.T) {
	p := NewPool(3, 1<<20)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tex := fmt.Sprintf(`\frac{%d}{x^2}`, i%20)
			html, err := p.Render(tex, i%2 == 0)
			if err != nil {
				errs <- err
				return
			}
			if !strings.Contains(html, `class="katex"`) {
				errs <- fmt.Errorf("%s: no KaTeX markup in %.200s", tex, html)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := p.Started(); got < 1 || got > 3 {
		t.Errorf("pool of 3 started %d renderers, want 1 to 3", got)
	}
	if got := p.cache.len(); got != 20 {
		t.Errorf("cache holds %d formulas, want the 20 distinct ones", got)
	}
}

func TestPoolCachesRefusedFormulas(t *testing.T) {
	p := NewPool(1, 1<<20)
	for range 2 {
		_, err := p.Render(`\href{http://x}{y}`, false)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Command != `\href` {
			t.Fatalf("\\href: %v, want a *ParseError naming \\href", err)
		}
	}
	if got := p.cache.len(); got != 1 {
		t.Errorf("cache holds %d, want the refused formula", got)
	}
}

func TestLRUStaysWithinItsBytes(t *testing.T) {
	c := newLRU(1000)
	for i := range 100 {
		c.put(cacheKey{tex: fmt.Sprint(i)}, entry{html: strings.Repeat("x", 100)})
		if c.size > 1000 {
			t.Fatalf("after %d puts the cache holds %d bytes, over its 1000", i+1, c.size)
		}
	}
	if _, ok := c.get(cacheKey{tex: "99"}); !ok {
		t.Error("the newest formula was dropped")
	}
	if _, ok := c.get(cacheKey{tex: "0"}); ok {
		t.Error("the oldest formula was kept")
	}
	c.get(cacheKey{tex: "95"}) // used: kept over 96
	c.put(cacheKey{tex: "new"}, entry{html: strings.Repeat("x", 100)})
	if _, ok := c.get(cacheKey{tex: "95"}); !ok {
		t.Error("a recently used formula was dropped before older ones")
	}
}
