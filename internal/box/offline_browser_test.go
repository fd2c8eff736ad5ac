package box_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/event"
)

// TestOfflineLessonAndQueuedAnswers is the story: a student opens a
// lesson; the box goes away; she reloads the lesson (the service worker
// shows it), answers three questions (kept on the phone, "3 waiting"); the
// box comes back; the three answers arrive once each, and the teacher sees
// them.
func TestOfflineLessonAndQueuedAnswers(t *testing.T) {
	offSkip(t)
	start := time.Now()
	ob := newOffBox(t)
	sc := ob.school("Zarina Rahimova")
	shots := newOffShooter(t, "lesson-and-answers")
	br := offStartBrowser(t, 3*time.Minute)
	st := br.device(t, "student", ob.url(""))

	// Online: she signs in; her page offers to save the pack of her work.
	st.signIn(sc.class.Code, "Zarina Rahimova")
	st.waitJS("the offer to save her work", `!!document.querySelector('[data-offline-pack="mini"] button')`, 20*time.Second)
	if offer := st.text(`[data-offline-pack="mini"]`); !strings.Contains(offer, "Mini pack") || !strings.Contains(offer, "about 50 KB") {
		t.Errorf("her page's offer to save reads %q", offer)
	}
	st.noSideScroll("student's page")
	shots.take(st, "home-online")
	// She opens the assigned lesson.
	st.open("/packs/mini/lessons/speed")
	st.controlled("/packs/mini/lessons/speed", "/packs/mini/sets/speed", "/packs/mini/sets/speed/3")
	st.waitConn("Connected to the box.", 10*time.Second)
	st.noSideScroll("lesson")
	shots.take(st, "lesson-online")
	learner := offJS[string](st, `document.getElementById("offline-conn").getAttribute("data-learner")`)
	if len(learner) != 24 {
		t.Fatalf("the lesson made for her carries the learner key %q", learner)
	}

	// The box goes away; she reloads the lesson.
	ob.stop()
	st.load("/packs/mini/lessons/speed", chromedp.Reload())
	if h1 := st.text(`main h1`); h1 != "Speed" {
		t.Errorf("the lesson reloaded offline is titled %q", h1)
	}
	if body := st.text(`article.lesson`); !strings.Contains(body, "Speed is distance divided by time") {
		t.Errorf("the lesson reloaded offline reads %q", body)
	}
	st.waitConn("No connection to the box.", 10*time.Second)
	st.noSideScroll("lesson offline")
	shots.take(st, "lesson-offline")

	// She practises: the set and its questions were kept with the lesson.
	st.tapTo(`form.cta a.button.secondary`, "/packs/mini/sets/speed")
	st.noSideScroll("set offline")
	st.tapTo(`p.cta a.button`, "/packs/mini/sets/speed/1")
	st.answerOffline(1, func() { st.tap(`//label[contains(@class,"choice")][span[normalize-space()="60 km/h"]]/input`) })
	st.waitConn("(1 waiting)", 5*time.Second)
	st.noSideScroll("question 1 kept")
	shots.take(st, "q1-kept")
	st.tapTo(`section.verdict.queued a.button`, "/packs/mini/sets/speed/2")
	st.answerOffline(2, func() {
		st.tap(`//label[contains(@class,"choice")][span[normalize-space()="m/s"]]/input`)
		st.tap(`//label[contains(@class,"choice")][span[normalize-space()="km/h"]]/input`)
	})
	st.tapTo(`section.verdict.queued a.button`, "/packs/mini/sets/speed/3")
	st.answerOffline(3, func() { st.tap(`input[name=text][value=false]`) })
	st.waitConn("Saved on this device — will send when connected (3 waiting)", 5*time.Second)
	st.noSideScroll("question 3 kept")
	shots.take(st, "three-waiting")
	kept := st.queue()
	if len(kept) != 3 {
		t.Fatalf("the phone keeps %d answers, want 3: %+v", len(kept), kept)
	}
	for i, a := range kept {
		if a.State != "waiting" || a.Learner != learner || a.N != i+1 || !event.ValidID(a.ID) {
			t.Errorf("kept answer %d = %+v, want question %d waiting under %s with a ULID", i+1, a, i+1, learner)
		}
	}

	// The box comes back (same address, same data): the answers go.
	ob.start()
	st.waitConn("Answers sent to the box: 3.", 40*time.Second)
	st.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	if h := st.text(`section.verdict h2`); h != "Correct!" {
		t.Errorf("the verdict that arrived for question 3 reads %q", h)
	}
	st.noSideScroll("verdict arrived")
	shots.take(st, "sent-and-checked")
	evs := ob.answers()
	checkOnce(t, evs, kept, "student:"+sc.students[0].ID)

	// A resend (a lost reply, a second tab) changes nothing.
	offJS[bool](st, `new Promise(function(resolve) {
		var r = indexedDB.open("stembox-offline", 1);
		r.onsuccess = function() {
			var tx = r.result.transaction("answers", "readwrite"), os = tx.objectStore("answers");
			os.getAll().onsuccess = function(e) { e.target.result.forEach(function(a) { a.state = "waiting"; os.put(a); }); };
			tx.oncomplete = function() { resolve(true); };
		};
	})`)
	st.load("/packs/mini/sets/speed", chromedp.Reload())
	st.waitConn("Answers sent to the box: 3.", 30*time.Second)
	checkOnce(t, ob.answers(), kept, "student:"+sc.students[0].ID)

	// The teacher's heatmap shows her work: 3 answers, all right (not yet mastered).
	teacher := br.teacher(t, ob.url(""))
	teacher.open("/teach/classes/" + sc.class.ID + "/progress")
	cells := offJS[[]string](teacher, `Array.from(document.querySelectorAll("table.heatmap tbody tr td"), function(td){return td.className+" "+td.textContent.trim()})`)
	if len(cells) != 2 || cells[0] != "cell started ◐ 3/3, started" {
		t.Errorf("the heatmap's cells for Zarina are %q, want the set started", cells)
	}
	shots.take(teacher, "teacher-heatmap")
	teacher.open("/teach/classes/" + sc.class.ID + "/sets/mini/speed")
	shots.take(teacher, "teacher-items")
	t.Logf("offline lesson and queued answers: %s", time.Since(start).Round(time.Millisecond))
}

