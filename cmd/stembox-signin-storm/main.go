// Command stembox-signin-storm is the sign-in storm of `make bench`: a real
// `stembox serve` process, under a 1 GB memory limit (a cgroup v2 directory
// it makes under /sys/fs/cgroup with memory.max=1G, when it may), gets a
// class of 200 students with PINs; then 40 and then all 200 of them sign in
// with their right PINs in the same second. It reports the latency (p50,
// p99), the box's peak memory and any failures, and how many of 100
// parallel wrong PINs for one student the box checked.
//
// Targets: p99 ≤ 3 s for 40 students, peak memory ≤ 250 MB for 200, no
// failures, and no more wrong PINs checked than the limiter lets one device
// make one at a time (5).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	stembox := flag.String("stembox", "./stembox", "the stembox binary to measure")
	packs := flag.String("packs", "content-packs", "sample pack sources")
	flag.Parse()
	if err := run(*stembox, *packs); err != nil {
		fmt.Fprintln(os.Stderr, "stembox-signin-storm:", err)
		os.Exit(1)
	}
}

const classSize = 200

func run(bin, packs string) error {
	tmp, err := os.MkdirTemp("", "stembox-storm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	addr, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", filepath.Join(tmp, "data"), "--dev-packs", packs, "--log-level", "warn", "--lang", "en")
	logFile := filepath.Join(tmp, "box.log")
	out, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	// The box starts inside the cgroup, so that it sees its 1 GB as a box
	// of 1 GB does (its soft memory limit is a quarter of it). Without one,
	// it is given the soft limit it would choose there.
	cg, cgErr := memoryCgroup()
	switch {
	case cgErr != nil:
		cmd.Env = append(os.Environ(), "GOMEMLIMIT=256MiB")
		fmt.Printf("no 1 GB cgroup (%v): the box runs with GOMEMLIMIT=256MiB, the soft limit it sets itself on a 1 GB box; peak memory is its VmHWM\n", cgErr)
	case cg.v1:
		// cgroup v1 cannot start a process inside a group: a shell joins
		// it, then becomes the box.
		cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(cg.dir, "cgroup.procs")}, cmd.Args...)
		cmd.Path = "/bin/sh"
		defer os.Remove(cg.dir)
		fmt.Printf("the box runs in %s with memory.limit_in_bytes=1G (cgroup v1)\n", cg.dir)
	default:
		fd, err := syscall.Open(cg.dir, syscall.O_DIRECTORY|syscall.O_RDONLY, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		defer os.Remove(cg.dir)
		fmt.Printf("the box runs in %s with memory.max=1G\n", cg.dir)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	base := "http://" + addr
	if err := waitUp(base); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("%w:\n%s", err, log)
	}
	code, students, err := makeClass(base)
	if err != nil {
		return err
	}
	fmt.Printf("class %s: %d students with PINs; before the storms: %s now, %s\n", code, len(students),
		procStatus(cmd.Process.Pid, "VmRSS"), peakMemory(cg, cmd.Process.Pid))
	var fails int
	for _, n := range []int{40, classSize} {
		lat, failed := storm(base, code, students[:n])
		fails += failed
		fmt.Printf("%3d students at once: p50 %v, p99 %v, %d failed, peak memory %s\n",
			n, pct(lat, 50), pct(lat, 99), failed, peakMemory(cg, cmd.Process.Pid))
	}
	checked, err := wrongBurst(base, code, students[0].id)
	if err != nil {
		return err
	}
	fmt.Printf("100 parallel wrong PINs for one student: %d checked (the limit one at a time: 5)\n", checked)
	if fails > 0 {
		return fmt.Errorf("%d sign-ins failed", fails)
	}
	return nil
}

// cgroup is a memory control group made for the box.
type cgroup struct {
	dir string
	v1  bool // the v1 memory controller's hierarchy, not the unified one
}

// memoryCgroup makes a cgroup with a 1 GB memory limit: a v2 directory
// with memory.max=1G, or on a v1 machine one of the memory controller's
// with memory.limit_in_bytes; or says why it could not.
func memoryCgroup() (cgroup, error) {
	name := fmt.Sprintf("stembox-signin-storm-%d", os.Getpid())
	root := "/sys/fs/cgroup"
	cg, file, limit := cgroup{dir: filepath.Join(root, name)}, "memory.max", "1G"
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		if _, err := os.Stat(filepath.Join(root, "memory", "memory.limit_in_bytes")); err != nil {
			return cgroup{}, errors.New("/sys/fs/cgroup has neither cgroup v2 nor the v1 memory controller")
		}
		cg, file, limit = cgroup{dir: filepath.Join(root, "memory", name), v1: true}, "memory.limit_in_bytes", strconv.Itoa(1<<30)
	}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return cgroup{}, fmt.Errorf("cgroups are not writable: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(limit), 0o644); err != nil {
		os.Remove(cg.dir)
		return cgroup{}, fmt.Errorf("cgroup %s: %w", file, err)
	}
	return cg, nil
}

