package server_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a signed-in page.
func (d *device) csrf(path string) string {
	d.tb.Helper()
	m := csrfRE.FindStringSubmatch(d.get(path).body)
	if m == nil {
		d.tb.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// signIn signs a device in as a user with a password.
func (d *device) signIn(username, password string) {
	d.tb.Helper()
	r := d.postForm("/login", url.Values{"username": {username}, "password": {password}})
	if r.StatusCode != 303 {
		d.tb.Fatalf("sign in as %s: status %d\n%.1000s", username, r.StatusCode, r.body)
	}
}

// school is a box with an admin, two teachers, each with a class of two
// students, and a set assigned to class A.
type testSchool struct {
	*testBox
	admin, teacherA, teacherB school.User
	classA, classB            school.Class
	studentsA                 []school.Student
}

const password = "chalk-and-slate-7"

func mustSchool(t *testing.T) *testSchool {
	t.Helper()
	return mustSchoolWith(t, server.Config{})
}

// mustSchoolWith is mustSchool on a box with a configuration.
func mustSchoolWith(t *testing.T, cfg server.Config) *testSchool {
	t.Helper()
	return seedSchool(t, mustRunServerWith(t, cfg))
}

// seedSchool gives box mustSchool's people, classes and assignment.
func seedSchool(t *testing.T, box *testBox) *testSchool {
	t.Helper()
	ctx := context.Background()
	s := &testSchool{testBox: box}
	var err error
	if s.admin, err = box.db.CreateUser(ctx, "", school.RoleAdmin, "admin", "Admin", auth.Hash(password)); err != nil {
		t.Fatal(err)
	}
	s.teacherA, _ = box.db.CreateUser(ctx, "", school.RoleTeacher, "aziza", "Aziza", auth.Hash(password))
	s.teacherB, _ = box.db.CreateUser(ctx, "", school.RoleTeacher, "bakhtiyor", "Bakhtiyor", auth.Hash(password))
	s.classA, _ = box.db.CreateClass(ctx, "", "7A", 7, s.teacherA.ID)
	s.classB, _ = box.db.CreateClass(ctx, "", "7B", 7, s.teacherB.ID)
	if s.studentsA, err = box.db.AddStudents(ctx, "", s.classA.ID, []school.NewStudent{{Name: "Nigina", Gender: "female"}, {Name: "Farrukh", Gender: "male"}}); err != nil {
		t.Fatal(err)
	}
	box.db.AddStudents(ctx, "", s.classB.ID, []school.NewStudent{{Name: "Sino"}})
	if err := box.db.Assign(ctx, "", s.classA.ID, "mini", "set", "speed"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSetupOnlyUntilAnAdminExists(t *testing.T) {
	box := mustRunServer(t)
	d := box.device(t, "en")
	wantContains(t, d.get("/login"), "has no administrator yet", `href="/setup"`)
	r := d.postForm("/setup", url.Values{"username": {"boss"}, "name": {"Boss"}, "password": {"short"}, "password2": {"short"}})
	wantStatus(t, r, 422)
	wantContains(t, r, "at least 8 characters")
	r = d.postForm("/setup", url.Values{"username": {"boss"}, "password": {"long enough 1"}, "password2": {"long enough 2"}})
	wantContains(t, r, "differ")
	r = d.postForm("/setup", url.Values{"username": {"boss"}, "name": {"Boss"}, "password": {password}, "password2": {password}})
	wantStatus(t, r, 303)
	wantContains(t, d.get("/admin"), "Box administration", "Boss")
	// Once there is an admin, setup is gone, even for someone else.
	other := box.device(t, "en")
	if r := other.get("/setup"); r.StatusCode != 404 {
		t.Errorf("GET /setup after setup: %d, want 404", r.StatusCode)
	}
	r = other.postForm("/setup", url.Values{"username": {"evil"}, "password": {password}, "password2": {password}})
	if r.StatusCode != 404 {
		t.Errorf("POST /setup after setup: %d, want 404", r.StatusCode)
	}
	if _, err := box.db.UserByUsername(context.Background(), "evil"); err == nil {
		t.Error("a second admin was created through setup")
	}
}

func TestLoginRateLimit(t *testing.T) {
	s := mustSchool(t)
	d := s.device(t, "en")
	for i := range 5 {
		r := d.postForm("/login", url.Values{"username": {"aziza"}, "password": {"wrong password"}})
		if r.StatusCode != 401 || !strings.Contains(r.body, "username or password is wrong") {
			t.Fatalf("wrong password %d: status %d", i+1, r.StatusCode)
		}
	}
	// Even the right password waits now, with a clear message.
	r := d.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}})
	wantStatus(t, r, 429)
	wantContains(t, r, "Try again in 5 s")
	if got := r.Header.Get("Retry-After"); got != "5" && got != "6" {
		t.Errorf("Retry-After = %q, want the 5 s the page asks for", got)
	}
	r = s.device(t, "ru").postForm("/login", url.Values{"username": {"aziza"}, "password": {password}})
	wantStatus(t, r, 429)
	wantContains(t, r, "Попробуйте снова через")
	// Another account on the same device is not: a shared laptop is not
	// an attacker because someone mistyped on it.
	r = s.device(t, "en").postForm("/login", url.Values{"username": {"bakhtiyor"}, "password": {password}})
	wantStatus(t, r, 303)
}

func TestCSRFAndStolenSessions(t *testing.T) {
	s := mustSchool(t)
	teacher := s.device(t, "en")
	teacher.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	before, _ := s.db.Students(context.Background(), s.classA.ID)

	// No token, a wrong token: refused, nothing changes.
	for _, tok := range []string{"", "forged"} {
		r := teacher.postForm(classURL+"/students", url.Values{"csrf": {tok}, "name": {"Intruder"}})
		wantStatus(t, r, 403)
		wantContains(t, r, "form has expired")
	}
	// A student's session cannot use a teacher's page.
	student := s.device(t, "en")
	r := student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}})
	wantStatus(t, r, 303)
	if r := student.get(classURL); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("student on a teacher's page: %d %s, want a redirect to sign in", r.StatusCode, r.Header.Get("Location"))
	}
	r = student.postForm(classURL+"/students", url.Values{"csrf": {student.csrf("/me")}, "name": {"Intruder"}})
	wantStatus(t, r, 403)
	after, _ := s.db.Students(context.Background(), s.classA.ID)
	if len(after) != len(before) {
		t.Errorf("refused requests added students: %d → %d", len(before), len(after))
	}
	// With the token, it works.
	r = teacher.postForm(classURL+"/students", url.Values{"csrf": {teacher.csrf(classURL)}, "name": {"Madina"}, "gender": {"female"}})
	wantStatus(t, r, 200)
	wantContains(t, r, "1 student added", "Madina")
}

