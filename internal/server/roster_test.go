package server_test

import (
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A Tajik teacher's Excel file: semicolons, Tajik headers, Д/П genders. A
// wrong one is refused in Tajik, one problem a row, and adds nobody; the
// right one adds every student.
func TestRosterImportFromATajikSpreadsheet(t *testing.T) {
	s := mustSchool(t)
	d := s.device(t, "tg")
	d.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID

	good := "\ufeffНому насаб;Ҷинс;Соли таваллуд\r\nЗарина Раҳимова;Д;2013\r\nНигина;Д;2013\r\nҶамшед Назаров;П;2012\r\n"
	bad := strings.Replace(good, "Нигина", "Nigina", 1)
	r := d.postForm(classURL+"/roster", url.Values{"csrf": {d.csrf(classURL)}, "csv": {bad}})
	wantStatus(t, r, 422)
	wantContains(t, r, "Ҳеҷ чиз илова нашуд.",
		"<li>Сатри 3: дар синф аллакай хонанда бо номи «Nigina» ҳаст</li>")
	bad = strings.Replace(good, "П;", "м/ж;", 1)
	r = d.postForm(classURL+"/roster", url.Values{"csrf": {d.csrf(classURL)}, "csv": {bad}})
	wantStatus(t, r, 422)
	wantContains(t, r, "<li>Сатри 4: ҷинси «м/ж» фаҳмо нест")
	wantLacks(t, r, "Row ", "line ", "not understood")
	if got, _ := s.db.Students(context.Background(), s.classA.ID); len(got) != 2 {
		t.Fatalf("after refused imports the class has %d students, want 2", len(got))
	}

	r = d.postForm(classURL+"/roster", url.Values{"csrf": {d.csrf(classURL)}, "csv": {good}})
	wantStatus(t, r, 200)
	students, _ := s.db.Students(context.Background(), s.classA.ID)
	got := map[string]string{}
	for _, st := range students {
		got[st.Name] = st.Gender
	}
	for name, gender := range map[string]string{"Зарина Раҳимова": "female", "Нигина": "female", "Ҷамшед Назаров": "male"} {
		if got[name] != gender {
			t.Errorf("%s: gender %q, want %q (class: %v)", name, got[name], gender, got)
		}
	}
}

// The same with a Russian file uploaded as a file, tabs between cells.
func TestRosterImportRussianFileUpload(t *testing.T) {
	s := mustSchool(t)
	d := s.device(t, "ru")
	d.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	r := d.postFile(classURL+"/roster", d.csrf(classURL), "список.csv", "Фамилия\tИмя\tПол\nАлиева\tМадина\tж\nКаримов\tФаррух\tМ\n")
	wantStatus(t, r, 200)
	wantContains(t, r, "Добавлено 2 ученика", "Алиева Мадина", "Каримов Фаррух")
}

// postFile posts a form with the CSRF token and one file, as a browser's
// file input does.
func (d *device) postFile(path, csrf, name, content string) response {
	d.tb.Helper()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest("POST", d.box.URL+path, strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", d.box.URL)
	return d.do(req)
}

// An admin's and a teacher's other form errors are in the page's language
// too: a username taken, a class without a name.
func TestAccountAndClassErrorsInTajik(t *testing.T) {
	s := mustSchool(t)
	admin := s.device(t, "tg")
	admin.signIn("admin", password)
	r := admin.postForm("/admin/teachers", url.Values{"csrf": {admin.csrf("/admin")}, "username": {"aziza"}, "password": {password}})
	wantStatus(t, r, 422)
	wantContains(t, r, "Номи корбарии aziza аллакай банд аст")
	wantLacks(t, r, "is taken")
	r = admin.postForm("/teach/classes", url.Values{"csrf": {admin.csrf("/teach")}, "name": {""}, "grade": {"7"}})
	wantStatus(t, r, 422)
	wantContains(t, r, "Синф бояд номи аз 1 то 60 аломат")
}
