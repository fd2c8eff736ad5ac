package markup_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/markup"
)

func TestLessonApp(t *testing.T) {
	r := MustRenderer(t)
	apps := func(id string) (markup.App, error) {
		if id != "slope" {
			return markup.App{}, errors.New("no such app")
		}
		return markup.App{ID: "slope", Src: "pack:apps/slope.html", Title: `Slope & "friction"`}, nil
	}
	src := "# Friction\n\nTry it:\n\n::app slope\n\nText after.\n"
	doc, err := r.Lesson([]byte(src), markup.Options{App: apps})
	if err != nil {
		t.Fatal(err)
	}
	want := `<figure class="app" data-app="slope"><iframe src="pack:apps/slope.html" sandbox="allow-scripts" title="Slope &amp; &quot;friction&quot;" data-app="slope"></iframe></figure>`
	if !strings.Contains(doc.HTML, want) {
		t.Errorf("the lesson embeds\n%s\nwant it to hold\n%s", doc.HTML, want)
	}
	if !strings.Contains(doc.HTML, "<p>Text after.</p>") || !strings.Contains(doc.HTML, "<p>Try it:</p>") {
		t.Errorf("the text around the app is lost:\n%s", doc.HTML)
	}

	for _, c := range []struct{ src, want string }{
		{"# T\n\n::app nothing\n", "line 3: app \"nothing\": no such app"},
		{"# T\n\nSee ::app slope here\n\n::app Slope!\n", "line 5: an app is embedded by a paragraph of its own"},
	} {
		if _, err := r.Lesson([]byte(c.src), markup.Options{App: apps}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Lesson(%q) = %v, want an error with %q", c.src, err, c.want)
		}
	}
	// Raw HTML stays escaped, directive or not; without App the directive is text.
	doc, err = r.Lesson([]byte("# T\n\n::app slope\n\n<iframe src=x>\n"), markup.Options{})
	if err != nil || strings.Contains(doc.HTML, "<iframe") || !strings.Contains(doc.HTML, "::app slope") {
		t.Errorf("without apps the lesson reads %q, %v", doc.HTML, err)
	}
}
