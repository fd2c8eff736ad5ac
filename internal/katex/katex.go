// Package katex renders TeX formulas to HTML with KaTeX, run in the pure-Go
// JavaScript engine goja. Packs are rendered when they are built, so neither
// the box nor the students' browsers run any JavaScript for formulas: they
// only need KaTeX's stylesheet and fonts (web/static/vendor/katex).
//
// katex.min.js, LICENSE and VERSION are vendored from the npm package by
// `make vendor-katex`; do not edit them by hand.
package katex

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

//go:embed katex.min.js
var script string

//go:embed VERSION
var vendoredVersion string

// Version is the version of the vendored KaTeX.
func Version() string { return strings.TrimSpace(vendoredVersion) }

// Output is the KaTeX output mode. "htmlAndMathml" adds a visually hidden
// MathML copy of each formula that screen readers read; it roughly doubles
// the size of a formula's markup but keeps a typical lesson well under 60 KB.
const Output = "htmlAndMathml"

// shims defines the few browser globals KaTeX touches outside the DOM code
// that rendering to a string never reaches: \message and \show write to
// console.log unguarded.
const shims = `var console = {log: function () {}, warn: function () {}, error: function () {}};`

// program is katex.min.js compiled once per process. A goja.Program is not
// tied to a runtime and may be run by several at once, so every Renderer
// shares it and New only pays for running it.
var program = sync.OnceValues(func() (*goja.Program, error) {
	p, err := goja.Compile("katex.min.js", script, false)
	if err != nil {
		return nil, fmt.Errorf("katex: compile katex.min.js: %w", err)
	}
	return p, nil
})

// Renderer renders formulas with one goja runtime holding KaTeX.
//
// It is safe for concurrent use: a mutex serialises calls into the runtime,
// which goja requires, so calls do not run in parallel. A typical formula
// takes 1–5 ms; results are cached by formula, so the same formula in
// another language of a pack costs nothing.
type Renderer struct {
	mu        sync.Mutex
	vm        *goja.Runtime
	render    goja.Callable // katex.renderToString
	opts      [2]goja.Value // KaTeX options for inline (0) and display (1) math
	untrusted []string      // commands refused by trust during the current call
	cache     map[cacheKey]string
	timeout   time.Duration
}

// cacheKey identifies a rendered formula. A lesson's formulas are usually
// the same in every language of a pack, so a cache saves most of the work.
type cacheKey struct {
	tex     string
	display bool
}

const (
	// maxCached bounds the cache; when it is full it is emptied.
	maxCached = 4096
	// renderTimeout bounds the time one formula may take. Deeply nested input
	// (a thousand \frac inside each other) makes KaTeX slow in goja; real
	// formulas take milliseconds.
	renderTimeout = 5 * time.Second
	// maxCallStack bounds the depth of JavaScript calls, so that absurd
	// nesting fails fast (goja's errors copy the whole call stack, which
	// gets slow when it is deep). It allows about 80 nested \sqrt or
	// superscripts; real formulas nest a handful.
	maxCallStack = 2000
)

// errTimeout is what Render returns when a formula takes too long.
var errTimeout = fmt.Errorf("katex: formula took longer than %v to render", renderTimeout)