// checkOnce checks that the box holds each kept answer exactly once, under
// the id the phone made, as the learner's.
func checkOnce(t *testing.T, evs []event.Event, kept []queuedAnswer, actor string) {
	t.Helper()
	byID := map[string]int{}
	for _, ev := range evs {
		byID[ev.ID]++
		if ev.Actor != actor {
			t.Errorf("answer %s is stored as %s's, want %s", ev.ID, ev.Actor, actor)
		}
	}
	if len(evs) != len(kept) {
		t.Errorf("the box holds %d answers, want %d", len(evs), len(kept))
	}
	for _, a := range kept {
		if byID[a.ID] != 1 {
			t.Errorf("answer %s (question %d) is stored %d times, want once", a.ID, a.N, byID[a.ID])
		}
	}
}

// TestOfflineTwoStudentsOneDevice: answers kept on a shared phone stay with
// the student who gave them, and go only under her name.
func TestOfflineTwoStudentsOneDevice(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	sc := ob.school("Nigina", "Sino")
	shots := newOffShooter(t, "two-students")
	br := offStartBrowser(t, 3*time.Minute)
	dev := br.device(t, "shared phone", ob.url(""))

	// Nigina answers while the box's answers cannot get through.
	dev.signIn(sc.class.Code, "Nigina")
	dev.open("/packs/mini/sets/speed/1")
	nigina := offJS[string](dev, `document.getElementById("offline-conn").getAttribute("data-learner")`)
	unblock := dev.blockAnswers()
	dev.answerOffline(1, func() { dev.tap(`//label[contains(@class,"choice")][span[normalize-space()="60 km/h"]]/input`) })
	dev.waitConn("(1 waiting)", 10*time.Second)
	shots.take(dev, "nigina-kept")

	// "Not me?": Sino takes the phone. She sees no waiting answers.
	dev.signOut(sc.class.Code)
	dev.tapTo(`//button[contains(@class,"tile") and normalize-space()="Sino"]`, "/me")
	sino := offJS[string](dev, `document.getElementById("offline-conn").getAttribute("data-learner")`)
	if sino == "" || sino == nigina {
		t.Fatalf("learner keys: Nigina %q, Sino %q; want two different keys", nigina, sino)
	}
	dev.waitConn("No connection to the box.", 15*time.Second)
	if c := dev.connText(); strings.Contains(c, "waiting") {
		t.Errorf("Sino's page shows Nigina's waiting answer: %q", c)
	}
	shots.take(dev, "sino-sees-none")
	dev.open("/packs/mini/sets/speed/2")
	if c := dev.connText(); strings.Contains(c, "waiting") {
		t.Errorf("Sino's question shows Nigina's waiting answer: %q", c)
	}
	dev.answerOffline(2, func() { dev.tap(`//label[contains(@class,"choice")][span[normalize-space()="kg"]]/input`) })
	dev.waitConn("(1 waiting)", 10*time.Second)
	shots.take(dev, "sino-kept")
	q := dev.queue()
	if len(q) != 2 || q[0].Learner != nigina || q[1].Learner != sino {
		t.Fatalf("the phone keeps %+v, want Nigina's answer then Sino's", q)
	}

	// The box is reachable again: only Sino's answer goes, under her name.
	unblock()
	dev.waitConn("Answers sent to the box: 1.", 30*time.Second)
	shots.take(dev, "sino-sent")
	evs := ob.answers()
	if len(evs) != 1 || evs[0].ID != q[1].ID || evs[0].Actor != "student:"+sc.students[1].ID {
		t.Fatalf("after Sino's page sent its queue the box holds %+v, want only Sino's answer %s", evs, q[1].ID)
	}
	if left := dev.queue(); left[0].State != "waiting" {
		t.Errorf("Nigina's answer was touched while Sino was signed in: %+v", left[0])
	}

	// Nigina signs in again: hers goes, under her name.
	dev.signOut(sc.class.Code)
	dev.tapTo(`//button[contains(@class,"tile") and normalize-space()="Nigina"]`, "/me")
	dev.waitConn("Answers sent to the box: 1.", 30*time.Second)
	shots.take(dev, "nigina-sent")
	evs = ob.answers()
	if len(evs) != 2 || evs[1].ID != q[0].ID || evs[1].Actor != "student:"+sc.students[0].ID {
		t.Fatalf("the box holds %+v, want Sino's answer, then Nigina's %s as hers", evs, q[0].ID)
	}
}

