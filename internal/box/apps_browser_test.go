package box_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
)

// newAppBox is newOffBox with the mini pack carrying two apps: the sample
// physics simulation (slope, in the lesson speed) and a test app that
// tries every escape from its sandbox (escape, in the lesson force).
func newAppBox(t *testing.T) *offBox {
	t.Helper()
	o := newOffBoxStopped(t)
	mini := filepath.Join(o.packs, "mini")
	slope, err := os.ReadFile("../../content-packs/physics-forces-motion/apps/slope.html")
	if err != nil {
		t.Fatal(err)
	}
	escape, err := os.ReadFile("testdata/escape.html")
	if err != nil {
		t.Fatal(err)
	}
	contenttest.AddApp(t, mini, "slope", slope, "speed")
	contenttest.AddApp(t, mini, "escape", escape, "force")
	o.start()
	t.Cleanup(o.stop)
	return o
}

// appResults returns the app.result events the box holds, by app.
func (o *offBox) appResults() map[string][]event.AppResult {
	o.t.Helper()
	evs, err := o.db().EventsAfter(context.Background(), 0, 10000)
	if err != nil {
		o.t.Fatal(err)
	}
	out := map[string][]event.AppResult{}
	for _, ev := range evs {
		if ev.Kind == event.KindAppResult {
			var a event.AppResult
			if err := json.Unmarshal(ev.Payload, &a); err != nil {
				o.t.Fatal(err)
			}
			a.Learner = ev.Actor
			out[a.App] = append(out[a.App], a)
		}
	}
	return out
}

