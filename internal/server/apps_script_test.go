package server_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/mitstem/stembox/web"
)

// TestSampleAppsAreES5 checks the scripts of the sample packs' simulations
// as the box's own: old phones run them.
func TestSampleAppsAreES5(t *testing.T) {
	apps, _ := filepath.Glob("../../content-packs/*/apps/*.html")
	if len(apps) < 2 {
		t.Fatalf("the sample packs hold the apps %q, want the physics and the climate simulations", apps)
	}
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	for _, name := range apps {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ms := script.FindAllStringSubmatch(string(src), -1)
		if len(ms) == 0 {
			t.Errorf("%s has no inline script", name)
		}
		for _, m := range ms {
			checkES5(t, name, m[1])
		}
		for _, lang := range []string{"en:", "ru:", "tg:"} {
			if !strings.Contains(string(src), lang+" {") {
				t.Errorf("%s has no texts in %s", name, strings.TrimSuffix(lang, ":"))
			}
		}
	}
}

// TestAppResultShape runs apps.js's check of a result message outside a
// browser: only the exact shape of version 1 passes.
func TestAppResultShape(t *testing.T) {
	src, err := fs.ReadFile(web.Static, "static/apps.js")
	if err != nil {
		t.Fatal(err)
	}
	vm := goja.New()
	if _, err := vm.RunScript("apps.js", string(src)); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<20)
	for _, c := range []struct {
		msg  string
		pass bool
	}{
		{`({type: "stembox.result", version: 1, completed: true, score: 2, max: 3, summary: "ok"})`, true},
		{`({type: "stembox.result", version: 1, completed: false, score: 0, max: 0, summary: ""})`, true},
		{`({type: "stembox.result", version: 2, completed: true, score: 2, max: 3, summary: "ok"})`, false},
		{`({type: "stembox.result", version: 1, completed: 1, score: 2, max: 3, summary: "ok"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: 4, max: 3, summary: "ok"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: -1, max: 3, summary: "ok"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: NaN, max: 3, summary: "ok"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: 1, max: Infinity, summary: "ok"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: 2, max: 3, summary: "ok", learner: "x"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: 2, max: 3})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: 2, max: 3, summary: "` + strings.Repeat("é", 201) + `"})`, false},
		{`({type: "stembox.result", version: 1, completed: true, score: 2, max: 3, summary: "` + big + `"})`, false},
		{`"` + big + `"`, false},
		{`JSON.stringify({type: "stembox.result", version: 1, completed: true, score: 2, max: 3, summary: "ok"})`, false},
		{`[1, 2]`, false},
		{`null`, false},
	} {
		v, err := vm.RunString(`stemboxApps.check(` + c.msg + `) !== null`)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.ToBoolean(); got != c.pass {
			t.Errorf("check(%.90s) passes: %v, want %v", c.msg, got, c.pass)
		}
	}
}
