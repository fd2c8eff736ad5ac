package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/studio"
)

// studioDevice is a device signed in as a user, with what studio tests need.
type studioDevice struct {
	*device
	token string
}

func (s *testSchool) studioAs(t *testing.T, username, lang string) *studioDevice {
	t.Helper()
	d := s.device(t, lang)
	d.signIn(username, password)
	return &studioDevice{device: d, token: d.csrf("/teach/studio")}
}

var draftPathRE = regexp.MustCompile(`^/teach/studio/([a-z0-9]{10})$`)

// newDraft starts a draft of kind and returns its id.
func (d *studioDevice) newDraft(kind string) string {
	d.tb.Helper()
	r := d.postForm("/teach/studio/new", url.Values{"csrf": {d.token}, "kind": {kind}})
	wantStatus(d.tb, r, 303)
	m := draftPathRE.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		d.tb.Fatalf("new draft: sent to %q, want its editor", r.Header.Get("Location"))
	}
	return m[1]
}

// saveJSON posts the autosave request of the studio's script.
func (d *studioDevice) saveJSON(id string, rev int64, doc studio.Doc) response {
	d.tb.Helper()
	b, _ := json.Marshal(map[string]any{"rev": rev, "doc": doc})
	return d.postJSONWith("/teach/studio/"+id+"/save", string(b), d.token)
}

func (d *studioDevice) postJSONWith(path, body, token string) response {
	d.tb.Helper()
	req, _ := http.NewRequest("POST", d.box.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", token)
	req.Header.Set("Origin", d.box.URL)
	return d.do(req)
}

// postMultipart posts a multipart form with one file (none if name is "").
func (d *studioDevice) postMultipart(path string, fields url.Values, fileField, fileName string, data []byte, accept string) response {
	d.tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileField != "" {
		fw, _ := mw.CreateFormFile(fileField, fileName)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", d.box.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", d.box.URL)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return d.do(req)
}

func (s *testSchool) draft(t *testing.T, id string) studio.Draft {
	t.Helper()
	d, err := s.db.Draft(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%s: not JSON (%v): %.500s", r.Request.URL.Path, err, r.body)
	}
	return v
}

type saved struct {
	Rev   int64  `json:"rev"`
	Error string `json:"error"`
	Code  string `json:"code"`
	Draft struct {
		Rev int64      `json:"rev"`
		Doc studio.Doc `json:"doc"`
	} `json:"draft"`
	Doc studio.Doc `json:"doc"`
}

// TestStudioDraftRoundTrip: a teacher starts a set, the script saves it as
// she types, a reload shows what she wrote, in every field of every type.
func TestStudioDraftRoundTrip(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "en")
	id := a.newDraft(studio.KindSet)
	wantContains(t, a.get("/teach/studio"), "/teach/studio/"+id)
	d := s.draft(t, id)
	doc := studio.Doc{Title: studio.Text{"en": "Speed", "tg": "Суръат"}, Subject: "physics", Grades: []int{7, 8}, Languages: []string{"en", "tg"},
		Items: []studio.Item{
			{ID: "q1", Type: "choice", Prompt: studio.Text{"en": "Which is $v = s/t$?", "tg": "Кадомаш $v = s/t$?"},
				Choices:  []studio.Choice{{Text: studio.Text{"en": "speed"}, Correct: true, Feedback: studio.Text{"en": "yes"}}, {Text: studio.Text{"en": "mass"}}},
				Feedback: studio.Feedback{General: studio.Text{"en": "Speed is distance over time."}}},
			{ID: "q2", Type: "multi", Prompt: studio.Text{"en": "Units of speed"}, Choices: []studio.Choice{{Text: studio.Text{"en": "m/s"}, Correct: true}, {Text: studio.Text{"en": "km/h"}, Correct: true}, {Text: studio.Text{"en": "kg"}}}},
			{ID: "q3", Type: "truefalse", Prompt: studio.Text{"en": "Light is fast."}, True: true},
			{ID: "q4", Type: "numeric", Prompt: studio.Text{"en": "100 m in 10 s?"}, Answer: 10, Tolerance: 0.5, Unit: studio.Text{"en": "m/s"},
				Feedback: studio.Feedback{Correct: studio.Text{"en": "Right"}, Incorrect: studio.Text{"en": "Divide."}}},
			{ID: "q5", Type: "text", Prompt: studio.Text{"en": "Name of v"}, Accepted: map[string][]string{"en": {"speed", "velocity"}, "tg": {"суръат"}}},
			{ID: "q6", Type: "poll", Prompt: studio.Text{"en": "Do you like it?"}, Choices: []studio.Choice{{Text: studio.Text{"en": "yes"}}, {Text: studio.Text{"en": "no"}}}},
		}}
	r := a.saveJSON(id, d.Rev, doc)
	wantStatus(t, r, 200)
	got := decode[saved](t, r)
	if got.Rev != d.Rev+1 {
		t.Errorf("saved rev %d, want %d", got.Rev, d.Rev+1)
	}
	after := s.draft(t, id)
	if after.Rev != got.Rev || after.Doc.Items[3].Tolerance != 0.5 || after.Doc.Items[4].Accepted["tg"][0] != "суръат" {
		t.Errorf("stored draft %+v, want what was saved", after)
	}
	// The editor shows it, in English and (the language switcher) Tajik,
	// and carries the whole doc for the script.
	page := a.get("/teach/studio/" + id)
	wantStatus(t, page, 200)
	wantContains(t, page, `value="Speed"`, `name="items.3.tolerance" value="0.5"`, `velocity`, `id="studio-doc"`, `data-rev="`+fmt.Sprint(got.Rev)+`"`,
		`name="items.0.c.0.correct" value="1" data-c="correct" checked`, `capture="environment"`, `accept="image/png,image/jpeg,image/webp"`)
	wantContains(t, a.get("/teach/studio/"+id+"?in=tg"), `value="Суръат"`, "суръат")
}

