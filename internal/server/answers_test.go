package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/server"
)

// answerSpeed signs Nigina in and answers three questions of the speed
// set: the bus wrongly (240 km/h), true/false wrongly, the formula right.
func answerSpeed(t *testing.T, s *testSchool) {
	t.Helper()
	student := s.device(t, "ru")
	wantStatus(t, student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}}), 303)
	for n, form := range map[string]url.Values{"1": {"choice": {"1"}}, "3": {"text": {"true"}}, "5": {"text": {"скорость"}}} {
		form.Set("id", formID(t, student.get("/packs/mini/sets/speed/"+n)))
		wantStatus(t, student.postForm("/packs/mini/sets/speed/"+n, form), 303)
	}
}

// A student's page shows each answer with its question, what the child
// answered and the right answer, at the box's local time — never the
// pack / set / item ids.
func TestStudentAnswersShowTheQuestions(t *testing.T) {
	dushanbe := time.FixedZone("Asia/Dushanbe", 5*3600)
	s := mustSchoolWith(t, server.Config{Zone: dushanbe})
	answerSpeed(t, s)
	atts, err := s.db.Attempts(context.Background(), []string{s.studentsA[0].LearnerID()}, "", "")
	if err != nil || len(atts) != 3 {
		t.Fatalf("attempts: %v, %v", atts, err)
	}

	teacher := s.device(t, "ru")
	teacher.signIn("aziza", password)
	r := teacher.get("/teach/classes/" + s.classA.ID + "/students/" + s.studentsA[0].ID)
	wantStatus(t, r, 200)
	wantContains(t, r, "Автобус проезжает 120 км за 2 ч. Его средняя скорость?", "<dd lang=\"ru\">240 км/ч</dd>",
		"Правильный ответ</dt><dd lang=\"ru\">60 км/ч</dd>", "Скорость может быть отрицательной.", "<dd lang=\"ru\">Верно</dd>",
		"<dd lang=\"ru\">скорость</dd>", "вопрос 5", "<time>"+atts[0].Time.In(dushanbe).Format("15:04")+"</time>", `class="katex`)
	wantLacks(t, r, "mini / speed / choice-1", "choice-1", "[1]")

	// The item analysis says what was answered, never "right" for a
	// wrong answer: Tajik's true/false are not its right/wrong.
	tg := s.device(t, "tg")
	tg.signIn("aziza", password)
	items := tg.get("/teach/classes/" + s.classA.ID + "/sets/mini/speed")
	wantContains(t, items, "<span lang=\"ru\">Рост</span> × 1")
	wantLacks(t, items, "Дуруст</span>")
}

// The results CSV: questions and answers as text, times in the box's zone,
// and a variant for a spreadsheet set to Russian.
func TestResultsCSVForPeople(t *testing.T) {
	dushanbe := time.FixedZone("Asia/Dushanbe", 5*3600)
	s := mustSchoolWith(t, server.Config{Zone: dushanbe})
	answerSpeed(t, s)
	atts, _ := s.db.Attempts(context.Background(), []string{s.studentsA[0].LearnerID()}, "", "")
	local := atts[0].Time.In(dushanbe).Format(gradebook.TimeLayout)

	teacher := s.device(t, "ru")
	teacher.signIn("aziza", password)
	r := teacher.get("/teach/classes/" + s.classA.ID + "/results.csv")
	wantStatus(t, r, 200)
	wantContains(t, r, gradebook.BOM+"class,student,gender,external_id,pack,set,item,question,correct,score,answer,right_answer,time\n",
		"7A,Nigina,female,,mini,speed,choice-1,Автобус проезжает 120 км за 2 ч. Его средняя скорость?,false,0,240 км/ч,60 км/ч,"+local+"\n",
		"tf-3,Скорость может быть отрицательной.,false,0,Верно,Неверно,",
		"text-5,Как называется величина $s/t$?,true,1,скорость,скорость,")
	if strings.Contains(r.body, "Z\n") || strings.Contains(r.body, "[1]") {
		t.Errorf("the CSV has UTC times or choice indexes:\n%s", r.body)
	}
	r = teacher.get("/teach/classes/" + s.classA.ID + "/results.csv?sep=semicolon")
	wantContains(t, r, gradebook.BOM+"class;student;gender;external_id;pack;set;item;question;correct;score;answer;right_answer;time\n",
		";choice-1;Автобус проезжает 120 км за 2 ч. Его средняя скорость?;false;0;240 км/ч;60 км/ч;"+local+"\n")
	wantContains(t, teacher.get("/teach/classes/"+s.classA.ID), `href="/teach/classes/`+s.classA.ID+`/results.csv?sep=semicolon"`)
}
