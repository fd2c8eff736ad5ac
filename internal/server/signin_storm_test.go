package server_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
)

// deviceAt is a device whose connections come from ip, one of the
// loopback addresses (127.0.0.0/8), so that tests have several sources.
func (b *testBox) deviceAt(tb testing.TB, lang, ip string) *device {
	d := b.device(tb, lang)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	d.client.Transport = &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 100}
	return d
}

// burst sends n copies of a form at once and counts the answers' statuses.
func (d *device) burst(n int, path string, form url.Values) map[int]int {
	d.tb.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", d.box.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			status := -1
			if resp, err := d.client.Do(req); err == nil {
				resp.Body.Close()
				status = resp.StatusCode
			}
			mu.Lock()
			got[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

// pinSchool is a school whose class A signs in with PINs, hashed through
// pool; Nigina's PIN is 4321.
func pinSchool(t *testing.T, pool *auth.Pool) *testSchool {
	t.Helper()
	s := mustSchoolWith(t, server.Config{Hashing: pool})
	ctx := context.Background()
	if err := s.db.UpdateClass(ctx, "", s.classA.ID, school.SignInPIN, "last:4/5"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.SetStudentSecret(ctx, "", s.studentsA[0].ID, auth.Hash("4321")); err != nil {
		t.Fatal(err)
	}
	s.classA.SignIn = school.SignInPIN
	return s
}

func TestPINBurstIsCountedBeforeHashing(t *testing.T) {
	pool := auth.NewPool(2, time.Minute)
	s := pinSchool(t, pool)
	nigina := s.studentsA[0].ID
	attacker := s.deviceAt(t, "en", "127.0.0.2")
	before := pool.Stats().Done
	got := attacker.burst(100, "/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"1111"}})
	hashed := pool.Stats().Done - before
	if hashed > 5 || got[401] != int(hashed) || got[429] != 100-int(hashed) {
		t.Errorf("100 parallel wrong PINs: %d hashed, answers %v; want at most 5 hashed (401) and the rest refused (429)", hashed, got)
	}
	r := attacker.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}})
	wantStatus(t, r, 429)
	if n := pool.Stats().Done - before; n != hashed {
		t.Errorf("the refused right PIN was hashed (%d hashes, want %d)", n, hashed)
	}
	// A second burst after the first one's wait still gets nothing more
	// than one attempt at a time.
	again := attacker.burst(100, "/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"1111"}})
	if again[401] > 1 {
		t.Errorf("a second burst: %v, want at most one checked", again)
	}
	// Nigina, at her own tablet, is not kept out by one attacker.
	r = s.deviceAt(t, "en", "127.0.0.3").postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}})
	wantStatus(t, r, 303)
}

func TestPasswordBurstIsCountedBeforeHashing(t *testing.T) {
	pool := auth.NewPool(2, time.Minute)
	s := mustSchoolWith(t, server.Config{Hashing: pool})
	attacker := s.deviceAt(t, "en", "127.0.0.2")
	before := pool.Stats().Done
	got := attacker.burst(100, "/login", url.Values{"username": {"aziza"}, "password": {"wrong password"}})
	hashed := pool.Stats().Done - before
	if hashed > 5 || got[401] != int(hashed) || got[429] != 100-int(hashed) {
		t.Errorf("100 parallel wrong passwords: %d hashed, answers %v; want at most 5 hashed and the rest refused", hashed, got)
	}
	r := attacker.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}})
	wantStatus(t, r, 429)
	// The attacker keeps at it from twenty more addresses…
	for i := range 20 {
		attacker := s.deviceAt(t, "en", "127.0.1."+string(rune('1'+i%9))+string(rune('0'+i/9)))
		attacker.burst(10, "/login", url.Values{"username": {"aziza"}, "password": {"wrong password"}})
	}
	// …and Aziza, at her own laptop, signs in all the same.
	aziza := s.deviceAt(t, "en", "127.0.0.3")
	wantStatus(t, aziza.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}}), 303)
	wantContains(t, aziza.get("/teach"), "7A")
}

func TestSharedTabletIsNotLockedOut(t *testing.T) {
	s := pinSchool(t, nil)
	ctx := context.Background()
	more, err := s.db.AddStudents(ctx, "", s.classA.ID, []school.NewStudent{{Name: "A"}, {Name: "B"}, {Name: "C"}, {Name: "D"}, {Name: "E"}, {Name: "F"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range more {
		s.db.SetStudentSecret(ctx, "", st.ID, auth.Hash("2468"))
	}
	tablet := s.deviceAt(t, "en", "127.0.0.4")
	for _, st := range more[:5] { // five children each mistype once
		wantStatus(t, tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {st.ID}, "pin": {"1357"}}), 401)
	}
	wantStatus(t, tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {more[5].ID}, "pin": {"2468"}}), 303)
	wantStatus(t, tablet.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}}), 303)
	// A child who mistypes five times waits a little, then her right PIN
	// clears it.
	for range 5 {
		tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {more[0].ID}, "pin": {"1357"}})
	}
	wantStatus(t, tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {more[0].ID}, "pin": {"2468"}}), 429)
}