func TestRosterImportAllOrNothing(t *testing.T) {
	s := mustSchool(t)
	d := s.device(t, "en")
	d.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	bad := "name,gender,birth_year\nJamshed,male,2013\n,female,2013\nNigina,female,2013\nOdina,dragon,2012\n"
	r := d.postForm(classURL+"/roster", url.Values{"csrf": {d.csrf(classURL)}, "csv": {bad}})
	wantStatus(t, r, 422)
	wantContains(t, r, "Nothing was added.", "<li>Row 3: the name is empty</li>", "<li>Row 5: gender")
	r = d.postForm(classURL+"/roster", url.Values{"csrf": {d.csrf(classURL)}, "csv": {"name\nNigina\nOdina\n"}})
	wantStatus(t, r, 422)
	wantContains(t, r, "<li>Row 2: the class already has a student called “Nigina”</li>")
	if got, _ := s.db.Students(context.Background(), s.classA.ID); len(got) != 2 {
		t.Fatalf("after refused imports the class has %d students, want 2", len(got))
	}
	good := "sourcedId,role,givenName,familyName\nu1,student,Odina,Karimova\nu2,teacher,Rustam,Saidov\nu3,student,Jamshed,Nazarov\n"
	r = d.postForm(classURL+"/roster", url.Values{"csrf": {d.csrf(classURL)}, "csv": {good}})
	wantStatus(t, r, 200)
	wantContains(t, r, "2 students added", "Odina Karimova", "Jamshed Nazarov")
	csv := d.get(classURL + "/roster.csv")
	wantContains(t, csv, "name,gender,birth_year,external_id", "Odina Karimova,unspecified,,u1")
}