// TestStudioPlainForm: without JavaScript the editor is a form: Save, Add
// item, Remove item, a language's texts that leave the other language's
// alone, and a number that is not one shown again with a message while
// the rest is saved.
func TestStudioPlainForm(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "en")
	id := a.newDraft(studio.KindSet)
	d := s.draft(t, id)
	form := func(rev int64, extra ...string) url.Values {
		f := url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(rev)}, "in": {"en"}, "title": {"Forces"}, "subject": {"physics"}, "grades": {"7-8"},
			"languages_shown": {"1"}, "languages": {"en", "ru"},
			"items.0.id": {d.Doc.Items[0].ID}, "items.0.type": {"choice"}, "items.0.prompt": {"F = ma: what is a?"},
			"items.0.c.0.text": {"acceleration"}, "items.0.c.0.correct": {"1"}, "items.0.c.1.text": {"area"}, "items.0.c.2.text": {"age"}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	r := a.postMultipart("/teach/studio/"+id, form(d.Rev, "op", "add", "newtype", "numeric"), "", "", nil, "")
	wantStatus(t, r, 303)
	d = s.draft(t, id)
	if len(d.Doc.Items) != 2 || d.Doc.Items[1].Type != "numeric" || d.Doc.Items[0].Prompt["en"] != "F = ma: what is a?" ||
		!d.Doc.Items[0].Choices[0].Correct || d.Doc.Items[0].Choices[1].Correct || fmt.Sprint(d.Doc.Grades) != "[7 8]" {
		t.Fatalf("after Add item the draft is %+v", d.Doc)
	}
	// Russian texts, in the Russian tab, keep the English ones.
	ru := url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev)}, "in": {"ru"}, "title": {"Силы"}, "op": {"save"},
		"items.0.id": {d.Doc.Items[0].ID}, "items.0.type": {"choice"}, "items.0.prompt": {"F = ma: что такое a?"},
		"items.0.c.0.text": {"ускорение"}, "items.0.c.0.correct": {"1"}, "items.0.c.1.text": {"площадь"}, "items.0.c.2.text": {"возраст"},
		"items.1.id": {d.Doc.Items[1].ID}, "items.1.type": {"numeric"}, "items.1.prompt": {"2+2"}, "items.1.answer": {"4,5"}}
	wantStatus(t, a.postMultipart("/teach/studio/"+id, ru, "", "", nil, ""), 303)
	d = s.draft(t, id)
	if d.Doc.Title["en"] != "Forces" || d.Doc.Title["ru"] != "Силы" || d.Doc.Items[0].Choices[2].Text["en"] != "age" || d.Doc.Items[1].Answer != 4.5 {
		t.Fatalf("after the Russian save the draft is %+v", d.Doc)
	}
	// A number that is not one: a clear message, her text shown again,
	// the rest saved.
	bad := form(d.Rev, "op", "save", "items.1.id", d.Doc.Items[1].ID, "items.1.type", "numeric", "items.1.prompt", "g on Earth", "items.1.answer", "nine point eight")
	r = a.postMultipart("/teach/studio/"+id, bad, "", "", nil, "")
	wantStatus(t, r, 422)
	wantContains(t, r, "nine point eight", "is not a number")
	d = s.draft(t, id)
	if d.Doc.Items[1].Prompt["en"] != "g on Earth" || d.Doc.Items[1].Answer != 4.5 {
		t.Errorf("after a bad number the draft is %+v, want the prompt saved and the old answer kept", d.Doc.Items[1])
	}
	// Remove item 1.
	wantStatus(t, a.postMultipart("/teach/studio/"+id, form(d.Rev, "op", "del:0", "items.1.id", d.Doc.Items[1].ID, "items.1.type", "numeric",
		"items.1.prompt", "g on Earth", "items.1.answer", "9.8"), "", "", nil, ""), 303)
	if d = s.draft(t, id); len(d.Doc.Items) != 1 || d.Doc.Items[0].Type != "numeric" {
		t.Errorf("after Remove item the items are %+v", d.Doc.Items)
	}
	// Preview, without JavaScript: its own page.
	r = a.postMultipart("/teach/studio/"+id, url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev)}, "in": {"en"}, "op": {"preview"}, "title": {"Forces"},
		"items.0.id": {d.Doc.Items[0].ID}, "items.0.type": {"numeric"}, "items.0.prompt": {"g on Earth"}, "items.0.answer": {"9.8"}}, "", "", nil, "")
	wantStatus(t, r, 303)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/teach/studio/preview/"+id) {
		t.Fatalf("Preview sends to %s", loc)
	}
	wantContains(t, a.get(r.Header.Get("Location")), "g on Earth")
}

