package event_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/event"
)

// samples holds one payload of every kind and its JSON, which pins the
// contract's keys: changing one breaks boxes and hubs already deployed.
var samples = map[string]struct {
	p    event.Payload
	json string
}{
	event.KindAnswerSubmitted: {event.Answer{Pack: "physics", PackVersion: "1.0.0", Set: "speed", Item: "q1", Lang: "ru", Choices: []int{1}, Correct: true, Score: 1},
		`{"pack":"physics","version":"1.0.0","set":"speed","item":"q1","lang":"ru","choices":[1],"correct":true,"score":1}`},
	event.KindLiveResponse: {event.LiveResponse{Session: "S1", Question: 2, Player: "p1", Item: "q1", Kind: "numeric", Pack: "physics", PackVersion: "1.0.0", Set: "speed", Lang: "tg", Text: "12", Score: 0.5, Points: 700, ElapsedMS: 3100},
		`{"session":"S1","question":2,"player":"p1","item":"q1","kind":"numeric","pack":"physics","version":"1.0.0","set":"speed","lang":"tg","text":"12","correct":false,"score":0.5,"points":700,"elapsed_ms":3100}`},
	event.KindLessonCompleted: {event.LessonCompleted{Pack: "physics", Version: "1.0.0", Lesson: "speed"},
		`{"lesson":"speed","pack":"physics","version":"1.0.0"}`},
	event.KindUserCreated: {event.UserCreated{User: "U1", Role: "teacher"},
		`{"role":"teacher","user":"U1"}`},
	event.KindClassCreated: {event.ClassCreated{Class: "C1", Name: "7A", Grade: 7, Teacher: "U1"},
		`{"class":"C1","grade":7,"name":"7A","teacher":"U1"}`},
	event.KindClassUpdated: {event.ClassUpdated{Class: "C1", SignIn: "pin", Mastery: "streak:3"},
		`{"class":"C1","mastery":"streak:3","sign_in":"pin"}`},
	event.KindStudentCreated: {event.StudentCreated{Student: "S1", Class: "C1", Gender: "female", BirthYear: 2012},
		`{"birth_year":2012,"class":"C1","gender":"female","student":"S1"}`},
	event.KindStudentSecretReset: {event.StudentSecretReset{Student: "S1"},
		`{"student":"S1"}`},
	event.KindAssignmentCreated: {event.AssignmentCreated{Assignment: "A1", Class: "C1", Pack: "physics", Kind: "set", Ref: "speed"},
		`{"assignment":"A1","class":"C1","kind":"set","pack":"physics","ref":"speed"}`},
	event.KindAssignmentRemoved: {event.AssignmentRemoved{Assignment: "A1", Class: "C1"},
		`{"assignment":"A1","class":"C1"}`},
	event.KindAppResult: {event.AppResult{Pack: "physics", PackVersion: "1.0.0", App: "slope", Lang: "tg", Completed: true, Score: 3, Max: 4, Summary: "μ = 0.3"},
		`{"pack":"physics","version":"1.0.0","app":"slope","lang":"tg","completed":true,"score":3,"max":4,"summary":"μ = 0.3"}`},
	event.KindStudioPublished: {event.StudioPublished{Pack: "tab12cd34ef56ab78cd-k3x9q2m7wz", Version: "2.0.0", Kind: "set", Items: 5, SHA256: strings.Repeat("ab", 32)},
		`{"pack":"tab12cd34ef56ab78cd-k3x9q2m7wz","version":"2.0.0","kind":"set","items":5,"sha256":"` + strings.Repeat("ab", 32) + `"}`},
}

// TestEveryKind round-trips a payload of every kind the package defines
// and pins its JSON; a kind added without a sample fails here.
func TestEveryKind(t *testing.T) {
	for _, kind := range event.Kinds() {
		s, ok := samples[kind]
		if !ok {
			t.Errorf("kind %s has no sample in this test", kind)
			continue
		}
		if got := s.p.EventKind(); got != kind {
			t.Errorf("%T.EventKind() = %q, want %q", s.p, got, kind)
		}
		if v := event.Version(kind); v < 1 {
			t.Errorf("Version(%s) = %d, want at least 1", kind, v)
		}
		b, err := event.Marshal(s.p)
		if err != nil || string(b) != s.json {
			t.Errorf("Marshal(%s) = %s, %v; want %s", kind, b, err, s.json)
		}
		got, err := event.Decode(kind, b)
		if err != nil || !reflect.DeepEqual(got, s.p) {
			t.Errorf("Decode(%s) = %#v, %v; want %#v", kind, got, err, s.p)
		}
		// A newer writer's optional key is ignored.
		newer := b[: len(b)-1 : len(b)-1]
		newer = append(newer, `,"added_later":{"x":[1]}}`...)
		if got, err := event.Decode(kind, newer); err != nil || !reflect.DeepEqual(got, s.p) {
			t.Errorf("Decode(%s) with an unknown key = %#v, %v", kind, got, err)
		}
		// What the kind requires is refused when missing, though such a
		// payload (as old history may hold) still decodes.
		var ie *event.InvalidError
		if p, err := event.Decode(kind, []byte(`{}`)); err != nil || p == nil || !errors.As(event.Check(p), &ie) {
			t.Errorf("Decode(%s, {}) = %v, %v; want a payload that fails Check", kind, p, err)
		}
		if err := event.Validate(kind, []byte(`{}`)); !errors.As(err, &ie) || ie.Kind != kind {
			t.Errorf("Validate(%s, {}) = %v, want an InvalidError", kind, err)
		}
		for _, bad := range []string{`[]`, `"x"`, `null`, `{"pack": 3}`, `{`} {
			if err := event.Validate(kind, []byte(bad)); !errors.As(err, &ie) {
				t.Errorf("Validate(%s, %s) = %v, want an InvalidError", kind, bad, err)
			}
		}
	}
	for kind := range samples {
		if !event.Known(kind) {
			t.Errorf("sample of %s, which Kinds() does not list", kind)
		}
	}
}

