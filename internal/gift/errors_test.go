package gift

import (
	"errors"
	"strings"
	"testing"
)

// ok is a valid question to put before the one that fails, so that line
// numbers are tested past the first question.
const ok = "// a comment\n::Fine:: 1+1? {=2 ~3}\n\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		// Refused kinds of question, at the line where the question starts.
		{"matching", ok + "::Match::\nPair them. {\n=cat -> meow\n=dog -> woof\n}", "t.gift:4: matching questions are not supported"},
		{"missing word", ok + "// c\nGrant is {~buried =entombed ~living} in Grant's tomb.", "t.gift:5: missing-word questions are not supported"},
		{"missing word with a full stop", "The capital of France is {=Paris}.", "t.gift:1: missing-word questions are not supported"},
		{"missing word at the start", "{=Paris} is the capital of France.", "t.gift:1: missing-word questions are not supported"},
		{"essay", ok + "Write about your summer.\n{}", "t.gift:4: essay questions are not supported"},
		{"essay with space", ok + "Write about your summer. {  \n}", "t.gift:4: essay questions are not supported"},
		{"essay with general feedback", ok + "Write. {####Graded by hand.}", "t.gift:4: essay questions are not supported"},
		{"description", ok + "::Intro::\nThe next questions are about forces.", "t.gift:4: description questions are not supported"},
		{"title only", ok + "::Intro::", "t.gift:4: description questions are not supported"},

		// Syntax errors, at the line of the problem.
		{"unclosed brace", ok + "Question\n{=a\n~b", "t.gift:5: unclosed {"},
		{"blank line inside a block", ok + "Question {\n=a\n\n~b\n}", "t.gift:4: unclosed {"},
		{"escaped closing brace", "Question {=a\\}", "t.gift:1: unclosed {"},
		{"closing brace without opening", ok + "Question\nis } odd {=a ~b}", "t.gift:5: } without { (write \\} for a literal brace)"},
		{"brace inside a block", ok + "Question {\n=a\n~{b}\n}", "t.gift:6: { inside an answer block (write \\{ for a literal brace)"},
		{"no answers", ok + "Question {\n  yes\n}", "t.gift:5: answer block has no answers (write \\{ and \\} for literal braces)"},
		{"tex braces", "What is $x^{2}$ if x=3? {=9}", "t.gift:1: answer block has no answers (write \\{ and \\} for literal braces)"},
		{"numeric no answers", ok + "Question\n{#}", "t.gift:5: numeric answer block has no answers (write {#NUMBER}, {#NUMBER:TOLERANCE} or {#MIN..MAX})"},
		{"numeric feedback only", ok + "Question {#\n#Feedback.}", "t.gift:4: numeric answer block has no answers (write {#NUMBER}, {#NUMBER:TOLERANCE} or {#MIN..MAX})"},
		{"numeric other-answer feedback only", ok + "Question {#~#Wrong.}", "t.gift:4: numeric answer block has no answers (write {#NUMBER}, {#NUMBER:TOLERANCE} or {#MIN..MAX})"},
		{"bad number", ok + "Question {#\n=2\n=abc}", "t.gift:6: bad number \"abc\""},
		{"decimal comma", "Question {#2,5}", "t.gift:1: bad number \"2,5\""},
		{"infinite number", "Question {#inf}", "t.gift:1: bad number \"inf\""},
		{"hex number", "Question {#0x10}", "t.gift:1: bad number \"0x10\""},
		{"huge number", "Question {#1e400}", "t.gift:1: number \"1e400\" is out of range"},
		{"overflowing tolerance", "Question {#1e308:1e308}", "t.gift:1: number \"1e308:1e308\" is out of range"},
		{"bad range", "Question {#1..x}", "t.gift:1: bad number \"x\""},
		{"empty range", "Question {#5..1}", "t.gift:1: empty range \"5..1\""},
		{"negative tolerance", "Question {#5:-1}", "t.gift:1: negative tolerance \"-1\""},
		{"missing tolerance", "Question {#5:}", "t.gift:1: bad number \"\""},
		{"missing number", ok + "Question {#=1\n=%50%#Half.}", "t.gift:5: missing number"},
		{"numeric tilde with text", "Question {#=1 ~2#No.}", "t.gift:1: a numeric ~ takes only feedback for other answers (~#feedback), not a number: write wrong answers as =%0%NUMBER"},
		{"numeric two tildes", "Question {#=1 ~#No. ~#Nope.}", "t.gift:1: a numeric answer block takes one ~#feedback for other answers, not several"},
		{"numeric: tilde before an answer", "Q {#4 ~#a =5}", "t.gift:1: answers come before the ~#feedback for other answers (write \\= for a literal =)"},
		{"numeric: two tildes on lines", "Q {#4\n~#a\n~#b}", "t.gift:3: a numeric answer block takes one ~#feedback for other answers, not several"},
		{"numeric: tilde with a number", "Q {#4\n~5}", "t.gift:2: a numeric ~ takes only feedback for other answers (~#feedback), not a number: write wrong answers as =%0%NUMBER"},
		{"numeric: feedback first", "Q {#\n#fb\n=4}", "t.gift:2: feedback before the first numeric answer (write #NUMBER#feedback)"},
		{"numeric: two numbers", "Q {#4 5}", `t.gift:1: bad number "4 5"`},
		{"numeric: a word", "Q\n{#four}", `t.gift:2: bad number "four"`},
		{"numeric: tilde only", "Q {#~#only}", "t.gift:1: numeric answer block has no answers (write {#NUMBER}, {#NUMBER:TOLERANCE} or {#MIN..MAX})"},
		{"numeric without full marks", ok + "Question {#=%50%1 =%20%2}", "t.gift:4: no answer is worth 100%"},
		{"weight over 100", ok + "Question {\n~%50%a\n~%150%b\n}", "t.gift:6: weight 150% is outside -100%..100%"},
		{"weight under -100", "Question {~%-101%a ~%100%b}", "t.gift:1: weight -101% is outside -100%..100%"},
		{"bad weight", "Question {~%half%a ~b}", "t.gift:1: bad weight \"%half%\""},
		{"unclosed weight", "Question {~%50 a ~b}", "t.gift:1: weight has no closing %"},
		{"empty choice", ok + "Question {\n=a\n~\n}", "t.gift:6: empty answer"},
		{"empty choice with feedback", "Question {=a ~#Why?}", "t.gift:1: empty answer"},
		{"empty short answer", "Question {=a =}", "t.gift:1: empty answer"},
		{"text before answers", ok + "Question {\nmaybe\n=a ~b}", "t.gift:5: text before the first answer (answers start with = or ~)"},
		{"text before short answers", "Question {maybe =a}", "t.gift:1: text before the first answer (answers start with =)"},
		{"short answer without full marks", ok + "Question {=%50%a =%90%b}", "t.gift:4: no answer is worth 100%"},
		{"true/false with three feedbacks", ok + "Question {T#a#b\n#c}", "t.gift:5: true/false takes at most two feedbacks (write \\# for a literal #)"},
		{"unclosed title", ok + "::Title\nQuestion {T}", "t.gift:4: title has no closing ::"},
		{"no question text", ok + "::Title:: {T}", "t.gift:4: question has no text"},
		{"no question text but a format", "[html] {T}", "t.gift:1: question has no text"},
		{"duplicate title", ok + "::Fine:: 2+2? {=4 ~5}", "t.gift:4: duplicate id \"fine\" (also at line 2)"},
		{"titles with one slug", "::Speed 1:: a {T}\n\n::speed-1:: b {T}", "t.gift:3: duplicate id \"speed-1\" (also at line 1)"},
		{"title like a number", "::q2:: a {T}\n\nb {T}", "t.gift:3: duplicate id \"q2\" (also at line 1)"},
		{"not utf-8", ok + "Вопрос {T}\n\n\xcf\xf0\xe8\xe2\xe5\xf2 {T}", "t.gift:6: not utf-8 text (save the file as utf-8)"},

		// Items that learn.Item.Validate refuses, at the line where the question starts.
		{"no correct choice", ok + "Question\n{~a ~b}", "t.gift:4: item \"q2\": no choice is marked correct"},
		{"one choice", "Question {~%100%a}", "t.gift:1: item \"q1\": a multi item needs at least 2 choices"},
		{"multi not adding up", "Question {~%50%a ~%20%b ~c}", "t.gift:1: item \"q1\": the weights of the correct choices add up to 70%, not 100%"},
		{"choice without full marks", "::Half:: Question {=%50%a ~b}", "t.gift:1: item \"half\": a single-choice item needs one fully correct choice"},

		// Windows line endings and a byte order mark do not shift lines.
		{"windows", "\uFEFF// c\r\n::A:: a {T}\r\n\r\nb\r\n{=1 ~2\r\n", "t.gift:5: unclosed {"},
		{"old mac", "// c\r::A:: a {T}\r\rb\r{=1 ~2\r", "t.gift:5: unclosed {"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Parse("t.gift", []byte(tt.src), "en")
			if err == nil {
				t.Fatalf("got items %v and no error, want error %q", items, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got error %q, want %q", got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("got error of type %T, want *gift.Error", err)
			}
			if items != nil {
				t.Errorf("got items %v with the error, want none", items)
			}
		})
	}
}

func TestParseValidateErrorUnwraps(t *testing.T) {
	_, err := Parse("t.gift", []byte("Question {~a ~b}"), "en")
	var e *Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Fatalf("got error %v, want a *gift.Error wrapping the Validate error", err)
	}
	if got, want := e.Line, 1; got != want {
		t.Errorf("got line %d, want %d", got, want)
	}
	if !strings.Contains(errors.Unwrap(err).Error(), "no choice is marked correct") {
		t.Errorf("got cause %v, want the Validate error", errors.Unwrap(err))
	}
}

func TestParseNoLanguage(t *testing.T) {
	_, err := Parse("t.gift", []byte("Question {T}"), "")
	if got, want := err.Error(), "t.gift: no language given"; got != want {
		t.Errorf("got error %q, want %q", got, want)
	}
}
