package katex

import (
	"container/list"
	"errors"
	"sync"
)

// Pool renders formulas with several Renderers in parallel, for formulas
// rendered while someone waits: the studio's live preview, where many
// teachers type at once. A Renderer runs one formula at a time, so one of
// them would make twenty teachers queue behind each other.
//
// Renderers are started lazily, when every one already started is busy, up
// to the pool's size; a call waits for a free one after that. Results, and
// the errors of formulas KaTeX refuses, are kept in a cache shared by all
// of them, bounded in bytes and emptied least recently used first, since a
// teacher's paragraph is sent again with every few keystrokes and most of
// its formulas did not change. A Pool is safe for concurrent use; its zero
// value is not usable (NewPool).
type Pool struct {
	size  int
	free  chan *Renderer
	mu    sync.Mutex // guards made
	made  int
	cache *lru
	// newRenderer makes a renderer; New, except in tests.
	newRenderer func() (*Renderer, error)
}

// NewPool returns a pool of at most size renderers (at least one) and a
// cache of at most cacheBytes of rendered formulas (none if 0).
func NewPool(size int, cacheBytes int) *Pool {
	size = max(size, 1)
	return &Pool{size: size, free: make(chan *Renderer, size), cache: newLRU(cacheBytes), newRenderer: New}
}

// Started returns how many renderers the pool has started.
func (p *Pool) Started() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made
}

// Render is (*Renderer).Render on a free renderer of the pool, or from the
// cache. Formulas KaTeX refuses (*ParseError) are cached too; timeouts and
// other failures are not.
func (p *Pool) Render(tex string, display bool) (string, error) {
	key := cacheKey{tex, display}
	if e, ok := p.cache.get(key); ok {
		return e.html, e.err
	}
	r, err := p.take()
	if err != nil {
		return "", err
	}
	html, err := r.Render(tex, display)
	p.free <- r
	var pe *ParseError
	if err == nil || errors.As(err, &pe) {
		p.cache.put(key, entry{html: html, err: err})
	}
	return html, err
}

// take returns a free renderer, starting one if all are busy and the pool
// is not full, else waiting for one.
func (p *Pool) take() (*Renderer, error) {
	select {
	case r := <-p.free:
		return r, nil
	default:
	}
	p.mu.Lock()
	if p.made < p.size {
		p.made++
		p.mu.Unlock()
		r, err := p.newRenderer()
		if err != nil {
			p.mu.Lock()
			p.made--
			p.mu.Unlock()
			return nil, err
		}
		// Its own cache would only duplicate the pool's.
		r.cache = nil
		return r, nil
	}
	p.mu.Unlock()
	return <-p.free, nil
}

// entry is a cached result.
type entry struct {
	html string
	err  error
}

// lru is a cache of rendered formulas bounded in bytes, emptied least
// recently used first.
type lru struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *lruItem, most recently used first
	items map[cacheKey]*list.Element
}

type lruItem struct {
	key cacheKey
	val entry
}

func newLRU(maxBytes int) *lru {
	return &lru{max: maxBytes, order: list.New(), items: map[cacheKey]*list.Element{}}
}

// cost is about what an item holds in memory.
func (it *lruItem) cost() int {
	n := len(it.key.tex) + len(it.val.html) + 64
	if it.val.err != nil {
		n += len(it.val.err.Error())
	}
	return n
}

func (c *lru) get(k cacheKey) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return entry{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem).val, true
}

func (c *lru) put(k cacheKey, v entry) {
	it := &lruItem{key: k, val: v}
	if it.cost() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.size -= el.Value.(*lruItem).cost()
		el.Value = it
		c.order.MoveToFront(el)
	} else {
		c.items[k] = c.order.PushFront(it)
	}
	c.size += it.cost()
	for c.size > c.max {
		el := c.order.Back()
		old := el.Value.(*lruItem)
		c.order.Remove(el)
		delete(c.items, old.key)
		c.size -= old.cost()
	}
}

// len returns the number of cached formulas.
func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
