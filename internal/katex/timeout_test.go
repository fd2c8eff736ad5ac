package katex

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRenderTimeout(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r.timeout = 20 * time.Millisecond
	long := strings.Repeat(`\frac{a_1}{b_1} + \sqrt{c^2} + `, 100) + "z" // takes ~0.5 s
	if _, err := r.Render(long, false); !errors.Is(err, errTimeout) {
		t.Fatalf("Render(a long formula) with a 20ms limit: %v, want errTimeout", err)
	}
	// The runtime is usable again, and a stale interrupt does not hit the
	// next call.
	r.timeout = renderTimeout
	time.Sleep(30 * time.Millisecond)
	if _, err := r.Render(`\frac{1}{2}`, false); err != nil {
		t.Errorf("Render after a timeout: %v", err)
	}
}

func TestRenderDeepNesting(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	// Deep but sane formulas render.
	for _, tex := range []string{
		strings.Repeat(`\sqrt{`, 40) + "x" + strings.Repeat("}", 40),
		strings.Repeat(`x^{`, 40) + "x" + strings.Repeat("}", 40),
		strings.Repeat(`\frac{1}{`, 20) + "x" + strings.Repeat("}", 20),
		`\begin{pmatrix}` + strings.Repeat(strings.Repeat("a_{ij} & ", 4)+`a \\`, 5) + `\end{pmatrix}`,
		strings.Repeat(`\frac{a_1}{b_1} + \sqrt{c^2} + `, 10) + "z",
	} {
		if _, err := r.Render(tex, true); err != nil {
			t.Errorf("Render(%.40q…): %v", tex, err)
		}
	}
	// Absurd nesting is an error, quickly.
	start := time.Now()
	deep := strings.Repeat(`\sqrt{`, 1000) + "x" + strings.Repeat("}", 1000)
	if _, err := r.Render(deep, false); err == nil || err.Error() != "katex: formula nested too deeply" {
		t.Errorf("Render(1000 nested \\sqrt) = %v, want katex: formula nested too deeply", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Render(1000 nested \\sqrt) took %v", d)
	}
}
