package store_test

import (
	"database/sql"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// sqlite runs one statement on the file with a plain connection, as an
// operator with the sqlite3 shell would, and returns the error text or "".
func sqlite(t *testing.T, path, stmt string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		return err.Error()
	}
	return ""
}