// TestStudioConflict: two tabs save from the same revision; the second
// gets 409 with the draft as it is, and nothing of the first is lost.
func TestStudioConflict(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "en")
	id := a.newDraft(studio.KindSet)
	d := s.draft(t, id)
	one, two := d.Doc, d.Doc
	one.Title = studio.Text{"en": "From the phone"}
	two.Title = studio.Text{"en": "From the laptop"}
	wantStatus(t, a.saveJSON(id, d.Rev, one), 200)
	r := a.saveJSON(id, d.Rev, two)
	wantStatus(t, r, 409)
	got := decode[saved](t, r)
	if got.Code != "conflict" || got.Draft.Doc.Title["en"] != "From the phone" || got.Draft.Rev != d.Rev+1 {
		t.Errorf("409 body %+v, want the phone's draft at rev %d", got, d.Rev+1)
	}
	if s.draft(t, id).Doc.Title["en"] != "From the phone" {
		t.Error("the stale save changed the draft")
	}
	// The plain form from the stale page: shown again with her text.
	r = a.postMultipart("/teach/studio/"+id, url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev)}, "in": {"en"}, "title": {"From the old page"}, "op": {"save"}}, "", "", nil, "")
	wantStatus(t, r, 409)
	wantContains(t, r, `value="From the old page"`, "changed on another device")
	// Twenty saves at once from one revision: exactly one wins.
	d = s.draft(t, id)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := d.Doc
			doc.Title = studio.Text{"en": fmt.Sprint("tab ", i)}
			codes[i] = a.saveJSON(id, d.Rev, doc).StatusCode
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		if c == 200 {
			won++
		} else if c != 409 {
			t.Errorf("a parallel save answered %d", c)
		}
	}
	if won != 1 || s.draft(t, id).Rev != d.Rev+1 {
		t.Errorf("%d of 20 parallel saves from one revision won (rev now %d), want 1", won, s.draft(t, id).Rev)
	}
}