// TestOfflinePackUpdate: a pack saved for offline reading follows the pack
// when the box gets a new version of it.
func TestOfflinePackUpdate(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	shots := newOffShooter(t, "pack-update")
	br := offStartBrowser(t, 3*time.Minute)
	dev := br.device(t, "guest", ob.url(""))

	dev.open("/lang/en?next=/packs/mini/lessons/speed")
	dev.controlled("/packs/mini/lessons/speed")
	dev.do(chromedp.WaitVisible(chromedp.CSS(`[data-offline-save] button`)))
	intro := dev.text(`[data-offline-save] p`)
	if !strings.Contains(intro, "save them and their exercises on this device (about 50 KB)") {
		t.Errorf("the save control reads %q", intro)
	}
	shots.take(dev, "save-offered")
	dev.tap(`[data-offline-save] button`)
	dev.waitJS("the pack to be saved", `(function(){var b=document.querySelector("[data-offline-save]");return !!b&&b.innerText.indexOf("Saved on this device for reading offline")>=0})()`, 30*time.Second)
	saved := dev.text(`[data-offline-save]`)
	if !strings.Contains(saved, "Remove from this device") || !strings.Contains(saved, "stembox keeps") {
		t.Errorf("after saving, the control reads %q", saved)
	}
	dev.noSideScroll("lesson with the pack saved")
	shots.take(dev, "saved")
	oldName := packName(t, ob)
	caches := offJS[[]string](dev, `caches.keys()`)
	if !containsPrefix(caches, "stembox-pack-mini@"+oldName+"@en@") {
		t.Fatalf("caches %v: none for mini version %s", caches, oldName)
	}

	// A new version of the pack reaches the box (built from changed source).
	ob.stop()
	src := filepath.Join(ob.packs, "mini")
	for _, f := range []string{"lessons/speed.en.md", "lessons/force.en.md"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, f), append(b, "\n\nRevised in version 1.1.0 of the pack.\n"...), 0o644)
	}
	yml, _ := os.ReadFile(filepath.Join(src, "pack.yaml"))
	os.WriteFile(filepath.Join(src, "pack.yaml"), bytes.Replace(yml, []byte("version: 1.0.0"), []byte("version: 1.1.0"), 1), 0o644)
	ob.start()
	newName := packName(t, ob)
	if newName == oldName || !strings.HasPrefix(newName, "1.1.0-") {
		t.Fatalf("after the update the box serves mini %s (was %s)", newName, oldName)
	}

	// The student opens a lesson: the saved copy moves to the new version,
	// and the old one is gone.
	dev.open("/packs/mini/lessons/speed")
	dev.waitJS("the saved copy to move to "+newName, fmt.Sprintf(`caches.keys().then(function(ks){
		var now = ks.filter(function(k){return k.indexOf("stembox-pack-mini@")===0});
		return now.length===1 && now[0].indexOf("stembox-pack-mini@%s@")===0 })`, newName), 40*time.Second)
	dev.waitJS("the new copy to hold the other lesson", `caches.match("/packs/mini/lessons/force").then(function(r){return r?r.text():""}).then(function(t){return t.indexOf("Revised in version 1.1.0")>=0})`, 30*time.Second)
	shots.take(dev, "updated-online")

	// Offline, the lesson she never opened since the update is the new one.
	ob.stop()
	dev.open("/packs/mini/lessons/force")
	if body := dev.text(`article.lesson`); !strings.Contains(body, "Revised in version 1.1.0") {
		t.Errorf("offline, the saved lesson reads %q; want the new version", body)
	}
	dev.waitConn("No connection to the box.", 10*time.Second)
	shots.take(dev, "updated-offline")
	// A page that was never kept says so, in the page's language.
	dev.open("/teach")
	if h1 := dev.text(`main h1`); h1 != "Not on this device" {
		t.Errorf("an unsaved page offline is titled %q", h1)
	}
	dev.waitJS("the offline page to list what the device keeps", `document.querySelectorAll(".offline-packs a").length > 0`, 10*time.Second)
	if list := dev.text(`.offline-packs`); !strings.Contains(list, "Speed") || !strings.Contains(list, "Force") {
		t.Errorf("the offline page lists %q, want the saved lessons", list)
	}
	dev.noSideScroll("offline page")
	shots.take(dev, "offline-page")
}

