package box_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/i18n"
)

// TestBrowserProjectorAndPhones plays a live session on two projectors
// (1280×720 and 1920×1080, neither signed in) and 360×640 phones, one of
// them in Tajik, with the teacher leading from a third projector page in
// their own browser by the space bar. In every phase each projector shows
// the whole phase without scrolling and no text under 28 px (a long
// question with eight long choices shrinks to fit instead); the
// projector's and the phones' choices have the same colour and shape by
// index, with white text at WCAG AA contrast; a phone shows its right or
// wrong result without scrolling; true and false are neither red nor green
// before the reveal; space on a projector without the teacher's cookie
// sends nothing; F toggles full screen. The screenshots (projector-*,
// phone-*) are kept in $STEMBOX_ARTIFACTS/projector.
func TestBrowserProjectorAndPhones(t *testing.T) {
	_, base, br, teacher := liveBox(t, 300*time.Second)
	shots := &shooter{browsertest.NewShots(t, "projector", "")}
	teacher.open(base+"/live/new", "/live/new")
	teacher.do(
		chromedp.Click(chromedp.CSS(`input[name=source][value=adhoc]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=title]`), "Physics: energy"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q1_prompt]`), "A ball is thrown straight up. At the highest point, which energy is largest?"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q1_choices]`), "Kinetic energy\n*Potential energy\nThermal energy\nSound energy"),
		chromedp.SetValue(chromedp.CSS(`select[name=q2_kind]`), "truefalse"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q2_prompt]`), "Energy can be created from nothing."),
		chromedp.SetValue(chromedp.CSS(`select[name=q2_truth]`), "false"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q3_prompt]`), strings.Repeat("A long question that goes on and on, as some do. ", 6)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q3_choices]`), strings.Repeat("A choice that is rather long, longer than a line on a phone\n", 7)+"*The right one, just as long as the others are, or longer"),
		chromedp.SetValue(chromedp.CSS(`select[name=timer]`), "300"),
	)
	teacher.submit(`form.live-new button[type=submit]`, "/live/")
	code := strings.Split(strings.TrimPrefix(teacher.path(), "/live/"), "/")[0]
	control := "/live/" + code + "/control"
	teacher.waitText(`.live-controls`, "Start")

	small := br.tab(t, "projector 1280", chromedp.EmulateViewport(1280, 720))
	big := br.tab(t, "projector 1920", chromedp.EmulateViewport(1920, 1080))
	for _, s := range []*tab{small, big} {
		s.open(base+"/live/"+code+"/screen", "/live/"+code+"/screen")
		s.waitText(`.live-code`, code)
		s.waitJS(`document.querySelector('img.live-qr').naturalWidth > 0`)
		if n := len(s.all(`header.top, footer.foot, #offline-conn`)); n != 0 {
			s.t.Errorf("%s: the projector shows %d of the site's header, footer, connection banner", s.name, n)
		}
	}

	var phones []*tab
	for i, nick := range []string{"Зарина", "Farrukh", "Anna", "Сино"} {
		s := br.tab(t, fmt.Sprintf("phone %d", i+1), phone)
		if i == 0 {
			s.open(base+"/lang/tg?next=/live/"+code, "/live/"+code)
		} else {
			s.open(base+"/live/"+code, "/live/"+code)
		}
		s.do(chromedp.SendKeys(chromedp.CSS(`input[name=nickname]`), nick))
		s.submit(`form.live-join button.button`, "/live/"+code+"/play")
		s.waitJS(`document.querySelector('.live-wait')`)
		phones = append(phones, s)
	}
	tg := phones[0]
	small.waitText(`.live-players`, "Сино")
	big.waitText(`.live-players`, "Сино")
	fits(small, big, "lobby")
	shots.take(small, "projector-lobby")

	// Space on a projector without the teacher's cookie sends nothing.
	sent, err := chromedp.Run(small.ctx, chromedp.Evaluate[int](`(function(){var l=window.stemboxLive, n=0, send=l.ws.send;
		l.ws.send=function(){n++; return send.apply(l.ws, arguments)};
		document.dispatchEvent(new KeyboardEvent('keydown', {key: ' ', bubbles: true}));
		document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
		l.ws.send=send; return n})()`))
	if err != nil || sent != 0 {
		t.Errorf("space on a projector without the teacher's cookie sent %d messages (%v), want none", sent, err)
	}

	// The teacher's own projector leads by the keyboard.
	lead := teacher
	lead.open(base+"/live/"+code+"/screen", "/live/"+code+"/screen")
	if got := lead.attr(`#live`, "data-connect"); got != "teacher" {
		t.Fatalf("the teacher's projector connects as %q, want teacher", got)
	}
	lead.waitJS(`window.stemboxLive.state && window.stemboxLive.state.phase === 'lobby'`)
	lead.do(chromedp.KeyEvent("f"))
	lead.waitJS(`document.fullscreenElement === document.documentElement`)
	lead.do(chromedp.KeyEvent("f"))
	lead.waitJS(`!document.fullscreenElement`)
	space := func(want string) {
		t.Helper()
		lead.do(chromedp.KeyEvent(" "))
		for _, s := range []*tab{small, big, lead} {
			s.waitJS(fmt.Sprintf(`document.getElementById('live').getAttribute('data-phase') === %q`, want))
		}
	}

	// Question 1.
	space("open")
	for _, s := range []*tab{small, big} {
		s.waitText(`.live-prompt`, "highest point")
		s.waitText(`.live-timer`, "s")
	}
	for _, p := range phones {
		p.waitJS(`document.querySelectorAll('.live-choice').length === 4`)
	}
	fits(small, big, "question")
	sameMarks(t, small, tg, 4)
	contrastAA(small, `.live-options li`)
	contrastAA(tg, `.live-choice`)
	shots.take(small, "projector-question")
	shots.take(tg, "phone-question")
	for i, p := range phones[:3] {
		p.click(fmt.Sprintf(`.live-choice:nth-child(%d)`, []int{2, 2, 1}[i]))
		p.waitJS(`document.querySelector('.live-ack.ok')`)
	}
	small.waitText(`.live-count`, "3 of 4")
	space("closed")
	space("revealed")
	small.waitJS(`document.querySelectorAll('.live-barrow').length === 4 && document.querySelector('.live-barrow.right .live-barcount').textContent === '2'`)
	if got := small.text(`.live-barrow.right .live-barname`); got != "Potential energy" {
		t.Errorf("the chart marks %q as right, want Potential energy", got)
	}
	fits(small, big, "reveal")
	shots.take(small, "projector-reveal")
	for i, p := range phones[:3] {
		p.waitJS(`document.querySelector('.live-result')`)
		resultInView(p, []bool{true, true, false}[i])
	}
	shots.take(tg, "phone-result")
	space("board")
	small.waitText(`.live-board`, "Зарина")
	fits(small, big, "leaderboard")

	// Question 2: true or false; the phones' buttons neither red nor green.
	space("open")
	tg.waitText(`.live-choice`, i18n.T("tg", "live.true"))
	sameMarks(t, small, tg, 2)
	colours, err := chromedp.Run(tg.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('.live-choice'), b => getComputedStyle(b).backgroundColor)`))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range colours {
		if c == "rgb(198, 40, 40)" || c == "rgb(46, 125, 50)" {
			t.Errorf("true/false button %d is %s (red or green) before the reveal", i, c)
		}
	}
	fits(small, big, "true or false")
	for _, p := range phones {
		p.click(`.live-choice:nth-child(2)`)
		p.waitJS(`document.querySelector('.live-ack.ok')`)
	}
	space("closed")
	space("revealed")
	fits(small, big, "true or false revealed")
	resultInView(tg, true)

	// Question 3: a long question with eight long choices shrinks to fit.
	space("board")
	space("open")
	small.waitJS(`document.querySelectorAll('.live-options li').length === 8`)
	tg.waitJS(`document.querySelectorAll('.live-choice').length === 8`)
	sameMarks(t, small, tg, 8)
	fitsShrunk(small, big, "long question")
	shots.take(small, "projector-long-question")
	shots.take(tg, "phone-long-question")
	space("closed")
	space("revealed")
	small.waitJS(`document.querySelectorAll('.live-barrow').length === 8`)
	fitsShrunk(small, big, "long question revealed")

	// The end: the podium.
	lead.open(base+control, control)
	lead.acceptDialogs()
	lead.click(`.live-cmd-end`)
	for _, s := range []*tab{small, big} {
		s.waitJS(`document.querySelector('.live-podium .live-step-1')`)
		s.waitText(`.live-ended`, "The session has ended")
	}
	fits(small, big, "podium")
	shots.take(small, "projector-podium")
}

// fits fails the test when a projector's phase does not fit its screen:
// the page scrolls, an element's text lies outside the screen or is cut
// off by the stage, or text is smaller than 28 px.
func fits(projectors ...any) { fitsAt(28, projectors...) }

// fitsShrunk is fits for a phase too long for 28 px type: it may be smaller.
func fitsShrunk(projectors ...any) { fitsAt(8, projectors...) }

func fitsAt(minPx float64, projectors ...any) {
	phase := projectors[len(projectors)-1].(string)
	for _, p := range projectors[:len(projectors)-1] {
		s := p.(*tab)
		s.t.Helper()
		m, err := chromedp.Run(s.ctx, chromedp.Evaluate[map[string]any](`(function(){
			var se = document.scrollingElement, vh = innerHeight, vw = innerWidth, st = document.querySelector('.live-stage');
			var r = {scroll: se.scrollHeight, width: se.scrollWidth, vh: vh, vw: vw, minFont: 1000, small: '', outside: '',
				stage: st.scrollHeight - st.clientHeight};
			var w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), n;
			while ((n = w.nextNode())) {
				if (!n.nodeValue.trim()) { continue; }
				var range = document.createRange(); range.selectNodeContents(n);
				var b = range.getBoundingClientRect();
				if (!b.width || !b.height) { continue; }
				var e = n.parentElement, f = parseFloat(getComputedStyle(e).fontSize);
				if (f < r.minFont) { r.minFont = f; r.small = e.className + ': ' + n.nodeValue.trim().slice(0, 40); }
				if (b.bottom > vh + 1 || b.right > vw + 1 || b.top < -1) { r.outside += e.className + ': ' + n.nodeValue.trim().slice(0, 40) + ' (' + Math.round(b.bottom) + '); '; }
			}
			return r})()`))
		if err != nil {
			s.fatalf("measure the %s: %v", phase, err)
		}
		if m["scroll"].(float64) > m["vh"].(float64) || m["width"].(float64) > m["vw"].(float64) {
			s.t.Errorf("%s, %s: the page is %v×%v, the screen %v×%v", s.name, phase, m["width"], m["scroll"], m["vw"], m["vh"])
		}
		if m["stage"].(float64) > 1 {
			s.t.Errorf("%s, %s: the stage's content is %v px taller than the stage", s.name, phase, m["stage"])
		}
		if m["outside"].(string) != "" {
			s.t.Errorf("%s, %s: text outside the screen: %s", s.name, phase, m["outside"])
		}
		if m["minFont"].(float64) < minPx {
			s.t.Errorf("%s, %s: text of %v px (%s), want ≥ %v px", s.name, phase, m["minFont"], m["small"], minPx)
		}
	}
}

// sameMarks fails the test unless the projector's n choices and the
// phone's have the same colour and shape, index by index.
func sameMarks(t *testing.T, screen, phone *tab, n int) {
	t.Helper()
	js := `Array.from(document.querySelectorAll(%q), e => getComputedStyle(e).backgroundColor + " " + e.querySelector('svg.live-shape').getAttribute('data-shape') + " " + e.querySelector('.live-letter').textContent)`
	var got [2][]string
	for i, s := range []*tab{screen, phone} {
		sel := []string{`.live-options li`, `.live-choice`}[i]
		v, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(js, sel)))
		if err != nil {
			s.fatalf("read the choices: %v", err)
		}
		got[i] = v
	}
	if len(got[0]) != n || strings.Join(got[0], "|") != strings.Join(got[1], "|") {
		t.Errorf("the projector's choices %q and the phone's %q differ (want %d alike)", got[0], got[1], n)
	}
	seen := map[string]bool{}
	for _, m := range got[0] {
		f := strings.Fields(m)
		shape := f[len(f)-2]
		if seen[shape] {
			t.Errorf("two choices have the shape %s: %q", shape, got[0])
		}
		seen[shape] = true
	}
}

// resultInView fails the test unless the phone shows its result, right or
// wrong, inside the screen without scrolling.
func resultInView(p *tab, right bool) {
	p.t.Helper()
	want := "bad"
	if right {
		want = "ok"
	}
	p.waitJS(fmt.Sprintf(`document.querySelector('.live-result.%s')`, want))
	in, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(function(){var b = document.querySelector('.live-result').getBoundingClientRect();
		return window.scrollY === 0 && b.top >= 0 && b.bottom <= innerHeight && b.height > 0})()`))
	if err != nil || !in {
		p.t.Errorf("%s: the result is not inside the 360×640 screen (%v)", p.name, err)
	}
}

// contrastAA fails the test unless the text of every element css matches
// has a WCAG contrast of at least 4.5:1 on the element's background.
func contrastAA(tb *tab, css string) {
	tb.t.Helper()
	low, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(function(){
		function lum(c) {
			var v = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(function (x) { x = x / 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
			return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
		}
		return Array.from(document.querySelectorAll(%q)).map(function (e) {
			var s = getComputedStyle(e), a = lum(s.color), b = lum(s.backgroundColor);
			var r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
			return r < 4.5 ? e.textContent.trim() + ': ' + r.toFixed(2) : '';
		}).filter(String)})()`, css)))
	if err != nil {
		tb.fatalf("contrast of %s: %v", css, err)
	}
	if len(low) > 0 || err != nil {
		tb.t.Errorf("%s: %s below WCAG AA (4.5:1): %q", tb.name, css, low)
	}
}