func (o *offBox) waitResults(app string, n int) []event.AppResult {
	o.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := o.appResults()[app]
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			o.t.Fatalf("waited 30 s for %d results of app %s; the box holds %+v", n, app, o.appResults())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// appFrame returns a context for the frame of the app whose page is at a
// URL containing entry (a sandboxed frame runs in a process of its own).
func (tb *offTab) appFrame(entry string) context.Context {
	tb.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		infos, err := chromedp.Targets(tb.ctx)
		if err != nil {
			tb.fatalf("targets: %v", err)
		}
		for _, in := range infos {
			if in.Type == "iframe" && strings.Contains(in.URL, entry) {
				ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(in.TargetID))
				tb.t.Cleanup(cancel)
				return ctx
			}
		}
		if time.Now().After(deadline) {
			tb.fatalf("no frame of %s among the targets %+v", entry, infos)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func pages(tb *offTab) []*target.Info {
	infos, _ := chromedp.Targets(tb.ctx)
	var out []*target.Info
	for _, in := range infos {
		if in.Type == "page" {
			out = append(out, in)
		}
	}
	return out
}

// TestAppEscapes opens a lesson with an app that tries to leave its
// sandbox, as a signed-in student: it cannot read the box's cookies or
// storage, call the API or a teacher's page with her session, move or
// replace the page, open a window or post a form; its messages of the
// wrong shape or a megabyte are dropped, and a result sent by a frame that
// is not an app of the page does not count.
func TestAppEscapes(t *testing.T) {
	offSkip(t)
	ob := newAppBox(t)
	sc := ob.school("Zarina Rahimova")
	br := offStartBrowser(t, 3*time.Minute)
	st := br.device(t, "student", ob.url(""))
	st.signIn(sc.class.Code, "Zarina Rahimova")
	before := len(pages(st))
	st.open("/packs/mini/lessons/force")

	got := ob.waitResults("escape", 1)
	time.Sleep(2 * time.Second) // anything the app sent later would be counted by now
	got = ob.appResults()["escape"]
	if len(got) != 1 {
		t.Fatalf("the box holds %d results of the escaping app, want the one valid one: %+v", len(got), got)
	}
	r := got[0]
	if r.Learner != "student:"+sc.students[0].ID || !r.Completed || r.Score != 1 || r.Max != 1 {
		t.Errorf("the valid result is %+v", r)
	}
	notes := map[string]string{}
	for _, f := range strings.Fields(r.Summary) {
		k, v, _ := strings.Cut(f, ":")
		notes[k] = v
	}
	t.Logf("the app noted: %s", r.Summary)
	for k, want := range map[string]string{
		"cookie": "SecurityError", "storage": "SecurityError", "top": "SecurityError", "open": "null",
		"answers": "TypeError", "teach": "TypeError", "own": "status200",
	} {
		if notes[k] != want {
			t.Errorf("the app's attempt %s got %q, want %q", k, notes[k], want)
		}
	}
	if p := st.path(); p != "/packs/mini/lessons/force" {
		t.Errorf("the app moved the page to %s", p)
	}
	if n := len(pages(st)); n != before {
		t.Errorf("the browser has %d pages, had %d: the app opened a window", n, before)
	}
	if a := ob.answers(); len(a) != 0 {
		t.Errorf("the app's form or fetch stored answers: %+v", a)
	}
	// Still signed in: the app's top.location = '/logout' did nothing.
	if who := st.text(`form.who a`); who != "Zarina Rahimova" {
		t.Errorf("the header reads %q", who)
	}

	// A result from a frame that is not an app of the page.
	st.do(chromedp.Evaluate[chromedp.Void](`(function(){var f=document.createElement("iframe");f.setAttribute("sandbox","allow-scripts");` +
		`f.src=document.querySelector("iframe[data-app=escape]").src.split("#")[0]+"#forge";document.body.appendChild(f)})()`))
	time.Sleep(3 * time.Second)
	if n := len(ob.appResults()["escape"]); n != 1 {
		t.Errorf("after a forged result from another frame the box holds %d results of the app, want 1", n)
	}
}

// TestAppSimulation is the physics simulation in its lesson on a phone: it
// answers touch and the mouse, its score reaches the teacher's heatmap, and
// it works on the phone with the box away after one visit.
func TestAppSimulation(t *testing.T) {
	offSkip(t)
	ob := newAppBox(t)
	sc := ob.school("Zarina Rahimova")
	if err := ob.db().Assign(context.Background(), "", sc.class.ID, "mini", "app", "slope"); err != nil {
		t.Fatal(err)
	}
	shots := newOffShooter(t, "apps")
	br := offStartBrowser(t, 3*time.Minute)
	st := br.device(t, "student", ob.url(""))
	st.signIn(sc.class.Code, "Zarina Rahimova")
	st.open("/packs/mini/lessons/speed")
	st.controlled("/packs/mini/lessons/speed")
	st.noSideScroll("lesson with a simulation")

	sim := st.appFrame("/apps/slope.html")
	// The frame's own events drive it (a sandboxed frame runs in a process
	// of its own, which chromedp's touch and mouse do not reach yet).
	js := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(sim, chromedp.Evaluate[string](expr))
		if err != nil {
			st.fatalf("in the simulation: %s: %v", expr, err)
		}
		return v
	}
	st.waitJS("the simulation to load", `true`, time.Second)
	time.Sleep(2 * time.Second)
	js(`document.getElementById("go").click(), ""`)
	time.Sleep(time.Second)
	if s := js(`document.getElementById("state").textContent`); !strings.Contains(s, "slides") {
		t.Errorf("after release the simulation says %q", s)
	}
	// Round 1: μ = 0.25, so the block starts to slide at 14°.
	js(`(function(){var a=document.getElementById("angle");a.value="14";a.dispatchEvent(new Event("input"));document.getElementById("check").click();return ""})()`)
	if v := js(`document.getElementById("verdict").textContent`); !strings.Contains(v, "Right") {
		t.Errorf("after checking 14° the simulation says %q", v)
	}
	res := ob.waitResults("slope", 1)
	if r := res[0]; r.Score != 1 || r.Max != 3 || r.Completed || r.Learner != "student:"+sc.students[0].ID {
		t.Errorf("the simulation's result is %+v", r)
	}
	st.waitJS("the page to say the result is saved", `document.getElementById("app-ui").textContent.indexOf("Result saved: 1 / 3")>=0`, 10*time.Second)
	shots.take(st, "lesson-sim")

	// The teacher's heatmap shows it.
	teacher := br.other(t, "teacher", ob.url(""), chromedp.EmulateViewport(1280, 900))
	teacher.open("/login")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "aziza"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), offPassword),
	)
	teacher.tapTo(`form[action="/login"] button[type=submit]`, "/teach")
	teacher.open("/teach/classes/" + sc.class.ID + "/progress")
	heads := offJS[[]string](teacher, `Array.from(document.querySelectorAll("table.heatmap thead th"), function(th){return th.textContent.trim()})`)
	cells := offJS[[]string](teacher, `Array.from(document.querySelectorAll("table.heatmap tbody tr td"), function(td){return td.className+" "+td.textContent.trim()})`)
	if len(heads) != 4 || heads[3] != "Simulation: App slope" || len(cells) != 3 || cells[2] != "cell started 33%" {
		t.Errorf("the heatmap's columns are %q and Zarina's cells %q, want the simulation started at 33%%", heads, cells)
	}
	shots.take(teacher, "teacher-heatmap")

	// The box goes away; the lesson and its simulation open on the phone.
	ob.stop()
	st.load("/packs/mini/lessons/speed", chromedp.Reload())
	st.waitJS("the simulation to open from the device", `!!document.querySelector("iframe[data-app=slope][data-offline]")`, 20*time.Second)
	sim = st.appFrame("/apps/slope.html")
	time.Sleep(2 * time.Second)
	js(`document.getElementById("check").click(), ""`)
	st.waitJS("the result to be kept", `document.getElementById("app-ui").textContent.indexOf("kept on this device")>=0`, 10*time.Second)
	shots.take(st, "lesson-sim-offline")
	ob.start()
	res = ob.waitResults("slope", 2)
	if len(res) != 2 {
		t.Errorf("after the box came back it holds %d results, want 2", len(res))
	}
}