// TestStudioUndo: undo walks back through saved changes, from the script
// and from the form, and says when there is nothing more.
func TestStudioUndo(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "en")
	id := a.newDraft(studio.KindLesson)
	d := s.draft(t, id)
	first := d.Doc.Body["en"]
	wantContains(t, a.get("/teach/studio/"+id), `<textarea name="body"`, `data-preview="pv-body"`, `value="body"`)
	doc := d.Doc
	doc.Body = studio.Text{"en": "# One\n\nfirst change"}
	wantStatus(t, a.saveJSON(id, d.Rev, doc), 200)
	doc.Body = studio.Text{"en": "# One\n\nsecond change"}
	wantStatus(t, a.saveJSON(id, d.Rev+1, doc), 200)
	r := a.postJSONWith("/teach/studio/"+id+"/undo", fmt.Sprintf(`{"rev": %d}`, d.Rev+2), a.token)
	wantStatus(t, r, 200)
	if got := decode[saved](t, r); got.Doc.Body["en"] != "# One\n\nfirst change" || got.Rev != d.Rev+3 {
		t.Errorf("undo gave %+v, want the first change at rev %d", got, d.Rev+3)
	}
	// A stale undo is a conflict.
	wantStatus(t, a.postJSONWith("/teach/studio/"+id+"/undo", fmt.Sprintf(`{"rev": %d}`, d.Rev+2), a.token), 409)
	// The form's Undo.
	r = a.postForm("/teach/studio/"+id+"/undo", url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev + 3)}})
	wantStatus(t, r, 303)
	if got := s.draft(t, id).Doc.Body["en"]; got != first {
		t.Errorf("after two undos the body is %q, want the first %q", got, first)
	}
	r = a.postForm("/teach/studio/"+id+"/undo", url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev + 4)}})
	wantStatus(t, r, 404)
	wantContains(t, r, "nothing more to undo")
}

// TestStudioPermissions: over real sessions, another teacher may read and
// copy a draft but not save, undo, publish, upload to or delete it; an
// admin sees everyone's; no CSRF token, no change.
func TestStudioPermissionsOverHTTP(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "en")
	b := s.studioAs(t, "bakhtiyor", "en")
	admin := s.studioAs(t, "admin", "en")
	id := a.newDraft(studio.KindSet)
	d := s.draft(t, id)
	doc := d.Doc
	doc.Title = studio.Text{"en": "Quiz by Aziza"}
	wantStatus(t, a.saveJSON(id, d.Rev, doc), 200)
	d = s.draft(t, id)

	wantStatus(t, b.saveJSON(id, d.Rev, studio.Doc{Title: studio.Text{"en": "mine now"}, Languages: []string{"en"}}), 403)
	wantStatus(t, b.postJSONWith("/teach/studio/"+id+"/undo", fmt.Sprintf(`{"rev": %d}`, d.Rev), b.token), 403)
	wantStatus(t, b.postForm("/teach/studio/"+id+"/publish", url.Values{"csrf": {b.token}}), 403)
	wantStatus(t, b.postForm("/teach/studio/"+id+"/delete", url.Values{"csrf": {b.token}}), 403)
	wantStatus(t, b.postMultipart("/teach/studio/"+id+"/media", url.Values{"csrf": {b.token}, "alt": {"x"}}, "picture", "x.png", pngBytes(t, 4, 4), "application/json"), 403)
	wantStatus(t, b.postMultipart("/teach/studio/"+id, url.Values{"csrf": {b.token}, "rev": {fmt.Sprint(d.Rev)}, "title": {"mine"}}, "", "", nil, ""), 403)
	// Nor can an admin change her work.
	wantStatus(t, admin.saveJSON(id, d.Rev, doc), 403)
	// Without the token, not even she can.
	wantStatus(t, a.postJSONWith("/teach/studio/"+id+"/save", `{"rev": 1, "doc": {}}`, "wrong"), 403)
	wantStatus(t, a.postForm("/teach/studio/"+id+"/delete", url.Values{}), 403)
	if got := s.draft(t, id); got.Rev != d.Rev || got.Doc.Title["en"] != "Quiz by Aziza" {
		t.Fatalf("refused requests changed the draft: %+v", got)
	}
	// An unpublished draft is hers: not listed for other teachers, listed
	// for an admin; the other teacher may still read it by its link and copy it.
	wantLacks(t, b.get("/teach/studio"), id)
	wantContains(t, admin.get("/teach/studio"), "/teach/studio/"+id, "Quiz by Aziza")
	wantStatus(t, b.get("/teach/studio/"+id), 404)
	wantContains(t, admin.get("/teach/studio/"+id), "Aziza wrote this", "Copy to my drafts")
	r := admin.postForm("/teach/studio/"+id+"/copy", url.Values{"csrf": {admin.token}})
	wantStatus(t, r, 303)
	cp := draftPathRE.FindStringSubmatch(r.Header.Get("Location"))
	if cp == nil {
		t.Fatalf("copy sent to %s", r.Header.Get("Location"))
	}
	if c := s.draft(t, cp[1]); c.Owner != s.admin.ID || c.Doc.Title["en"] != "Quiz by Aziza" {
		t.Errorf("the copy is %+v", c)
	}
	// She deletes hers: gone.
	wantStatus(t, a.postForm("/teach/studio/"+id+"/delete", url.Values{"csrf": {a.token}}), 303)
	wantStatus(t, a.get("/teach/studio/"+id), 404)
	// Signed out: to the sign-in page, or refused.
	anon := s.device(t, "en")
	if r := anon.get("/teach/studio"); r.StatusCode != 303 {
		t.Errorf("GET /teach/studio signed out: %d, want 303 to sign in", r.StatusCode)
	}
	wantStatus(t, anon.postJSON("/teach/studio/"+cp[1]+"/save", `{}`), 403)
}

