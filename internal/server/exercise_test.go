package server_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// formID returns the answer id the exercise form carries.
func formID(t *testing.T, r response) string {
	t.Helper()
	m := regexp.MustCompile(`name="id" value="([0-9A-Z]{26})"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("exercise form has no answer id:\n%.2000s", r.body)
	}
	return m[1]
}

func lastSeq(t *testing.T, box *testBox) int64 {
	t.Helper()
	seq, err := box.db.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func TestExerciseFormKeepsAnswersOnTheServer(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	for n := 1; n <= 5; n++ {
		r := d.get("/packs/mini/sets/speed/" + string(rune('0'+n)))
		wantStatus(t, r, 200)
		// Feedback and answers appear only after answering.
		wantLacks(t, r, "Divide, do not multiply", "weight", `"truth"`, "v = s/t", "Answer:", `value="speed"`)
	}
	r := d.get("/packs/mini/sets/speed/1")
	wantContains(t, r, "Question 1 of 5", "60 km/h", "240 km/h", `type="radio" name="choice"`, "Check")
}

func TestAnswerThroughTheForm(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	page := d.get("/packs/mini/sets/speed/1")
	id := formID(t, page)

	// A wrong answer (240 km/h is choice 1): stored, redirected to the
	// verdict with the choice's feedback.
	r := d.postForm("/packs/mini/sets/speed/1", url.Values{"id": {id}, "choice": {"1"}})
	wantStatus(t, r, 303)
	loc := r.Header.Get("Location")
	if loc != "/packs/mini/sets/speed/1?answer="+id {
		t.Fatalf("redirect to %q, want the verdict of answer %s", loc, id)
	}
	v := d.get(loc)
	wantStatus(t, v, 200)
	wantContains(t, v, "Not quite.", "Divide, do not multiply.", "Try again")
	wantLacks(t, v, "Answer:") // the solution waits for a second try
	if got := lastSeq(t, box); got != 1 {
		t.Fatalf("events after one answer: %d, want 1", got)
	}

	// Submitting the same form again (a double tap, a resend after a drop)
	// stores nothing new.
	r = d.postForm("/packs/mini/sets/speed/1", url.Values{"id": {id}, "choice": {"1"}})
	wantStatus(t, r, 303)
	if got := lastSeq(t, box); got != 1 {
		t.Errorf("events after resending the same answer: %d, want still 1", got)
	}

	// The right answer on a fresh form; the solution shows now.
	id2 := formID(t, d.get("/packs/mini/sets/speed/1"))
	r = d.postForm("/packs/mini/sets/speed/1", url.Values{"id": {id2}, "choice": {"0"}})
	v = d.get(r.Header.Get("Location"))
	wantContains(t, v, "Correct!", "Answer:", "Next question")
	ev, err := box.db.Event(context.Background(), id2)
	if err != nil || ev.Seq != 2 || ev.Kind != "answer.submitted" || !strings.Contains(string(ev.Payload), `"correct":true`) {
		t.Errorf("stored event = %+v, %v", ev, err)
	}

	// Progress shows on the set page.
	s := d.get("/packs/mini/sets/speed")
	wantContains(t, s, "1 of 5 answered correctly", "✓ correct", "Continue")

	// Another device cannot read this device's verdict.
	other := box.device(t, "en")
	if r := other.get(loc); r.StatusCode != 404 {
		t.Errorf("another device reading the verdict: status %d, want 404", r.StatusCode)
	}
}

func TestEveryKindThroughTheForm(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "ru")
	for _, tc := range []struct {
		n    string
		form url.Values
		want string
	}{
		{"2", url.Values{"choice": {"0", "1"}}, "Верно!"},
		{"2", url.Values{"choice": {"0", "2"}}, "Неверно."},
		{"3", url.Values{"text": {"false"}}, "Верно!"},
		{"4", url.Values{"text": {"5,0 м/с"}}, "Верно!"},
		{"4", url.Values{"text": {"5 km"}}, "Неверно."},
		{"5", url.Values{"text": {"  СКОРОСТЬ "}}, "Верно!"},
	} {
		page := d.get("/packs/mini/sets/speed/" + tc.n)
		tc.form.Set("id", formID(t, page))
		r := d.postForm("/packs/mini/sets/speed/"+tc.n, tc.form)
		wantStatus(t, r, 303)
		v := d.get(r.Header.Get("Location"))
		if !strings.Contains(v.body, tc.want) {
			t.Errorf("item %s with %v: verdict lacks %q", tc.n, tc.form, tc.want)
		}
	}
}

func TestInvalidAnswersStoreNothing(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "ru")
	for _, tc := range []struct {
		n      string
		form   url.Values
		status int
		want   string
	}{
		{"1", url.Values{}, 422, "Сначала выберите или введите ответ."},
		{"1", url.Values{"choice": {"0", "1"}}, 422, "Выберите из предложенных ответов."},
		{"1", url.Values{"choice": {"7"}}, 422, "Выберите из предложенных ответов."},
		{"4", url.Values{"text": {"пять"}}, 422, "Введите число"},
		{"4", url.Values{"text": {"1,500"}}, 422, "1,5 или 1500"},
		{"3", url.Values{"text": {"maybe"}}, 422, "Выберите один из предложенных ответов."},
		{"1", url.Values{"choice": {strings.Repeat("9", 70000)}}, 413, "слишком много"},
	} {
		r := d.postForm("/packs/mini/sets/speed/"+tc.n, tc.form)
		if r.StatusCode != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("item %s with %.40v: status %d, want %d with %q; body:\n%.1500s", tc.n, tc.form, r.StatusCode, tc.status, tc.want, r.body)
		}
	}
	if got := lastSeq(t, box); got != 0 {
		t.Errorf("%d events stored from invalid answers, want 0", got)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	req := url.Values{"choice": {"0"}}
	r := d.postForm("/packs/mini/sets/speed/1", req)
	wantStatus(t, r, 303)
	hreq, _ := newRequest("POST", box.URL+"/packs/mini/sets/speed/1", req.Encode())
	hreq.Header.Set("Origin", "http://evil.example")
	r = d.do(hreq)
	wantStatus(t, r, 403)
	// "Origin: null" passes only when the browser vouches it is same-origin.
	hreq, _ = newRequest("POST", box.URL+"/packs/mini/sets/speed/1", req.Encode())
	hreq.Header.Set("Origin", "null")
	wantStatus(t, d.do(hreq), 403)
	hreq, _ = newRequest("POST", box.URL+"/packs/mini/sets/speed/1", req.Encode())
	hreq.Header.Set("Origin", "null")
	hreq.Header.Set("Sec-Fetch-Site", "same-origin")
	wantStatus(t, d.do(hreq), 303)
	if got := lastSeq(t, box); got != 2 {
		t.Errorf("events = %d, want only the two same-site answers", got)
	}
}
