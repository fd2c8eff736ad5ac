package server_test

import (
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/web"
)

// offlineScripts are the scripts of working offline; old phones run them.
var offlineScripts = []string{
	"static/offline.js", "static/offline-queue.js", "static/offline-sync.js", "static/offline-exercise.js", "static/offline-packs.js",
	"static/sw.js", "static/sw-packs.js", "static/sw-versions.js", "static/sw-messages.js", "static/sw-fetch.js",
	"static/devtime.js", "static/apps.js",
	// The live sessions' scripts run on the same phones.
	"static/live-socket.js", "static/live-view.js", "static/live-play.js", "static/live-control.js", "static/live-screen.js", "static/live-new.js",
}

// TestOfflineScriptsAreSmall keeps each script of working offline under 400
// lines, so that each stays about one idea, and checks that every file of
// web/static whose name starts with offline or sw is one of them.
func TestOfflineScriptsAreSmall(t *testing.T) {
	for _, name := range offlineScripts {
		src, err := fs.ReadFile(web.Static, name)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(src), "\n"); n >= 400 {
			t.Errorf("%s has %d lines; split it by idea below 400", name, n)
		}
	}
	all, err := fs.Glob(web.Static, "static/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		base := strings.TrimPrefix(f, "static/")
		if (strings.HasPrefix(base, "offline") || strings.HasPrefix(base, "sw")) && !slices.Contains(offlineScripts, f) {
			t.Errorf("%s is not in offlineScripts: it is neither checked as ES5 nor for its size", f)
		}
	}
}

// TestOfflineScriptsAreES5 parses the scripts and refuses what Chrome 70
// lacks (optional chaining, ??, private fields) and, to keep them plain
// ES5 for older phones still, every later syntax: arrow functions, classes,
// let and const, template strings, destructuring, spread, async and await.
func TestOfflineScriptsAreES5(t *testing.T) {
	for _, name := range offlineScripts {
		src, err := fs.ReadFile(web.Static, name)
		if err != nil {
			t.Fatal(err)
		}
		checkES5(t, name, string(src))
	}
}

// checkES5 fails t for every piece of src that is not ES5.
func checkES5(t *testing.T, name, src string) {
	t.Helper()
	prog, err := parser.ParseFile(nil, name, src, 0)
	if err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	walkJS(reflect.ValueOf(prog), func(n any) {
		if what := notES5(n); what != "" {
			pos := prog.File.Position(int(n.(ast.Node).Idx0()) - prog.File.Base())
			t.Errorf("%s:%d: %s", name, pos.Line, what)
		}
	})
}

func notES5(n any) string {
	switch n := n.(type) {
	case *ast.ArrowFunctionLiteral:
		return "arrow function"
	case *ast.ClassLiteral, *ast.ClassDeclaration:
		return "class"
	case *ast.TemplateLiteral:
		return "template string"
	case *ast.LexicalDeclaration, *ast.ForLoopInitializerLexicalDecl:
		return "let or const"
	case *ast.ForOfStatement:
		return "for…of"
	case *ast.SpreadElement:
		return "spread"
	case *ast.AwaitExpression:
		return "await"
	case *ast.YieldExpression:
		return "yield"
	case *ast.OptionalChain, *ast.Optional:
		return "optional chaining"
	case *ast.PrivateIdentifier, *ast.PrivateDotExpression:
		return "private field"
	case *ast.ArrayPattern, *ast.ObjectPattern:
		return "destructuring"
	case *ast.PropertyShort:
		return "shorthand property"
	case *ast.PropertyKeyed:
		if n.Computed {
			return "computed property"
		}
		if n.Kind == ast.PropertyKindMethod {
			return "method shorthand"
		}
	case *ast.FunctionLiteral:
		if n.Async || n.Generator {
			return "async function or generator"
		}
		if n.ParameterList != nil {
			if n.ParameterList.Rest != nil {
				return "rest parameter"
			}
			for _, b := range n.ParameterList.List {
				if b.Initializer != nil {
					return "default parameter"
				}
			}
		}
	case *ast.BinaryExpression:
		if n.Operator == token.COALESCE || n.Operator == token.EXPONENT {
			return "operator " + n.Operator.String()
		}
	case *ast.AssignExpression:
		if n.Operator == token.COALESCE || n.Operator == token.EXPONENT {
			return "operator " + n.Operator.String() + "="
		}
	}
	return ""
}