func TestUnknownKindsPassThrough(t *testing.T) {
	for _, kind := range []string{"teacher.content", "app.result.v2", "answer.submitted.v2", ""} {
		p, err := event.Decode(kind, []byte(`not even json`))
		if p != nil || err != nil || event.Validate(kind, []byte(`[]`)) != nil || event.Known(kind) || event.Version(kind) != 0 {
			t.Errorf("unknown kind %q: Decode = %v, %v; want nil, nil", kind, p, err)
		}
	}
}

func TestMarshalRefusesWhatTheKindRequires(t *testing.T) {
	for _, p := range []event.Payload{
		event.Answer{Pack: "p", Set: "s"},
		event.LiveResponse{Session: "S", Player: "p1", Question: -1},
		event.ClassCreated{Class: "C", Grade: 13},
		event.StudentCreated{Student: "S"},
	} {
		if b, err := event.Marshal(p); err == nil {
			t.Errorf("Marshal(%#v) = %s, want an error", p, b)
		}
		if _, err := event.New("01ARZ3NDEKTSV4RRFFQ69G5FAV", "box", p); err == nil {
			t.Errorf("New(%#v) made an event", p)
		}
	}
	ev, err := event.New("01ARZ3NDEKTSV4RRFFQ69G5FAV", "guest:a", samples[event.KindLessonCompleted].p)
	if err != nil || ev.Kind != event.KindLessonCompleted || ev.Actor != "guest:a" || string(ev.Payload) != samples[event.KindLessonCompleted].json {
		t.Errorf("New = %+v, %v", ev, err)
	}
}

func TestAttemptOf(t *testing.T) {
	live := samples[event.KindLiveResponse].p.(event.LiveResponse)
	poll, typed := live, live
	poll.Kind, typed.Pack = event.QuestionPoll, ""
	choice := live
	choice.Text, choice.Choices = "", []int{0, 2}
	for _, c := range []struct {
		p    event.Payload
		want event.Attempt
		ok   bool
	}{
		{samples[event.KindAnswerSubmitted].p, event.Attempt{Pack: "physics", Set: "speed", Item: "q1", Correct: true, Score: 1, Answer: "[1]"}, true},
		{live, event.Attempt{Pack: "physics", Set: "speed", Item: "q1", Score: 0.5, Answer: "12"}, true},
		{choice, event.Attempt{Pack: "physics", Set: "speed", Item: "q1", Score: 0.5, Answer: "[0,2]"}, true},
		{poll, event.Attempt{}, false},
		{typed, event.Attempt{}, false},
		{event.Answer{Pack: "p", Set: "s", Item: "i"}, event.Attempt{Pack: "p", Set: "s", Item: "i"}, true},
		{samples[event.KindLessonCompleted].p, event.Attempt{}, false},
	} {
		if got, ok := event.AttemptOf(c.p); got != c.want || ok != c.ok {
			t.Errorf("AttemptOf(%#v) = %+v, %v; want %+v, %v", c.p, got, ok, c.want, c.ok)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"01ARZ3NDEKTSV4RRFFQ69G5FAV": true, "01arz3ndektsv4rrffq69g5fav": true,
		"": false, "01ARZ3NDEKTSV4RRFFQ69G5FA": false, "01ARZ3NDEKTSV4RRFFQ69G5FAVX": false, "81ARZ3NDEKTSV4RRFFQ69G5FAV": false, "01ARZ3NDEKTSV4RRFFQ69G5FAU!": false,
	} {
		if got := event.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestAppResultBounds(t *testing.T) {
	ok := event.AppResult{Pack: "p", App: "a", Score: 2, Max: 2}
	if err := event.Check(ok); err != nil {
		t.Fatalf("Check(%+v) = %v", ok, err)
	}
	long := string(make([]rune, event.MaxAppSummary+1))
	for _, bad := range []event.AppResult{
		{Pack: "p", App: "a", Score: 3, Max: 2},
		{Pack: "p", App: "a", Score: -1, Max: 2},
		{Pack: "p", App: "a", Score: 0, Max: -1},
		{Pack: "p", App: "a", Summary: long},
	} {
		var ie *event.InvalidError
		if err := event.Check(bad); !errors.As(err, &ie) {
			t.Errorf("Check(%+v) = %v, want an InvalidError", bad, err)
		}
	}
	if f := (event.AppResult{Completed: true}).Fraction(); f != 1 {
		t.Errorf("a completed result without a score is %g done, want 1", f)
	}
}