func TestStudentSignInWithPIN(t *testing.T) {
	s := mustSchool(t)
	teacher := s.device(t, "en")
	teacher.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	r := teacher.postForm(classURL+"/settings", url.Values{"csrf": {teacher.csrf(classURL)}, "sign_in": {"pin"}, "mastery": {"last:4/5"}})
	wantStatus(t, r, 303)

	student := s.device(t, "en")
	nigina := s.studentsA[0].ID
	r = student.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}})
	wantStatus(t, r, 403)
	wantContains(t, r, "no PIN yet")

	r = teacher.postForm(classURL+"/students/"+nigina+"/secret", url.Values{"csrf": {teacher.csrf(classURL)}})
	m := regexp.MustCompile(`New sign-in for Nigina[^<]*<b class="code">(\d{4})</b>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("the new PIN is not shown to the teacher:\n%.3000s", r.body)
	}
	pin := m[1]
	r = student.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}})
	wantStatus(t, r, 200)
	wantContains(t, r, `name="pin"`, "Nigina")
	r = student.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {pin}})
	wantStatus(t, r, 303)
	wantContains(t, student.get("/me"), "Hello, Nigina")

	// A flood of wrong PINs is slowed down, right PIN or not.
	flood := s.device(t, "en")
	wrong := "0000"
	if pin == wrong {
		wrong = "1111"
	}
	for range 5 {
		r = flood.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {wrong}})
		wantStatus(t, r, 401)
		wantContains(t, r, "That PIN is not right")
	}
	r = flood.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {pin}})
	wantStatus(t, r, 429)
	wantContains(t, r, "Try again in")
}

func TestProgressReachesTheTeacher(t *testing.T) {
	s := mustSchool(t)
	student := s.device(t, "en")
	r := student.get("/student/" + s.classA.Code)
	wantContains(t, r, "Nigina", "Farrukh")
	wantLacks(t, r, "female", "male", "Sino") // no details, no other class
	student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}})
	home := student.get("/me")
	wantContains(t, home, "Hello, Nigina", "0 of 1 done", "Next:", "Speed")

	answers := map[string]url.Values{
		"1": {"choice": {"0"}}, "2": {"choice": {"0", "1"}}, "3": {"text": {"false"}}, "4": {"text": {"5"}},
	}
	for n, form := range answers {
		form.Set("id", formID(t, student.get("/packs/mini/sets/speed/"+n)))
		wantStatus(t, student.postForm("/packs/mini/sets/speed/"+n, form), 303)
	}
	wantContains(t, student.get("/me"), "1 of 1 done", "mastered")

	teacher := s.device(t, "en")
	teacher.signIn("aziza", password)
	heat := teacher.get("/teach/classes/" + s.classA.ID + "/progress")
	wantStatus(t, heat, 200)
	wantContains(t, heat, "Nigina", "Farrukh", `class="cell mastered"`, `class="cell new"`, "<td>1/2</td>")
	items := teacher.get("/teach/classes/" + s.classA.ID + "/sets/mini/speed")
	wantContains(t, items, "100% of 1 answers correct", "Not tried:", "Farrukh")
	report := teacher.get("/teach/classes/" + s.classA.ID + "/report")
	wantContains(t, report, "Class report: 7A", "1 / 2", "1 / 1", "0 / 1")
	csv := teacher.get("/teach/classes/" + s.classA.ID + "/results.csv")
	wantContains(t, csv, "student,gender,external_id,pack,set,item,question,correct", "Nigina,female,,mini,speed,choice-1,A bus travels 120 km in 2 h. Its average speed?,true")
	per := teacher.get("/teach/classes/" + s.classA.ID + "/students/" + s.studentsA[0].ID)
	wantContains(t, per, "4 answers", "<svg class=\"chart\"")
}

// Nothing personal reaches the log: passwords, PINs, answers, names,
// session cookies.
func TestNoSecretsOrNamesInLogs(t *testing.T) {
	s := mustSchool(t)
	teacher := s.device(t, "en")
	teacher.postForm("/login", url.Values{"username": {"aziza"}, "password": {"wrong secret 12"}})
	teacher.signIn("aziza", password)
	classURL := "/teach/classes/" + s.classA.ID
	teacher.postForm(classURL+"/settings", url.Values{"csrf": {teacher.csrf(classURL)}, "sign_in": {"pin"}, "mastery": {"last:4/5"}})
	r := teacher.postForm(classURL+"/students/"+s.studentsA[0].ID+"/secret", url.Values{"csrf": {teacher.csrf(classURL)}})
	pin := regexp.MustCompile(`<b class="code">(\d{4})</b>`).FindStringSubmatch(r.body)[1]
	student := s.device(t, "en")
	student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}, "pin": {pin}})
	form := url.Values{"text": {"my secret answer"}, "id": {formID(t, student.get("/packs/mini/sets/speed/5"))}}
	student.postForm("/packs/mini/sets/speed/5", form)
	student.get("/this/does/not/exist")

	logs := s.logs.String()
	if !strings.Contains(logs, "status=404") {
		t.Fatalf("the log capture does not work; logs:\n%s", logs)
	}
	cookies := ""
	for _, c := range student.client.Jar.Cookies(mustURL(s.URL)) {
		cookies += c.Value + " "
	}
	for _, secret := range append([]string{password, "wrong secret 12", "my secret answer", "Nigina", pin + " "}, strings.Fields(cookies)...) {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
