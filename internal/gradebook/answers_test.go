package gradebook

import "testing"

func TestPlainText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>Name the <b>quantity</b> &amp; its unit.</p>", "Name the quantity & its unit."},
		{"<p>One</p><p>two<br>three</p>", "One two three"},
		{`<p>Name <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>s</mi><mi mathvariant="normal">/</mi><mi>t</mi></mrow><annotation encoding="application/x-tex">s/t</annotation></semantics></math></span><span class="katex-html" aria-hidden="true"><span class="base"><span class="mord mathnormal">s</span><span class="mord">/</span></span></span></span>?</p>`,
			"Name $s/t$?"},
	} {
		if got := PlainText(tc.in); got != tc.want {
			t.Errorf("PlainText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
