package box_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
)

// TestBrowserLiveSession drives a live session end to end in a real
// headless Chromium: a teacher types three questions into /live/new and
// leads from the control page; a projector shows the join code, the QR
// code, who joined, the live count and the chart; three students on phones
// join by the link, answer, and one of them reloads the page mid-question
// and keeps the answer. Screenshots of the projector are kept in
// $STEMBOX_ARTIFACTS/live (else a temporary directory). It uses the
// browser helpers of browser_test.go.
func TestBrowserLiveSession(t *testing.T) {
	// 1. The teacher (the box's first admin) signs in, types three
	// questions and makes the session.
	b, base, br, teacher := liveBox(t, 240*time.Second)
	shots := liveShooter(t)
	teacher.open(base+"/live/new", "/live/new")
	teacher.do(
		chromedp.Click(chromedp.CSS(`input[name=source][value=adhoc]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=title]`), "Физика: повторение"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q1_prompt]`), "Сколько будет 2 + 2?"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q1_choices]`), "3\n*4\n5"),
		chromedp.SetValue(chromedp.CSS(`select[name=q2_kind]`), "numeric"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q2_prompt]`), "g, m/s²?"),
		chromedp.SetValue(chromedp.CSS(`input[name=q2_number]`), "9.8"),
		chromedp.SetValue(chromedp.CSS(`input[name=q2_tolerance]`), "0.1"),
		chromedp.SetValue(chromedp.CSS(`select[name=q3_kind]`), "poll"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q3_prompt]`), "Понравился урок?"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q3_choices]`), "Да\nНет"),
		chromedp.SetValue(chromedp.CSS(`select[name=timer]`), "0"),
	)
	teacher.submit(`form.live-new button[type=submit]`, "/live/")
	code := strings.Split(strings.TrimPrefix(teacher.path(), "/live/"), "/")[0]
	if len(code) != 6 || !strings.HasSuffix(teacher.path(), "/control") {
		t.Fatalf("after creating, the teacher is on %s, want /live/CODE/control", teacher.path())
	}
	teacher.waitText(`.live-controls`, "Start")

	// 2. The projector: no sign-in, the code and the QR code.
	screen := br.tab(t, "projector", chromedp.EmulateViewport(1280, 800))
	screen.open(base+"/live/"+code+"/screen", "/live/"+code+"/screen")
	screen.waitText(`.live-code`, code)
	screen.waitJS(`document.querySelector('img.live-qr').naturalWidth > 0`)
	shots.take(screen, "lobby")

	// 3. Three students join by the link, on phones.
	var students []*tab
	for i, nick := range []string{"Зарина", "Фаррух", "Anna"} {
		s := br.tab(t, fmt.Sprintf("student %d", i+1), phone)
		s.open(base+"/live/"+code, "/live/"+code)
		s.do(chromedp.SendKeys(chromedp.CSS(`input[name=nickname]`), nick))
		s.submit(`form.live-join button.button`, "/live/"+code+"/play")
		s.waitText(`.live-stage`, "Waiting for the teacher")
		students = append(students, s)
	}
	screen.waitText(`.live-count`, "Players: 3")
	screen.waitText(`.live-players`, "Фаррух")
	shots.take(screen, "joined")

	// 4. Question 1: two answer; the third answers, reloads, keeps it.
	teacher.click(`.live-cmd-start`)
	screen.waitText(`.live-prompt`, "2 + 2")
	for _, s := range students[:2] {
		s.waitText(`.live-prompt`, "2 + 2")
		s.click(`.live-choice.live-c1`)
		s.waitText(`.live-ack`, "Answer received")
	}
	third := students[2]
	third.waitText(`.live-prompt`, "2 + 2")
	third.click(`.live-choice.live-c0`)
	third.waitText(`.live-ack`, "Answer received")
	third.do(chromedp.Reload())
	third.waitText(`.live-ack`, "Answer received")
	third.waitJS(`document.querySelector('.live-choice.live-c0').className.indexOf('picked') >= 0 &&
		document.querySelector('.live-choice.live-c1').disabled`)
	screen.waitText(`.live-count`, "3 of 3 answered")
	shots.take(screen, "answers")

	teacher.click(`.live-cmd-close`)
	students[0].waitText(`.live-ack`, "Answer received")
	teacher.click(`.live-cmd-reveal`)
	screen.waitJS(`document.querySelectorAll('.live-barrow').length === 3 &&
		document.querySelector('.live-barrow.right .live-barcount').textContent === '2'`)
	shots.take(screen, "reveal")
	students[0].waitText(`.live-result`, "Right!")
	third.waitText(`.live-result`, "Not this time.")
	teacher.click(`.live-cmd-board`)
	screen.waitText(`.live-board`, "Зарина")
	shots.take(screen, "leaderboard")

	// 5. Question 2: a number, typed.
	teacher.click(`.live-cmd-next`)
	for i, s := range students {
		s.waitText(`.live-qn`, "Question 2 of 3")
		s.do(chromedp.SendKeys(chromedp.CSS(`input.live-text`), []string{"9.8", "9,75", "12"}[i]))
		s.click(`form.live-answer button.button`)
		s.waitText(`.live-ack`, "Answer received")
	}
	teacher.click(`.live-cmd-close`)
	teacher.click(`.live-cmd-reveal`)
	screen.waitText(`.live-solution`, "9.8")
	shots.take(screen, "numeric")
	students[1].waitText(`.live-result`, "Right!")
	students[2].waitText(`.live-result`, "Not this time.")

	// 6. Question 3: a poll, then the end.
	teacher.click(`.live-cmd-next`)
	for _, s := range students {
		s.waitText(`.live-prompt`, "Понравился")
		s.click(`.live-choice.live-c0`)
		s.waitText(`.live-ack`, "Answer received")
	}
	teacher.click(`.live-cmd-close`)
	teacher.click(`.live-cmd-reveal`)
	screen.waitJS(`document.querySelectorAll('.live-barrow').length === 2`)
	teacher.acceptDialogs()
	teacher.click(`.live-cmd-end`)
	screen.waitText(`.live-ended`, "The session has ended")
	for _, s := range students {
		s.waitText(`.live-ended`, "The session has ended")
	}
	shots.take(screen, "ended")

	// 7. Results: the teacher's table, and every answer an event.
	teacher.open(base+"/live/"+code+"/results", "/live/"+code+"/results")
	teacher.waitText(`table`, "Anna")
	rec, err := b.DB().LiveSessionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := b.DB().LiveResponses(context.Background(), rec.ID)
	if err != nil || len(rs) != 9 {
		t.Fatalf("stored %d responses (%v), want 9: 3 students × 3 questions", len(rs), err)
	}
	evs, _ := b.DB().EventsAfter(context.Background(), 0, 1000)
	n := 0
	for _, ev := range evs {
		if ev.Kind == event.KindLiveResponse {
			n++
		}
	}
	if n != 9 {
		t.Errorf("%d live.response events, want 9", n)
	}
}

// Helpers of this test, on top of browser_test.go's tab.

// liveBox starts a box with the mini pack and a browser bounded by
// timeout, and signs the box's first admin in: the teacher, on /admin.
func liveBox(t *testing.T, timeout time.Duration) (b *box.Box, base string, br *browser, teacher *tab) {
	t.Helper()
	browsertest.Need(t)
	data, packs := t.TempDir(), t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, _ = mustRunBox(t, data, packs)
	base = "http://" + b.Addr().String()
	br = startBrowser(t, timeout)
	teacher = br.tab(t, "teacher", nil)
	teacher.open(base+"/setup", "/setup")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "teacher"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "live-session-pw"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password2]`), "live-session-pw"),
	)
	teacher.submit(`form button[type=submit]`, "/admin")
	return b, base, br, teacher
}

// waitJS waits until a JavaScript condition holds.
func (tb *tab) waitJS(cond string) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`!!(function(){try{return `+cond+`}catch(e){return false}})()`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.fatalf("waited 15 s for %s; the page says:\n%s", cond, tb.bodyText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitText waits until the element sel's text contains want.
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf(`(document.querySelector(%q)||{}).textContent.indexOf(%q) >= 0`, sel, want))
}

// click clicks a button once it is there and enabled.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e && !e.disabled})()`, sel))
	tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// acceptDialogs makes window.confirm say yes, as a teacher does.
func (tb *tab) acceptDialogs() {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`window.confirm = function(){return true}; true`)); err != nil {
		tb.fatalf("stub confirm: %v", err)
	}
}

// liveShooter saves the projector's screenshots.
func liveShooter(t *testing.T) *shooter {
	return &shooter{browsertest.NewShots(t, "live", "projector-")}
}