// TestStudioBadInput: what cannot be taken gets a clear message and loses
// nothing that was there.
func TestStudioBadInput(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "ru")
	id := a.newDraft(studio.KindSet)
	d := s.draft(t, id)
	before := d.Doc
	for _, c := range []struct{ name, body string }{
		{"not JSON", `{"rev": 1, "doc": `},
		{"a wrong type", `{"rev": 1, "doc": {"items": "many"}}`},
	} {
		r := a.postJSONWith("/teach/studio/"+id+"/save", c.body, a.token)
		wantStatus(t, r, 400)
		if got := decode[saved](t, r); got.Code != "invalid" || got.Error == "" {
			t.Errorf("%s: %+v, want an invalid error with a message", c.name, got)
		}
	}
	// 10,000 items: refused with the limit named, in Russian.
	many := before
	many.Items = make([]studio.Item, 10000)
	for i := range many.Items {
		many.Items[i] = studio.Item{ID: fmt.Sprint("q", i+1), Type: "truefalse", Prompt: studio.Text{"ru": "?"}}
	}
	r := a.saveJSON(id, d.Rev, many)
	wantStatus(t, r, 400)
	if got := decode[saved](t, r); !strings.Contains(got.Error, "200") {
		t.Errorf("10,000 items: %q, want the limit of 200 named", got.Error)
	}
	// Too big a body: 413.
	huge := `{"rev": 1, "doc": {"title": {"ru": "` + strings.Repeat("я", 3<<20) + `"}}}`
	wantStatus(t, a.postJSONWith("/teach/studio/"+id+"/save", huge, a.token), 413)
	if got := s.draft(t, id); got.Rev != d.Rev || len(got.Doc.Items) != len(before.Items) {
		t.Errorf("refused saves changed the draft: rev %d, %d items", got.Rev, len(got.Doc.Items))
	}
	// A draft that does not exist, a kind that does not.
	wantStatus(t, a.get("/teach/studio/zzzzzzzzzz"), 404)
	wantStatus(t, a.postForm("/teach/studio/new", url.Values{"csrf": {a.token}, "kind": {"poem"}}), 400)
}