// peakMemory is the cgroup's peak (memory.peak, or v1's
// memory.max_usage_in_bytes), or the process's VmHWM.
func peakMemory(cg cgroup, pid int) string {
	for _, file := range []string{"memory.peak", "memory.max_usage_in_bytes"} {
		if cg.dir == "" {
			break
		}
		if b, err := os.ReadFile(filepath.Join(cg.dir, file)); err == nil {
			n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			return fmt.Sprintf("%d MB (%s; the box's own %s)", n>>20, file, procStatus(pid, "VmHWM"))
		}
	}
	return procStatus(pid, "VmHWM")
}

// procStatus is a memory figure of /proc/PID/status, in MB.
func procStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			n, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%d MB (%s)", n>>10, field)
		}
	}
	return "unknown"
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitUp(base string) error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
	}
	return errors.New("the box did not start")
}

type student struct{ id, pin string }

var (
	csrfRE    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	codeRE    = regexp.MustCompile(`<b class="code">([^<]+)</b>`)
	studentRE = regexp.MustCompile(`name="student" value="([^"]+)"><button class="tile" type="submit">Student (\d+)<`)
)

// makeClass sets up the box's first account, as a school would, and makes
// a class of classSize students with PINs from a roster file.
func makeClass(base string) (string, []student, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	page := func(resp *http.Response, err error) (string, error) {
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("%s %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status)
		}
		return string(b), nil
	}
	post := func(path string, form url.Values) (string, error) {
		return page(c.PostForm(base+path, form))
	}
	if _, err := post("/setup", url.Values{"username": {"teacher"}, "name": {"Storm Teacher"},
		"password": {"storm-password"}, "password2": {"storm-password"}}); err != nil {
		return "", nil, err
	}
	teach, err := page(c.Get(base + "/teach"))
	if err != nil {
		return "", nil, err
	}
	csrf := csrfRE.FindStringSubmatch(teach)
	if csrf == nil {
		return "", nil, errors.New("no CSRF token on /teach")
	}
	class, err := post("/teach/classes", url.Values{"csrf": {csrf[1]}, "name": {"7 Storm"}, "grade": {"7"}})
	if err != nil {
		return "", nil, err
	}
	id := extract(class, `action="/teach/classes/([^/"]+)/settings"`)
	classURL := "/teach/classes/" + id
	code := codeRE.FindStringSubmatch(class)
	if code == nil || id == "" {
		return "", nil, errors.New("the class page has no class code")
	}
	if _, err := post(classURL+"/settings", url.Values{"csrf": {csrf[1]}, "sign_in": {"pin"}, "mastery": {"last:4/5"}}); err != nil {
		return "", nil, err
	}
	var csv strings.Builder
	csv.WriteString("name,gender,birth_year,pin\n")
	for i := range classSize {
		fmt.Fprintf(&csv, "Student %d,unspecified,2013,%04d\n", i, 1000+i)
	}
	if _, err := post(classURL+"/roster", url.Values{"csrf": {csrf[1]}, "csv": {csv.String()}}); err != nil {
		return "", nil, fmt.Errorf("import the roster: %w", err)
	}
	names, err := page(http.Get(base + "/student/" + code[1]))
	if err != nil {
		return "", nil, err
	}
	var out []student
	for _, m := range studentRE.FindAllStringSubmatch(names, -1) {
		n, _ := strconv.Atoi(m[2])
		out = append(out, student{id: m[1], pin: fmt.Sprintf("%04d", 1000+n)})
	}
	if len(out) != classSize {
		return "", nil, fmt.Errorf("the class shows %d students, want %d", len(out), classSize)
	}
	return code[1], out, nil
}

func extract(s, re string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// signIn posts one sign-in from a device of its own (its own connection)
// and returns the status.
func signIn(base, code, id, pin string) (int, error) {
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(base+"/student/"+code, url.Values{"student": {id}, "pin": {pin}})
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// storm signs the students in at once, each with their right PIN, and
// returns each sign-in's latency and how many failed.
func storm(base, code string, students []student) ([]time.Duration, int) {
	lat := make([]time.Duration, len(students))
	var failed sync.Map
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, st := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			status, err := signIn(base, code, st.id, st.pin)
			lat[i] = time.Since(t0)
			if err != nil || status != http.StatusSeeOther {
				failed.Store(i, fmt.Sprintf("status %d, %v", status, err))
			}
		}()
	}
	close(start)
	wg.Wait()
	n := 0
	failed.Range(func(k, v any) bool {
		if n < 3 {
			fmt.Printf("  student %v: %v\n", k, v)
		}
		n++
		return true
	})
	return lat, n
}

// wrongBurst sends 100 wrong PINs for one student at once and counts those
// the box checked (401) rather than refused unchecked (429).
func wrongBurst(base, code, id string) (int, error) {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := signIn(base, code, id, "0000")
			mu.Lock()
			counts[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[401]+counts[429] != 100 {
		return counts[401], fmt.Errorf("100 wrong PINs: answers %v, want only 401 and 429", counts)
	}
	return counts[401], nil
}

func pct(xs []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Millisecond)
}
