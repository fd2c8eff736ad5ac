package web_test

import (
	"html/template"
	"strings"
	"testing"

	"github.com/mitstem/stembox/web"
)

func TestPages(t *testing.T) {
	funcs := template.FuncMap{
		"t":     func(lang, key string, args ...any) string { return key },
		"asset": func(name string) string { return name },
	}
	pages, err := web.Pages("templates/hub-*.html", "templates/hub-layout.html", funcs)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pages["hub-layout"]; ok {
		t.Error("the layout is a page of its own, want it only around the pages")
	}
	p, ok := pages["hub-login"]
	if !ok {
		t.Fatalf("pages = %d without hub-login", len(pages))
	}
	if p.Lookup("hub-layout") == nil || p.Lookup("content") == nil {
		t.Errorf("hub-login has %s, want the layout and its content", p.DefinedTemplates())
	}
	if _, err := web.Pages("templates/hub-*.html", "templates/hub-layout.html", nil); err == nil || !strings.Contains(err.Error(), "template hub-") {
		t.Errorf("without the functions the pages use: %v, want an error naming the page", err)
	}
}
