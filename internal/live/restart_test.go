package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mitstem/stembox/internal/store"
)

// storedState checks where the database holds session code: phase and
// question, at a version newer than after (the version stored before the
// command). It returns the stored version.
func storedState(t *testing.T, db *store.DB, code string, phase Phase, q int, after int64) int64 {
	t.Helper()
	rec, err := db.LiveSessionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if Phase(rec.Phase) != phase || rec.Current != q {
		t.Fatalf("stored %s q%d (version %d), want %s q%d", rec.Phase, rec.Current, rec.Version, phase, q)
	}
	if rec.Version <= after {
		t.Fatalf("stored version %d after the %s, want above %d", rec.Version, phase, after)
	}
	return rec.Version
}

// command sends a teacher's command and waits for the message every page
// gets for it: by then the new phase is stored.
func command(t *testing.T, teacher *client, cmd, announced string) {
	t.Helper()
	teacher.send(map[string]any{"type": cmd})
	teacher.expect(announced)
}

// Every phase change after two clean restarts in one session is stored
// before it is announced; an ended session is not resumed and takes nobody
// new. (Before versions went on across restarts, the restored session
// counted from 1 again and every phase it stored was dropped as older than
// the one already stored.)
func TestPhasesAreStoredAfterRestarts(t *testing.T) {
	h := newHarness(t)
	s, ali, teacher, c := h.asking(Options{LateJoin: true}, questions(t)[:3])
	v := storedState(t, h.db, s.Code, Open, 0, 0)
	for i := range 5 { // changes that are not stored as the state's version
		h.join(s.Code, fmt.Sprintf("Extra%d", i))
	}
	c.send(answerMsg(s.Code, 0, newAnswerID(), 1))
	c.expect("ack")

	restart := func() {
		h.stop()
		teacher.expectClose(CloseGoingAway)
		h = startHarness(t, h.db, h.db, h.path, nil)
		teacher = h.dial(s.Code, RoleTeacher, s.Token)
		teacher.expect("state")
	}
	for _, step := range []struct {
		restart        bool
		cmd, announced string
		phase          Phase
		q              int
	}{
		{true, "close", "closed", Closed, 0},
		{true, "reveal", "reveal", Revealed, 0},
		{false, "next", "question", Open, 1},
		{false, "close", "closed", Closed, 1},
		{true, "next", "question", Open, 2},
		{false, "end", "ended", Ended, 2},
	} {
		if step.restart {
			restart()
		}
		command(t, teacher, step.cmd, step.announced)
		v = storedState(t, h.db, s.Code, step.phase, step.q, v)
	}

	h.stop()
	h = startHarness(t, h.db, h.db, h.path, nil)
	if info, ok := h.sessions.Info(s.Code); ok {
		t.Fatalf("the ended session came back running: %+v", info)
	}
	if _, err := h.sessions.Join(context.Background(), s.Code, JoinRequest{Learner: "guest:new", Nickname: "New"}); err == nil {
		t.Fatal("a new student joined the ended session after a restart")
	}
	if _, err := dialURL(t, h.srv.URL, s.Code, RoleStudent, ali.Token, nil); err == nil {
		t.Error("a player connected to the ended session after a restart")
	}
}

// childEnv names the database a child process (TestLiveChildProcess) serves.
const childEnv = "STEMBOX_LIVE_CHILD_DB"

// TestLiveChildProcess is not a test: it is the box that TestPhasesSurviveSIGKILL
// runs in a process of its own and kills. It serves live Sessions over the
// database named by childEnv, prints its URL, and runs until killed.
func TestLiveChildProcess(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by TestPhasesSurviveSIGKILL")
	}
	db, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss := NewSessions(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := ss.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/{code}", func(w http.ResponseWriter, r *http.Request) {
		ss.ServeWS(w, r, r.PathValue("code"), Role(r.URL.Query().Get("role")), r.URL.Query().Get("secret"))
	})
	mux.HandleFunc("POST /create", func(w http.ResponseWriter, r *http.Request) {
		c, err := ss.Create(r.Context(), Spec{Title: "Quiz", Lang: "en", Questions: questions(t)[:3]})
		reply(w, c, err)
	})
	mux.HandleFunc("POST /join/{code}", func(w http.ResponseWriter, r *http.Request) {
		nick := r.URL.Query().Get("nick")
		j, err := ss.Join(r.Context(), r.PathValue("code"), JoinRequest{Learner: "guest:" + nick, Nickname: nick})
		reply(w, j, err)
	})
	srv := httptest.NewServer(mux)
	go ss.Run(context.Background())
	fmt.Println(srv.URL)
	select {} // until killed
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	json.NewEncoder(w).Encode(v)
}

// child is a box in a process of its own.
type child struct {
	cmd *exec.Cmd
	url string
}

func startChild(t *testing.T, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLiveChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(c.kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the child box did not start: %v", err)
	}
	c.url = strings.TrimSpace(line)
	go io.Copy(io.Discard, out)
	return c
}

// kill pulls the plug: SIGKILL, as a power cut does.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

func (c *child) post(t *testing.T, path string, v any) error {
	t.Helper()
	resp, err := http.Post(c.url+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, v)
}

// A box killed (SIGKILL) again and again in one session comes back each
// time to the last phase every page was told of, and an ended session
// stays ended.
func TestPhasesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs box processes")
	}
	path := filepath.Join(t.TempDir(), "box.db")
	box := startChild(t, path)
	db, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var s Created
	if err := box.post(t, "/create", &s); err != nil {
		t.Fatal(err)
	}
	var ali Joined
	if err := box.post(t, "/join/"+s.Code+"?nick=Ali", &ali); err != nil {
		t.Fatal(err)
	}
	var teacher *client
	dial := func() {
		var err error
		if teacher, err = dialURL(t, box.url, s.Code, RoleTeacher, s.Token, nil); err != nil {
			t.Fatal(err)
		}
		teacher.expect("state")
	}
	kill := func() {
		box.kill()
		box = startChild(t, path)
		dial()
	}
	dial()
	command(t, teacher, "start", "question")
	v := storedState(t, db, s.Code, Open, 0, 0)
	st, err := dialURL(t, box.url, s.Code, RoleStudent, ali.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.expect("state")
	st.send(answerMsg(s.Code, 0, newAnswerID(), 1))
	st.expect("ack")
	kill()
	command(t, teacher, "close", "closed")
	v = storedState(t, db, s.Code, Closed, 0, v)
	kill()
	command(t, teacher, "reveal", "reveal")
	v = storedState(t, db, s.Code, Revealed, 0, v)
	kill()
	command(t, teacher, "next", "question")
	v = storedState(t, db, s.Code, Open, 1, v)
	kill()
	command(t, teacher, "end", "ended")
	storedState(t, db, s.Code, Ended, 1, v)
	box.kill()

	box = startChild(t, path)
	var j Joined
	if err := box.post(t, "/join/"+s.Code+"?nick=New", &j); err == nil {
		t.Fatalf("a new student joined the ended session after a restart: %+v", j)
	}
	if _, err := dialURL(t, box.url, s.Code, RoleTeacher, s.Token, nil); err == nil {
		t.Error("the ended session came back running")
	}
}
