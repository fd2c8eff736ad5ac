package store_test

import (
	"context"
	"testing"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/school"
)

// A student's secret keeps its kind; a class's new secrets go in all or
// none, and a bad kind or an unknown student changes nothing.
func TestStudentSecretKinds(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c, err := db.CreateClass(ctx, "", "5B", 5, "")
	if err != nil {
		t.Fatal(err)
	}
	sts, err := db.AddStudents(ctx, "", c.ID, []school.NewStudent{{Name: "Ali", SecretHash: "h-pin"}, {Name: "Vali", SecretHash: "h-pic", SecretKind: school.SignInPicture}, {Name: "Sara"}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := func() map[string]string {
		got, _ := db.Students(ctx, c.ID)
		m := map[string]string{}
		for _, s := range got {
			m[s.Name] = s.SecretKind + ":" + s.SecretHash
		}
		return m
	}
	want := map[string]string{"Ali": "pin:h-pin", "Vali": "picture:h-pic", "Sara": ":"}
	for name, w := range want {
		if got := kinds()[name]; got != w {
			t.Errorf("%s: kind:hash %q, want %q", name, got, w)
		}
	}
	if err := db.SetStudentSecrets(ctx, "", map[string]string{sts[0].ID: "x"}, "dragon"); failure.KindOf(err) != failure.Invalid {
		t.Errorf("a secret of kind dragon: %v, want invalid", err)
	}
	if err := db.SetStudentSecrets(ctx, "", map[string]string{sts[0].ID: "new", "nobody": "new"}, school.SignInPicture); failure.KindOf(err) != failure.NotFound {
		t.Errorf("secrets for an unknown student: %v, want not found", err)
	}
	for name, w := range want {
		if got := kinds()[name]; got != w {
			t.Errorf("after refused changes %s has %q, want %q", name, got, w)
		}
	}
	if err := db.SetStudentSecrets(ctx, "", map[string]string{sts[0].ID: "p1", sts[2].ID: "p2"}, school.SignInPicture); err != nil {
		t.Fatal(err)
	}
	if got := kinds(); got["Ali"] != "picture:p1" || got["Sara"] != "picture:p2" {
		t.Errorf("after new pictures: %v", got)
	}
}

// A box of schema 5 knew no kinds of secret: a secret was of its class's
// mode, and the migration takes it to be of the mode the class has then.
func TestSecretKindMigration(t *testing.T) {
	ctx := context.Background()
	path := mustOldDB(t, 5,
		`INSERT INTO classes (id, name, grade, code, sign_in, mastery, created_ms) VALUES ('cpin', '5A', 5, 'AAAAA', 'pin', 'last:4/5', 0), ('cpic', '5B', 5, 'CCCCC', 'picture', 'last:4/5', 0)`,
		`INSERT INTO students (id, class_id, name, gender, secret_hash, created_ms) VALUES ('s1', 'cpin', 'Ali', 'male', 'h1', 0), ('s2', 'cpic', 'Vali', 'male', 'h2', 0), ('s3', 'cpic', 'Sara', 'female', NULL, 0)`)
	db := mustOpenAt(t, path)
	for id, want := range map[string]string{"s1": school.SignInPIN, "s2": school.SignInPicture, "s3": ""} {
		st, err := db.Student(ctx, id)
		if err != nil || st.SecretKind != want {
			t.Errorf("student %s after the migration: kind %q, %v; want %q", id, st.SecretKind, err, want)
		}
	}
}
