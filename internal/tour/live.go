package tour

import (
	"fmt"
	"strings"
)

// The conditions of a live page that has drawn a phase.
const (
	inLobby   = `document.querySelector('.live-code') || document.querySelector('.live-stage')`
	hasPrompt = `document.querySelector('.live-prompt') && document.querySelector('.live-prompt').textContent.trim() !== ''`
	revealed  = `document.querySelector('.live-barrow') || document.querySelector('.live-result') || document.querySelector('.live-solution')`
	onBoard   = `document.querySelector('.live-board') && document.querySelector('.live-board').textContent.trim() !== ''`
	hasEnded  = `document.querySelector('.live-ended')`
	controls  = `document.querySelector('.live-controls button')`
)

// The questions of the quiz, in Tajik.
var prompts = []string{"Суръати 60 км/соат дар 2 соат чанд км мешавад?", "Қувва бо нютон чен карда мешавад.", "g, м/с²?"}

// liveQuiz runs a live quiz of three questions (a choice of four, true or
// false, a number) through every phase, with a projector at 1920×1080 and
// the four students on their phones.
func (t *tour) liveQuiz(teacher *tab, kids []*tab) {
	teacher.open("/live/new")
	teacher.capture("live-new", "")
	teacher.click(`input[name=source][value=adhoc]`)
	teacher.typeIn(`input[name=title]`, "Такрор: қувва ва ҳаракат")
	teacher.typeIn(`textarea[name=q1_prompt]`, prompts[0])
	teacher.typeIn(`textarea[name=q1_choices]`, "60\n*120\n30\n180")
	teacher.do(setValue(`select[name=q2_kind]`, "truefalse"))
	teacher.typeIn(`textarea[name=q2_prompt]`, prompts[1])
	teacher.do(setValue(`select[name=q2_truth]`, "true"))
	teacher.do(setValue(`select[name=q3_kind]`, "numeric"))
	teacher.typeIn(`textarea[name=q3_prompt]`, prompts[2])
	teacher.do(setValue(`input[name=q3_number]`, "9.8"), setValue(`input[name=q3_tolerance]`, "0.1"))
	teacher.do(setValue(`select[name=timer]`, "0"))
	teacher.submit(`form.live-new button[type=submit]`)
	parts := strings.Split(strings.TrimPrefix(teacher.path(), "/live/"), "/")
	if len(parts) != 2 || parts[1] != "control" {
		teacher.failf("after making a live session the teacher is on %s, want /live/CODE/control", teacher.path())
	}
	code := parts[0]
	teacher.waitJS(controls)
	teacher.capture("live-control-lobby", controls)

	screen := t.newTab("projector", "tg", Sizes[2])
	screen.open("/live/" + code + "/screen")
	screen.capture("live-screen-lobby", inLobby)

	for i, kid := range kids {
		kid.open("/live/" + code)
		if i == 0 {
			kid.capture("live-join", "")
		}
		kid.submit(`form.live-join button.button:not(.link)`)
		kid.waitJS(`document.querySelector('.live-stage')`)
		if i == 0 {
			kid.capture("live-play-lobby", `document.querySelector('.live-stage')`)
		}
	}
	screen.waitJS(fmt.Sprintf(`document.querySelectorAll('.live-players li.online').length >= %d`, len(kids)))
	screen.capture("live-screen-joined", inLobby)

	for q := 1; q <= 3; q++ {
		teacher.click(`.live-cmd-start, .live-cmd-next`)
		// The prompt of this question (the last one's stays until then),
		// and on the phones no answer yet.
		asked := fmt.Sprintf(`document.querySelector('.live-prompt') && document.querySelector('.live-prompt').textContent.indexOf(%q) >= 0`, prompts[q-1])
		screen.waitJS(asked)
		for _, kid := range kids {
			kid.waitJS(asked + ` && !document.querySelector('.live-ack')`)
		}
		if q == 1 {
			screen.capture("live-screen-question", hasPrompt)
			kids[0].capture("live-play-question", hasPrompt)
		}
		for i, kid := range kids {
			kid.answer(i)
		}
		screen.waitJS(fmt.Sprintf(`/·[^·]*%d\D+%d/.test(document.querySelector('.live-count').textContent)`, len(kids), len(kids)))
		if q == 1 {
			kids[0].capture("live-play-answered", `document.querySelector('.live-ack')`)
			teacher.capture("live-control-question", controls)
			screen.capture("live-screen-answered", hasPrompt)
		}
		teacher.click(`.live-cmd-close`)
		teacher.click(`.live-cmd-reveal`)
		screen.waitJS(revealed)
		if q == 1 || q == 3 {
			screen.capture(fmt.Sprintf("live-screen-reveal-q%d", q), revealed)
			kids[0].capture(fmt.Sprintf("live-play-reveal-q%d", q), `document.querySelector('.live-result')`)
		}
		if q == 1 {
			teacher.capture("live-control-reveal", controls)
			teacher.click(`.live-cmd-board`)
			screen.waitJS(onBoard)
			screen.capture("live-screen-board", onBoard)
		}
	}
	js[bool](teacher, `window.confirm = function(){ return true }; true`)
	teacher.click(`.live-cmd-end`)
	screen.waitJS(hasEnded)
	screen.capture("live-screen-end", hasEnded)
	for _, kid := range kids {
		kid.waitJS(hasEnded)
	}
	kids[0].capture("live-play-end", hasEnded)
	teacher.capture("live-control-end", `document.querySelector('.live-ended') || document.querySelector('a[href$="/results"]')`)
	teacher.open("/live/" + code + "/results")
	teacher.capture("live-results", "")
	teacher.open("/live")
	teacher.capture("live-list", "")
}

// answer answers the question on a student's phone: the i-th choice, or a
// number typed.
func (tb *tab) answer(i int) {
	n := js[int](tb, `document.querySelectorAll('.live-choice').length`)
	if n > 0 {
		tb.click(fmt.Sprintf(`.live-buttons > .live-choice:nth-child(%d)`, i%n+1)) // by place: a true/false question's colours are not the first ones
	} else {
		tb.typeIn(`input.live-text`, []string{"9.8", "9,75", "12", "10"}[i%4])
		tb.click(`form.live-answer button.button`)
	}
	tb.waitJS(`document.querySelector('.live-ack.ok')`) // stored on the box
}
