package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

const accountsUsage = `  stembox admin create-admin --username NAME [--name "Full Name"]
  stembox admin create-teacher --username NAME [--name "Full Name"]
  stembox admin reset-password --username NAME
      The password is asked for on the terminal (or read from the first line
      of standard input, or from --password-file).
  stembox admin import-roster --class CODE FILE.csv
      Add a class's students from CSV (columns: name, gender, birth_year,
      external_id, pin; or OneRoster users.csv). All or nothing.
  stembox admin create-class --teacher USERNAME --name 7A --grade 7
  stembox admin export-results [--class CODE] [--out FILE.csv]
`

// accountCommands are the admin commands about people; they run on the data
// directory directly, beside a running box.
var accountCommands = map[string]func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error{
	"create-admin":   createUser(school.RoleAdmin),
	"create-teacher": createUser(school.RoleTeacher),
	"reset-password": resetPassword,
	"create-class":   createClass,
	"import-roster":  importRoster,
	"export-results": exportResultsCmd,
}

// runAccounts runs one of the accountCommands.
func runAccounts(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	f, ok := accountCommands[cmd]
	if !ok {
		return usageError{"unknown admin command " + cmd}
	}
	return f(ctx, args, stdin, stdout, stderr)
}

// openBox opens the database of the box in dataDir.
func openBox(ctx context.Context, dataDir string) (*store.DB, error) {
	return store.Open(ctx, box.DBPath(dataDir), nil)
}

// withBox runs f on the database of the box in dataDir.
func withBox(ctx context.Context, dataDir string, f func(*store.DB) error) error {
	db, err := openBox(ctx, dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db)
}

func createUser(role string) func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
		fs := newCommand("stembox admin create-"+role, `--username NAME [--name "Full Name"] [--password-file FILE] [--data-dir DIR]`, stderr)
		pf := addPasswordFlags(fs)
		name := fs.String("name", "", "full name")
		pw, err := pf.parse(fs, args, stdin, stderr)
		if err != nil {
			return err
		}
		return withBox(ctx, *pf.dataDir, func(db *store.DB) error {
			u, err := db.CreateUser(ctx, "cli", role, *pf.username, *name, auth.Hash(pw))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created %s %s\n", u.Role, u.Username)
			return nil
		})
	}
}

func resetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin reset-password", "--username NAME [--password-file FILE] [--data-dir DIR]", stderr)
	pf := addPasswordFlags(fs)
	pw, err := pf.parse(fs, args, stdin, stderr)
	if err != nil {
		return err
	}
	return withBox(ctx, *pf.dataDir, func(db *store.DB) error {
		u, err := db.UserByUsername(ctx, *pf.username)
		if err != nil {
			return err
		}
		if err := db.SetPassword(ctx, u.ID, auth.Hash(pw)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new password set for %s; their sessions are signed out\n", u.Username)
		return nil
	})
}

// passwordFlags are the flags of the commands that set a user's password.
type passwordFlags struct{ dataDir, username, file *string }

func addPasswordFlags(fs *flag.FlagSet) passwordFlags {
	return passwordFlags{
		dataDir:  dataDirFlag(fs),
		username: fs.String("username", "", "username"),
		file:     fs.String("password-file", "", "read the password from this file's first line"),
	}
}

// parse parses args, checks that --username is given, and reads a
// password strong enough to set (readPassword).
func (p passwordFlags) parse(fs *flag.FlagSet, args []string, stdin io.Reader, stderr io.Writer) (string, error) {
	if err := parseWithEnv(fs, args); err != nil {
		return "", err
	}
	if *p.username == "" {
		return "", usageError{strings.TrimPrefix(fs.Name(), "stembox admin ") + ": --username is required"}
	}
	pw, err := readPassword(*p.file, stdin, stderr)
	if err != nil {
		return "", err
	}
	return pw, auth.CheckPasswordStrength(pw)
}