// New loads KaTeX into a fresh JavaScript runtime. The first call in a process
// also compiles katex.min.js (about 50 ms); later calls take a few ms.
func New() (*Renderer, error) {
	p, err := program()
	if err != nil {
		return nil, err
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	if _, err := vm.RunString(shims); err != nil {
		return nil, fmt.Errorf("katex: shims: %w", err)
	}
	if _, err := vm.RunProgram(p); err != nil {
		return nil, fmt.Errorf("katex: load katex.min.js: %w", err)
	}
	k := vm.Get("katex")
	if k == nil || goja.IsUndefined(k) {
		return nil, errors.New("katex: katex.min.js defined no katex object")
	}
	obj := k.ToObject(vm)
	render, ok := goja.AssertFunction(obj.Get("renderToString"))
	if !ok {
		return nil, errors.New("katex: katex.renderToString is not a function")
	}
	if got := obj.Get("version").String(); got != Version() {
		return nil, fmt.Errorf("katex: katex.min.js is version %s, VERSION says %s", got, Version())
	}
	r := &Renderer{vm: vm, render: render, cache: make(map[cacheKey]string), timeout: renderTimeout}
	for i, display := range []bool{false, true} {
		o := vm.NewObject()
		for name, v := range map[string]any{
			"displayMode":  display,
			"output":       Output,
			"throwOnError": true,
			// \href, \url, \includegraphics, \htmlClass and friends stay
			// disabled: a pack must not inject links or markup through TeX.
			// KaTeX renders a refused command as red text; trust records it
			// so that Render can fail instead.
			"trust": r.trust,
			// Accept what LaTeX would warn about, above all Unicode
			// (Cyrillic) letters in math and \text{}.
			"strict": "ignore",
		} {
			if err := o.Set(name, v); err != nil {
				return nil, fmt.Errorf("katex: set option %s: %w", name, err)
			}
		}
		r.opts[i] = o
	}
	return r, nil
}

// ParseError is a formula that cannot be rendered: KaTeX could not parse it,
// or it uses a command that trust refuses. The message is KaTeX's own for
// the first, for example "KaTeX parse error: Expected group after '^' at
// position 2: …", and "\href is not allowed in a formula" for the second.
type ParseError struct {
	Message string
	// Raw is KaTeX's message without its "KaTeX parse error: " prefix and
	// position ("Undefined control sequence: \foo"), when KaTeX gave one.
	Raw string
	// Position is where in the formula KaTeX stopped (from 0), or -1.
	Position int
	// Command is the command trust refused (`\href`), if that was the error.
	Command string
}

func (e *ParseError) Error() string { return e.Message }

// Render returns the HTML for the TeX formula tex, in display style (a
// centred block) when display is true, inline otherwise. A formula KaTeX
// cannot parse gives a *ParseError; one that takes over 5 s, or nests
// absurdly deep, an error too.
func (r *Renderer) Render(tex string, display bool) (string, error) {
	opts := r.opts[0]
	if display {
		opts = r.opts[1]
	}
	key := cacheKey{tex, display}
	r.mu.Lock()
	defer r.mu.Unlock()
	if html, ok := r.cache[key]; ok {
		return html, nil
	}
	r.untrusted = r.untrusted[:0]
	v, err := r.call(tex, opts)
	if err != nil {
		return "", r.convertError(err)
	}
	if len(r.untrusted) > 0 {
		return "", &ParseError{Message: fmt.Sprintf("%s is not allowed in a formula", r.untrusted[0]), Position: -1, Command: r.untrusted[0]}
	}
	html := v.String()
	if r.cache == nil {
		return html, nil // a Pool's renderer: the pool caches
	}
	if len(r.cache) >= maxCached {
		clear(r.cache)
	}
	r.cache[key] = html
	return html, nil
}

// call runs katex.renderToString, interrupting it after r.timeout. It must be
// called with r.mu held.
func (r *Renderer) call(tex string, opts goja.Value) (goja.Value, error) {
	var (
		lock sync.Mutex
		done bool
	)
	timer := time.AfterFunc(r.timeout, func() {
		lock.Lock()
		defer lock.Unlock()
		if !done {
			r.vm.Interrupt(errTimeout)
		}
	})
	v, err := r.render(goja.Undefined(), r.vm.ToValue(tex), opts)
	lock.Lock()
	done = true // from now on the timer leaves the runtime alone
	lock.Unlock()
	timer.Stop()
	r.vm.ClearInterrupt() // in case it fired after render returned
	return v, err
}

// trust is KaTeX's trust option: it refuses every command that asks (links,
// images, HTML classes, ids, styles and data attributes) and records it. It
// runs inside a call of Render, with r.mu held.
func (r *Renderer) trust(call goja.FunctionCall) goja.Value {
	cmd := "a command"
	if ctx, ok := call.Argument(0).(*goja.Object); ok {
		if c := ctx.Get("command"); c != nil && !goja.IsUndefined(c) {
			cmd = c.String()
		}
	}
	r.untrusted = append(r.untrusted, cmd)
	return r.vm.ToValue(false)
}

// convertError turns a JavaScript exception into a Go error. It must be
// called with r.mu held.
func (r *Renderer) convertError(err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return errTimeout
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return errors.New("katex: formula nested too deeply")
	}
	var ex *goja.Exception
	if !errors.As(err, &ex) {
		return fmt.Errorf("katex: %w", err)
	}
	obj, ok := ex.Value().(*goja.Object)
	if !ok {
		return fmt.Errorf("katex: %s", ex.Value())
	}
	msg := obj.Get("message")
	if msg == nil || goja.IsUndefined(msg) {
		return fmt.Errorf("katex: %s", ex.Value())
	}
	if name := obj.Get("name"); name != nil && name.String() == "ParseError" {
		pe := &ParseError{Message: msg.String(), Position: -1}
		if raw := obj.Get("rawMessage"); raw != nil && !goja.IsUndefined(raw) && !goja.IsNull(raw) {
			pe.Raw = raw.String()
		}
		if pos := obj.Get("position"); pos != nil && !goja.IsUndefined(pos) && !goja.IsNull(pos) {
			pe.Position = int(pos.ToInteger())
		}
		return pe
	}
	return fmt.Errorf("katex: %s: %s", obj.Get("name"), msg)
}
