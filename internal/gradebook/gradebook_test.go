package gradebook_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

func TestImportRosterIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "box.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, "test", school.RoleTeacher, "aziza", "", "x")
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateClass(ctx, "test", "7A", 7, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		sts, _ := db.Students(ctx, c.ID)
		return len(sts)
	}

	_, err = gradebook.ImportRoster(ctx, db, auth.NewPool(1, 0), "test", c, strings.NewReader("name,gender\nAli,robot\n,male\nOk,female\n"), 2026)
	if ps := gradebook.Problems(err); len(ps) != 2 || ps[0].Line != 2 || ps[1].Line != 3 {
		t.Errorf("a roster with two bad lines: err = %v, want the problems of lines 2 and 3", err)
	}
	if n := count(); n != 0 {
		t.Errorf("after a refused roster the class has %d students, want 0", n)
	}

	added, err := gradebook.ImportRoster(ctx, db, auth.NewPool(1, 0), "test", c, strings.NewReader("name,gender,pin\nНигина,ж,1234\nFarrukh,m,\n"), 2026)
	if err != nil || len(added) != 2 {
		t.Fatalf("import: %d added, %v", len(added), err)
	}
	sts, _ := db.Students(ctx, c.ID)
	for _, s := range sts {
		if got, want := s.HasSecret, s.Name == "Нигина"; got != want {
			t.Errorf("%s has a PIN: %v, want %v", s.Name, got, want)
		}
	}

	_, err = gradebook.ImportRoster(ctx, db, auth.NewPool(1, 0), "test", c, strings.NewReader("name\nZarina\nFarrukh\n"), 2026)
	if ps := gradebook.Problems(err); len(ps) != 1 || ps[0].Line != 3 || ps[0].Key != "in_class" {
		t.Errorf("a roster naming a student the class has: err = %v, want the problem of row 3", err)
	}
	if n := count(); n != 2 {
		t.Errorf("after a refused roster the class has %d students, want 2", n)
	}
}