// walkJS calls f on every node of a goja syntax tree.
func walkJS(v reflect.Value, f func(any)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer {
			if _, ok := v.Interface().(ast.Node); ok {
				f(v.Interface())
			}
			if v.Elem().Kind() != reflect.Struct {
				return
			}
		}
		walkJS(v.Elem(), f)
	case reflect.Struct:
		if v.Type().PkgPath() != "github.com/dop251/goja/ast" {
			return // file positions and such
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkJS(v.Field(i), f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkJS(v.Index(i), f)
		}
	}
}

// offlineLib runs offline.js outside a browser, where it only defines its
// helpers (window.StemboxOffline).
func offlineLib(t *testing.T) (*goja.Runtime, *goja.Object) {
	t.Helper()
	src, err := fs.ReadFile(web.Static, "static/offline.js")
	if err != nil {
		t.Fatal(err)
	}
	vm := goja.New()
	if _, err := vm.RunScript("offline.js", string(src)); err != nil {
		t.Fatal(err)
	}
	lib := vm.Get("StemboxOffline")
	if lib == nil || goja.IsUndefined(lib) {
		t.Fatal("offline.js defines no StemboxOffline")
	}
	return vm, lib.ToObject(vm)
}

func call(t *testing.T, vm *goja.Runtime, lib *goja.Object, fn string, args ...any) goja.Value {
	t.Helper()
	f, ok := goja.AssertFunction(lib.Get(fn))
	if !ok {
		t.Fatalf("StemboxOffline.%s is not a function", fn)
	}
	vals := make([]goja.Value, len(args))
	for i, a := range args {
		vals[i] = vm.ToValue(a)
	}
	v, err := f(lib, vals...)
	if err != nil {
		t.Fatalf("%s(%v): %v", fn, args, err)
	}
	return v
}

func TestOfflineULIDs(t *testing.T) {
	vm, lib := offlineLib(t)
	const ms = 1767225600123 // 2026-01-01
	first := call(t, vm, lib, "ulid", ms).String()
	if !event.ValidID(first) {
		t.Fatalf("ulid() = %q, which the box refuses as an answer id", first)
	}
	id := ulid.MustParseStrict(first)
	if id.Time() != ms {
		t.Errorf("ulid(%d) holds the time %d", ms, id.Time())
	}
	// In the same millisecond (and after the clock went back) ids still
	// increase, by one in their random part.
	prev := first
	for i := 0; i < 300; i++ {
		at := ms
		if i%3 == 2 {
			at = ms - 5000
		}
		next := call(t, vm, lib, "ulid", at).String()
		if !event.ValidID(next) || next <= prev {
			t.Fatalf("id %d = %q after %q: want a valid, larger id", i, next, prev)
		}
		prev = next
	}
	a, b := ulid.MustParseStrict(first).Entropy(), ulid.MustParseStrict(call(t, vm, lib, "ulid", ms+1).String()).Entropy()
	if string(a) == string(b) {
		t.Errorf("ids of different milliseconds share their random part %x", a)
	}
	// With the current clock.
	now := call(t, vm, lib, "ulid").String()
	if !event.ValidID(now) {
		t.Errorf("ulid() = %q", now)
	}
}

