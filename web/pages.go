package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
)

// Pages parses, once, each template that matches pattern (such as
// "templates/hub-*.html") together with layout (such as
// "templates/hub-layout.html"), with funcs. It returns the pages by name:
// the file's name without ".html". The layout is not a page of its own.
func Pages(pattern, layout string, funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(Templates, pattern)
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if n == layout {
			continue
		}
		name := strings.TrimSuffix(path.Base(n), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(Templates, layout, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}