func TestTeacherLetsAStudentInAgain(t *testing.T) {
	s := pinSchool(t, nil)
	nigina := s.studentsA[0].ID
	classURL := "/teach/classes/" + s.classA.ID
	tablet := s.deviceAt(t, "en", "127.0.0.4")
	for range 5 {
		tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"1111"}})
	}
	wantStatus(t, tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}}), 429)

	teacher := s.deviceAt(t, "tg", "127.0.0.5")
	teacher.signIn("aziza", password)
	page := teacher.get(classURL)
	wantContains(t, page, "пас аз кӯшишҳои нодуруст", classURL+"/students/"+nigina+"/unlock")
	wantLacks(t, page, classURL+"/students/"+s.studentsA[1].ID+"/unlock")
	r := teacher.postForm(classURL+"/students/"+nigina+"/unlock", url.Values{"csrf": {"forged"}})
	wantStatus(t, r, 403)
	wantStatus(t, tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}}), 429)
	other := s.device(t, "en")
	other.signIn("bakhtiyor", password)
	wantStatus(t, other.postForm(classURL+"/students/"+nigina+"/unlock", url.Values{"csrf": {other.csrf("/teach")}}), 404)

	r = teacher.postForm(classURL+"/students/"+nigina+"/unlock", url.Values{"csrf": {teacher.csrf(classURL)}})
	wantStatus(t, r, 200)
	wantContains(t, r, "Nigina метавонад аз нав ворид шавад")
	wantLacks(t, r, classURL+"/students/"+nigina+"/unlock")
	wantStatus(t, tablet.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}}), 303)
}

func TestSignInStormIsHashedInABoundedPool(t *testing.T) {
	pool := auth.NewPool(2, time.Minute)
	s := pinSchool(t, pool)
	ctx := context.Background()
	var news []school.NewStudent
	for i := range 16 {
		news = append(news, school.NewStudent{Name: "Student " + string(rune('A'+i)), SecretHash: auth.Hash("5678")})
	}
	kids, err := s.db.AddStudents(ctx, "", s.classA.ID, news)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(kids))
	for i, k := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := s.deviceAt(t, "en", "127.0.2."+string(rune('1'+i%9))+string(rune('0'+i/9)))
			req, _ := http.NewRequest("POST", s.URL+"/student/"+s.classA.Code, strings.NewReader(url.Values{"student": {k.ID}, "pin": {"5678"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := d.client.Do(req); err == nil {
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 303 {
			t.Errorf("student %d: status %d, want 303", i, st)
		}
	}
	if st := pool.Stats(); st.Peak > 2 || st.Peak < 1 || st.Done < int64(len(kids)) {
		t.Errorf("pool stats %+v: want a peak of at most 2 hashes at once and %d done", st, len(kids))
	}
}

func TestBusyPoolAnswers503(t *testing.T) {
	pool := auth.NewPool(1, 50*time.Millisecond)
	s := pinSchool(t, pool)
	nigina := s.studentsA[0].ID
	hold, held := make(chan struct{}), make(chan struct{})
	go pool.Do(context.Background(), func() { close(held); <-hold })
	<-held
	for _, tc := range []struct{ lang, want string }{{"en", "The box is busy"}, {"ru", "Сервер занят"}, {"tg", "Сервер банд аст"}} {
		d := s.device(t, tc.lang)
		r := d.postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}})
		wantStatus(t, r, 503)
		wantContains(t, r, tc.want)
		if got := r.Header.Get("Retry-After"); got != "5" {
			t.Errorf("Retry-After %q, want 5", got)
		}
		r = d.postForm("/login", url.Values{"username": {"aziza"}, "password": {password}})
		wantStatus(t, r, 503)
	}
	close(hold)
	// The busy answers cost no attempts: more than five of them were sent.
	wantStatus(t, s.device(t, "en").postForm("/student/"+s.classA.Code, url.Values{"student": {nigina}, "pin": {"4321"}}), 303)
	wantStatus(t, s.device(t, "en").postForm("/login", url.Values{"username": {"aziza"}, "password": {password}}), 303)
}