func createClass(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin create-class", "--teacher USERNAME --name 7A --grade 7 [--data-dir DIR]", stderr)
	dataDir := dataDirFlag(fs)
	teacher := fs.String("teacher", "", "teacher's username")
	name := fs.String("name", "", "class name")
	grade := fs.Int("grade", 0, "class grade")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	return withBox(ctx, *dataDir, func(db *store.DB) error {
		u, err := db.UserByUsername(ctx, *teacher)
		if err != nil {
			return fmt.Errorf("--teacher: %w", err)
		}
		c, err := db.CreateClass(ctx, "cli", *name, *grade, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created class %s (grade %d), code %s\n", c.Name, c.Grade, c.Code)
		return nil
	})
}

func importRoster(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin import-roster", "--class CODE [--data-dir DIR] FILE.csv", stderr)
	dataDir := dataDirFlag(fs)
	class := fs.String("class", "", "class code")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *class == "" || fs.NArg() != 1 {
		return usageError{"import-roster: give --class CODE and one CSV file"}
	}
	return withBox(ctx, *dataDir, func(db *store.DB) error {
		c, err := db.ClassByCode(ctx, *class)
		if err != nil {
			return err
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		students, err := gradebook.ImportRoster(ctx, db, auth.NewPool(0, 0), "cli", c, f, time.Now().Year())
		if ps := gradebook.Problems(err); ps != nil {
			for _, p := range ps {
				fmt.Fprintf(stderr, "%s:%d: %s\n", fs.Arg(0), p.Line, p.Reason)
			}
			return fmt.Errorf("%d problems; nothing was imported", len(ps))
		}
		if err != nil {
			return fmt.Errorf("%w; nothing was imported", err)
		}
		fmt.Fprintf(stdout, "imported %d students into %s\n", len(students), c.Name)
		return nil
	})
}

func exportResultsCmd(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newCommand("stembox admin export-results", "[--class CODE] [--out FILE.csv] [--lang tg|ru|en] [--time-zone ZONE] [--semicolons] [--data-dir DIR]", stderr)
	dataDir := dataDirFlag(fs)
	class := fs.String("class", "", "class code (default every class)")
	out := fs.String("out", "", "output file (default standard output)")
	lang := fs.String("lang", box.DefaultLang, "language of the questions and of true/false: tg, ru or en")
	zone := fs.String("time-zone", "", "time zone of the time column, e.g. Asia/Dushanbe (\"\" for the system's)")
	semi := fs.Bool("semicolons", false, "separate cells with ';' and write decimal commas, for a spreadsheet set to Russian")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if !i18n.Supported(*lang) {
		return usageError{fmt.Sprintf("--lang %q: choose tg, ru or en", *lang)}
	}
	f := gradebook.ResultsFormat{Lang: *lang, Semicolons: *semi}
	var err error
	if f.Zone, err = box.Zone(*zone); err != nil {
		return err
	}
	// The packs give the questions and the answers' text; without them
	// (a data directory copied without its packs) answers are as stored.
	if f.Lib, err = box.OpenLibrary(*dataDir, nil); err != nil {
		fmt.Fprintf(stderr, "export-results: no packs (%v); questions are left out and answers written as stored\n", err)
		f.Lib = nil
	}
	return withBox(ctx, *dataDir, func(db *store.DB) error {
		return writeOutput(*out, stdout, func(w io.Writer) error { return exportResults(ctx, db, *class, w, f) })
	})
}

// exportResults writes the results CSV of one class (code) or of every
// class: the file the class page's export gives.
func exportResults(ctx context.Context, db *store.DB, code string, w io.Writer, f gradebook.ResultsFormat) error {
	if code == "" {
		classes, err := db.Classes(ctx)
		if err != nil {
			return err
		}
		return gradebook.WriteResults(ctx, db, classes, w, f)
	}
	c, err := db.ClassByCode(ctx, code)
	if err != nil {
		return err
	}
	return gradebook.WriteResults(ctx, db, []school.Class{c}, w, f)
}

// readPassword reads a password without echo from a terminal, else the first
// line of the file or of standard input.
func readPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password (8 characters or more): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(b) != string(again) {
			return "", fmt.Errorf("the two passwords differ")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
