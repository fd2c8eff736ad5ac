// Package tour plays a whole lesson on a real box in headless Chromium —
// an admin, a teacher, a class of four, an exercise set and a live quiz —
// takes screenshots of every page it visits at a phone's, a laptop's and a
// projector's size in Tajik, Russian and English, and audits each of them
// (audit.go): what a user would see as broken on that screen.
// cmd/stembox-tour runs it (make tour).
package tour

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// A Finding is one fault the audit found on a page.
type Finding struct {
	Check   string `json:"check"`  // side-scroll, too-wide, cut-off, tap-target, placeholder, english, contrast
	Element string `json:"el"`     // the element: tag#id.class "its text…", or "document"
	Detail  string `json:"detail"` // what is wrong, measured

	// Where: set by the tour, not by the audit.
	Page, Size, Lang string `json:"-"`
}

func (f Finding) String() string {
	where := strings.Trim(strings.Join([]string{f.Page, f.Size, f.Lang}, " · "), " ·")
	if where != "" {
		where += ": "
	}
	return fmt.Sprintf("%s%s: %s: %s", where, f.Check, f.Element, f.Detail)
}

// The checks, as the audit names them.
const (
	CheckSideScroll  = "side-scroll" // the document scrolls sideways
	CheckTooWide     = "too-wide"    // an element reaches past the viewport (outside what scrolls by itself)
	CheckCutOff      = "cut-off"     // overflow hidden or an ellipsis hides some of a text
	CheckTapTarget   = "tap-target"  // a link, button or field under 44×44 px on a phone
	CheckPlaceholder = "placeholder" // an unformatted %d, %s, %v, %!… shown
	CheckEnglish     = "english"     // an English UI word on a Tajik or Russian page
	CheckContrast    = "contrast"    // text below WCAG AA contrast on its background
)

//go:embed audit.js
var auditJS string

// EnglishWords are the English words of the box's interface that must not
// show on a Tajik or Russian page outside content (elements in another
// language, data-content) and what users typed (data-user). They are whole
// words, matched without regard to case; words that are also names or
// common in content (a pack's "Speed") are left out.
var EnglishWords = []string{
	"sign in", "sign out", "log in", "log out", "password", "username", "submit", "save", "cancel",
	"delete", "remove", "edit", "back", "next", "previous", "start", "stop", "close", "reveal",
	"leaderboard", "players", "player", "waiting", "answered", "answers", "answer", "question",
	"questions", "results", "result", "score", "points", "correct", "wrong", "right!", "try again",
	"check", "loading", "connected", "offline", "online", "settings", "students", "student",
	"teacher", "teachers", "class", "classes", "roster", "import", "export", "download", "print",
	"progress", "lesson", "lessons", "exercise", "exercises", "assign", "assigned", "home",
	"catalogue", "catalog", "help", "join", "nickname", "code", "language", "status", "sync",
	"peers", "admin", "create", "new", "done", "not me", "hello", "welcome", "error", "name",
	"gender", "female", "male", "full screen", "ended", "session", "yes", "no",
}

// Options say what kind of screen the page is on.
type Options struct {
	Phone bool   // check tap targets (44×44 px)
	Scope string // a CSS selector: check only the elements in it (the page's side scroll always); "" for all
}

// Audit runs every check on the page in ctx's tab as it is now.
func Audit(ctx context.Context, o Options) ([]Finding, error) {
	arg, err := json.Marshal(map[string]any{"phone": o.Phone, "scope": o.Scope, "englishWords": wordPatterns()})
	if err != nil {
		return nil, err
	}
	fs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Finding](auditJS+"("+string(arg)+")"))
	if err != nil {
		return nil, fmt.Errorf("tour: audit: %w", err)
	}
	return fs, nil
}

// wordPatterns are EnglishWords as parts of a regular expression: spaces
// match any run of white space, other signs stand for themselves.
func wordPatterns() []string {
	out := make([]string, len(EnglishWords))
	for i, w := range EnglishWords {
		var b strings.Builder
		for _, r := range w {
			switch {
			case r == ' ':
				b.WriteString(`\s+`)
			case strings.ContainsRune(`\^$.|?*+()[]{}`, r):
				b.WriteRune('\\')
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
		out[i] = b.String()
	}
	return out
}