func packName(t *testing.T, ob *offBox) string {
	t.Helper()
	ob.mu.Lock()
	defer ob.mu.Unlock()
	p, ok := ob.b.Library().Pack("mini")
	if !ok {
		t.Fatal("no pack mini")
	}
	return p.Name
}

func containsPrefix(xs []string, prefix string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

// TestOfflineWithoutServiceWorker: on the school's LAN the box is reached
// over plain http at an address that is not localhost, where browsers
// register no service worker. An exercise page that stays open still keeps
// its answer while the box is away and sends it when it is back; without
// JavaScript at all, the box's own form and verdict page work.
func TestOfflineWithoutServiceWorker(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	shots := newOffShooter(t, "no-service-worker")
	_, port, _ := net.SplitHostPort(ob.addr)
	base := "http://stembox.test:" + port // a LAN name: not a secure context
	br := offStartBrowser(t, 2*time.Minute, chromedp.Flag("host-resolver-rules", "MAP stembox.test 127.0.0.1"))
	dev := br.device(t, "phone on the LAN", base)

	dev.open("/lang/en?next=/packs/mini/sets/speed/4")
	if v := offJS[[2]bool](dev, `[window.isSecureContext, "serviceWorker" in navigator]`); v[0] || v[1] {
		t.Fatalf("on %s: secure context %v, service workers %v; want neither", base, v[0], v[1])
	}
	dev.waitConn("Connected to the box.", 10*time.Second)
	ob.stop()
	dev.answerOffline(4, func() { dev.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "5")) })
	dev.waitConn("(1 waiting)", 10*time.Second)
	if n := offJS[int](dev, `document.querySelectorAll("[data-offline-save] button").length`); n != 0 {
		t.Errorf("without a service worker the page offers to save %d packs", n)
	}
	shots.take(dev, "kept-without-worker")
	kept := dev.queue()
	ob.start()
	dev.waitConn("Answers sent to the box: 1.", 40*time.Second)
	dev.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	shots.take(dev, "sent-without-worker")
	if evs := ob.answers(); len(evs) != 1 || len(kept) != 1 || evs[0].ID != kept[0].ID {
		t.Fatalf("the box holds %+v, want the kept answer %+v once", evs, kept)
	}

	// No JavaScript: the bar does not show, the form posts, the box answers.
	nojs := br.other(t, "no JavaScript", base, phone)
	if _, err := chromedp.Call(nojs.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	nojs.open("/lang/en?next=/packs/mini/sets/speed/5")
	if d := offJS[string](nojs, `getComputedStyle(document.getElementById("offline-conn")).display`); d != "none" {
		t.Errorf("without JavaScript the connection bar shows (display %q)", d)
	}
	nojs.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "speed"))
	nojs.load("/packs/mini/sets/speed/5", chromedp.Tap(chromedp.CSS(`form.exercise button[type=submit]`)))
	nojs.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	nojs.noSideScroll("verdict without JavaScript")
	shots.take(nojs, "form-without-javascript")
	if evs := ob.answers(); len(evs) != 2 {
		t.Errorf("after the plain form the box holds %d answers, want 2", len(evs))
	}
}