// pngBytes is a small PNG of w×h pixels.
func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngBomb is a tiny PNG that says it is 100,000 × 100,000 pixels.
func pngBomb(t *testing.T) []byte {
	t.Helper()
	b := pngBytes(t, 8, 8)
	binary.BigEndian.PutUint32(b[16:], 100000) // IHDR: width, height
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// TestStudioPicture: a photo goes into the question's text as Markdown and
// is served back; a file that is no picture, a truncated one, a huge one
// or one without a description gets a clear message, and the draft keeps
// what it had.
func TestStudioPicture(t *testing.T) {
	s := mustSchool(t)
	a := s.studioAs(t, "aziza", "en")
	id := a.newDraft(studio.KindSet)
	d := s.draft(t, id)
	good := pngBytes(t, 40, 30)
	// The script's upload: JSON back.
	r := a.postMultipart("/teach/studio/"+id+"/media", url.Values{"csrf": {a.token}, "alt": {"a ball [red]"}}, "picture", "../../x.png", good, "application/json")
	wantStatus(t, r, 200)
	var up struct{ Name, URL, Markdown string }
	json.Unmarshal([]byte(r.body), &up)
	if !strings.HasPrefix(up.Markdown, `![a ball \[red\]](media/`) || !strings.HasSuffix(up.URL, up.Name) || strings.Contains(up.Name, "..") {
		t.Fatalf("upload answered %+v", up)
	}
	img := a.get(up.URL)
	wantStatus(t, img, 200)
	if ct := img.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Errorf("picture served as %q", ct)
	}
	// The plain form's upload: saved into item 1's prompt.
	r = a.postMultipart("/teach/studio/"+id+"/media", url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev)}, "in": {"en"}, "target": {"0"},
		"title": {"With a picture"}, "items.0.id": {d.Doc.Items[0].ID}, "items.0.type": {"choice"}, "items.0.prompt": {"What is this?"},
		"items.0.alt": {"a red ball"}}, "items.0.picture", "photo.png", good, "")
	wantStatus(t, r, 303)
	d = s.draft(t, id)
	if p := d.Doc.Items[0].Prompt["en"]; !strings.HasPrefix(p, "What is this?\n\n![a red ball](media/") {
		t.Fatalf("the prompt after the picture: %q", p)
	}
	for _, c := range []struct {
		name, alt string
		data      []byte
		want      int
	}{
		{"not a picture", "x", []byte("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), 400},
		{"truncated", "x", good[:len(good)/2], 400},
		{"no description", "", good, 400},
		{"too large", "x", bytes.Repeat([]byte{0}, 15<<20), 413},
		{"a PNG bomb", "x", pngBomb(t), 400},
		{"empty", "x", nil, 400},
	} {
		r := a.postMultipart("/teach/studio/"+id+"/media", url.Values{"csrf": {a.token}, "alt": {c.alt}}, "picture", "x.png", c.data, "application/json")
		if r.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d: %.300s", c.name, r.StatusCode, c.want, r.body)
			continue
		}
		if got := decode[saved](t, r); got.Error == "" || got.Error == "internal error" {
			t.Errorf("%s: message %q, want a clear one", c.name, got.Error)
		}
	}
	// The plain form with a bad picture: the page again, the text kept.
	r = a.postMultipart("/teach/studio/"+id+"/media", url.Values{"csrf": {a.token}, "rev": {fmt.Sprint(d.Rev)}, "in": {"en"}, "target": {"0"},
		"title": {"With a picture"}, "items.0.id": {d.Doc.Items[0].ID}, "items.0.type": {"choice"}, "items.0.prompt": {d.Doc.Items[0].Prompt["en"] + " Look."},
		"items.0.alt": {"a ball"}}, "items.0.picture", "evil.svg", []byte("<svg/>"), "")
	wantStatus(t, r, 400)
	wantContains(t, r, "The picture was not added", "Look.")
	if after := s.draft(t, id); !strings.HasSuffix(after.Doc.Items[0].Prompt["en"], " Look.") {
		t.Errorf("the text typed with a bad picture was lost: %q", after.Doc.Items[0].Prompt["en"])
	}
	wantStatus(t, a.get("/teach/studio/media/..%2F..%2Fetc%2Fpasswd"), 404)
}