func TestOfflineHelpers(t *testing.T) {
	vm, lib := offlineLib(t)
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"Saved on this device — will send when connected (%d waiting)", 3}, "Saved on this device — will send when connected (3 waiting)"},
		{[]any{"Частично верно: %d%%", 60}, "Частично верно: 60%"},
		{[]any{"%s needed, %s free.", "2 MB", "1 MB"}, "2 MB needed, 1 MB free."},
		{[]any{"no verbs"}, "no verbs"},
	} {
		if got := call(t, vm, lib, "fmt", tc.args...).String(); got != tc.want {
			t.Errorf("fmt%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	ui := map[string]string{"kb": "%s KB", "mb": "%s MB", "gb": "%s GB"}
	uiRu := map[string]string{"kb": "%s КБ", "mb": "%s МБ", "gb": "%s ГБ"}
	for _, tc := range []struct {
		n    int64
		ui   map[string]string
		lang string
		want string
	}{
		{100, ui, "en", "1 KB"},
		{250000, ui, "en", "244 KB"},
		{1500000, ui, "en", "1.4 MB"},
		{1500000, uiRu, "ru", "1,4 МБ"},
		{30 << 20, ui, "en", "30 MB"},
		{3 << 30, uiRu, "tg", "3,0 ГБ"},
	} {
		if got := call(t, vm, lib, "size", tc.n, tc.ui, tc.lang).String(); got != tc.want {
			t.Errorf("size(%d, %s) = %q, want %q", tc.n, tc.lang, got, tc.want)
		}
	}
	ex := call(t, vm, lib, "exercise", "/packs/mini/sets/speed/3").Export()
	want := map[string]any{"pack": "mini", "set": "speed", "n": int64(3), "setURL": "/packs/mini/sets/speed"}
	if !reflect.DeepEqual(ex, want) {
		t.Errorf("exercise(...) = %#v, want %#v", ex, want)
	}
	for _, p := range []string{"/packs/mini/sets/speed", "/packs/mini/lessons/speed", "/packs/mini/sets/speed/3/x"} {
		if v := call(t, vm, lib, "exercise", p); !goja.IsNull(v) {
			t.Errorf("exercise(%q) = %v, want null", p, v)
		}
	}
	for _, tc := range []struct {
		correct bool
		score   float64
		want    string
	}{{true, 1, "right"}, {false, 0.5, "partly"}, {false, 0, "wrong"}} {
		if got := call(t, vm, lib, "verdictKind", map[string]any{"correct": tc.correct, "score": tc.score}).String(); got != tc.want {
			t.Errorf("verdictKind(%v, %v) = %q, want %q", tc.correct, tc.score, got, tc.want)
		}
	}
	if strings.Contains(fmt.Sprint(vm.Get("document")), "object") {
		t.Error("the test runtime has a document; the script would start")
	}
}

// The check above would see what it looks for.
func TestES5CheckFindsLaterSyntax(t *testing.T) {
	for _, src := range []string{
		"var f = function (x) { return x; };\nvar g = x => x;",
		"let a = 1;", "const b = 2;", "var s = `t`;", "var c = a?.b;", "var d = a ?? b;",
		"class A {}", "async function f() { await g(); }", "var {a} = o;", "f(...xs);",
		"var o = {a};", "var o = {m() {}};", "for (var x of xs) {}", "function f(a = 1) {}",
		"var e = 2 ** 3;", "var o = {[k]: 1};",
	} {
		prog, err := parser.ParseFile(nil, "x.js", src, 0)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		var found []string
		walkJS(reflect.ValueOf(prog), func(n any) {
			if what := notES5(n); what != "" {
				found = append(found, fmt.Sprintf("%d: %s", prog.File.Position(int(n.(ast.Node).Idx0())-prog.File.Base()).Line, what))
			}
		})
		if len(found) == 0 {
			t.Errorf("%q: nothing found", src)
		}
		if strings.HasPrefix(src, "var f") && found[0] != "2: arrow function" {
			t.Errorf("%q: found %v, want an arrow function on line 2", src, found)
		}
	}
}