// TestStudioPublishPage: Publish from the editor lists what is missing by
// question, in the page's language, and publishes nothing; once complete
// it shows the new version with the ways to use it, and the studio's
// assign button gives the set to her class.
func TestStudioPublishPage(t *testing.T) {
	s := mustSchoolWith(t, studioConfig(t))
	a := s.studioAs(t, "aziza", "ru")
	id := a.newDraft(studio.KindSet)
	d := s.draft(t, id)
	r := a.postForm("/teach/studio/"+id+"/publish", url.Values{"csrf": {a.token}})
	wantStatus(t, r, 422)
	wantContains(t, r, "Пока не опубликовано", "Вопрос 1:")
	if len(s.draft(t, id).Versions) != 0 {
		t.Fatal("an incomplete draft was published")
	}
	doc := studioSet("Сколько будет $2+2$?", "4", "5")
	wantStatus(t, a.saveJSON(id, d.Rev, doc), 200)
	r = a.postForm("/teach/studio/"+id+"/publish", url.Values{"csrf": {a.token}})
	wantStatus(t, r, 303)
	page := a.get(r.Header.Get("Location"))
	wantContains(t, page, "Опубликовано: версия 1.0.0", "/sets/set", "/live/new?set=", `action="/teach/classes/`+s.classA.ID+`/assign"`)
	pack := regexp.MustCompile(`name="what" value="([^"|]+)\|set\|set"`).FindStringSubmatch(page.body)
	if pack == nil {
		t.Fatalf("no assign form for the set:\n%.3000s", page.body)
	}
	wantStatus(t, a.postForm("/teach/classes/"+s.classA.ID+"/assign", url.Values{"csrf": {a.token}, "what": {pack[1] + "|set|set"}}), 303)
	wantContains(t, a.get("/teach/classes/"+s.classA.ID), "Мой тест")
	wantContains(t, a.get("/teach/classes/"+s.classA.ID+"?what="+url.QueryEscape(pack[1]+"|set|set")), `<option value="`+pack[1]+`|set|set" selected>`)
	// Others now see it among published work and may copy it.
	b := s.studioAs(t, "bakhtiyor", "en")
	wantContains(t, b.get("/teach/studio"), `href="/packs/`+pack[1]+`"`, `action="/teach/studio/`+id+`/copy"`, "Published by other teachers")
	wantStatus(t, b.get("/teach/studio/"+id), 404) // the draft stays hers; the pack is everyone's
	wantStatus(t, b.postForm("/teach/studio/"+id+"/publish", url.Values{"csrf": {b.token}}), 403)
	r = b.postForm("/teach/studio/"+id+"/copy", url.Values{"csrf": {b.token}})
	wantStatus(t, r, 303)
	if c := s.draft(t, draftPathRE.FindStringSubmatch(r.Header.Get("Location"))[1]); c.Owner != s.teacherB.ID || !strings.HasSuffix(c.Doc.RemixOf, id+"/set/set") {
		t.Errorf("the other teacher's copy is %+v", c)
	}
}

// TestStudioImportAndRemix: a GIFT file pasted or uploaded becomes a
// draft; one with mistakes makes nothing and lists them by line, with the
// pasted text kept; a set of an installed pack is copied from the studio.
func TestStudioImportAndRemix(t *testing.T) {
	s := mustSchoolWith(t, studioConfig(t))
	a := s.studioAs(t, "aziza", "en")
	r := a.postMultipart("/teach/studio/import", url.Values{"csrf": {a.token}, "lang": {"tg"}, "text": {"::q1:: 2+2? {=4 ~3 ~5}\n\n::q2:: $\\pi > 3$ {T}\n"}}, "", "", nil, "")
	wantStatus(t, r, 303)
	d := s.draft(t, draftPathRE.FindStringSubmatch(r.Header.Get("Location"))[1])
	if len(d.Doc.Items) != 2 || d.Doc.Items[0].Prompt["tg"] != "2+2?" || d.Doc.Languages[0] != "tg" {
		t.Errorf("the pasted GIFT made %+v", d.Doc)
	}
	bad := "::ok:: 1+1? {=2 ~3}\n\n::match:: Pair them {=a -> b =c -> d}\n"
	r = a.postMultipart("/teach/studio/import", url.Values{"csrf": {a.token}, "lang": {"en"}}, "file", "quiz.gift", []byte(bad), "")
	wantStatus(t, r, 422)
	wantContains(t, r, "Nothing was imported", "Line 3:", "Pair them")
	ru := s.studioAs(t, "bakhtiyor", "ru") // the problems in the page's language
	wantContains(t, ru.postMultipart("/teach/studio/import", url.Values{"csrf": {ru.token}, "lang": {"ru"}, "text": {bad}}, "", "", nil, ""),
		"Ничего не импортировано", "Строка 3:")
	if all, _ := s.db.Drafts(context.Background(), s.teacherA.ID); len(all) != 1 {
		t.Errorf("%d drafts after a refused import, want 1", len(all))
	}
	r = a.postForm("/teach/studio/remix", url.Values{"csrf": {a.token}, "what": {"mini|set|speed"}})
	wantStatus(t, r, 303)
	c := s.draft(t, draftPathRE.FindStringSubmatch(r.Header.Get("Location"))[1])
	if c.Owner != s.teacherA.ID || len(c.Doc.Items) == 0 || !strings.Contains(c.Doc.RemixOf, "mini") {
		t.Errorf("the copy of mini/speed is %+v", c)
	}
	wantContains(t, a.get("/packs/mini"), `href="/teach/studio?remix=mini#copy"`)
	wantStatus(t, a.postForm("/teach/studio/remix", url.Values{"csrf": {a.token}, "what": {"nope|set|x"}}), 404)
}
