package box_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/store"
)

// mountSmallDisk mounts a tmpfs of the given size for the test, or skips the
// test when that is not possible (it needs root).
func mountSmallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the full-disk test mounts a small tmpfs and needs root (CI runs it as root)")
	}
	dir := filepath.Join(t.TempDir(), "disk")
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: cannot mount a tmpfs here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
}

type apiResult struct {
	status int
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	Error  string `json:"error"`
	Code   string `json:"code"`
}

func postAnswer(t *testing.T, client *http.Client, base, lang, text string) apiResult {
	t.Helper()
	body := fmt.Sprintf(`{"id":%q,"pack":"mini","set":"speed","item":"text-5","text":%q}`, newULID(), text)
	req, _ := http.NewRequest("POST", base+"/api/v1/answers", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", lang)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiResult
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &r)
	r.status = resp.StatusCode
	return r
}

var (
	idMu  sync.Mutex
	idBox *store.DB
)

func newULID() string {
	idMu.Lock()
	defer idMu.Unlock()
	return idBox.NewID()
}

// When the disk fills up, answers are refused with a clear, translated
// message (and the log says why), nothing stored before is lost, and once
// space is freed the box stores answers again without a restart.
func TestFullDisk(t *testing.T) {
	disk := mountSmallDisk(t, "24m")
	data := filepath.Join(disk, "data")
	packs := t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, logs := mustRunBox(t, data, packs)
	idBox = b.DB()
	base := "http://" + b.Addr().String()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}

	var acked []apiResult
	for range 20 {
		r := postAnswer(t, client, base, "en", "velocity")
		if r.status != 200 {
			t.Fatalf("answer before the disk is full: %+v", r)
		}
		acked = append(acked, r)
	}

	fill(t, filepath.Join(disk, "filler"))
	// Existing pages of the database may still take a few answers: write
	// until the disk refuses (big answers fill it sooner).
	big := strings.Repeat("x", 20000)
	var refused apiResult
	for i := 0; i < 5000; i++ {
		r := postAnswer(t, client, base, "en", big)
		if r.status == 200 {
			acked = append(acked, r)
			continue
		}
		refused = r
		break
	}
	if refused.status != http.StatusServiceUnavailable || refused.Code != "unavailable" {
		t.Fatalf("answer on a full disk: %+v, want 503 unavailable", refused)
	}
	if want := i18n.T("en", "error.disk_full"); refused.Error != want {
		t.Errorf("message on a full disk = %q, want %q", refused.Error, want)
	}
	if r := postAnswer(t, client, base, "ru", big); r.status != 503 || r.Error != i18n.T("ru", "error.disk_full") {
		t.Errorf("in Russian: %+v, want 503 with %q", r, i18n.T("ru", "error.disk_full"))
	}
	// The exercise page's form says it too, in the student's language.
	form := strings.NewReader("text=" + big[:2000])
	req, _ := http.NewRequest("POST", base+"/packs/mini/sets/speed/5", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Accept-Language", "ru")
	if resp, err := client.Do(req); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || !strings.Contains(string(body), i18n.T("ru", "error.disk_full")) {
			t.Errorf("exercise form on a full disk: %d, want 503 with %q:\n%.2000s", resp.StatusCode, i18n.T("ru", "error.disk_full"), body)
		}
	}
	if !strings.Contains(logs.String(), "disk is full") {
		t.Errorf("the log does not say the disk is full:\n%.3000s", logs.String())
	}
	if status, body := get(t, b, "/readyz"); status != 503 || !strings.Contains(body, "disk: FAIL") {
		t.Errorf("/readyz on a full disk: %d %q, want 503 naming the disk", status, body)
	}
	if status, _ := get(t, b, "/packs/mini/lessons/speed"); status != 200 {
		t.Errorf("reading a lesson on a full disk: %d, want 200", status)
	}
	for _, a := range acked {
		if ev, err := b.DB().Event(context.Background(), a.ID); err != nil || ev.Seq != a.Seq {
			t.Fatalf("acknowledged answer %s (seq %d) lost on a full disk: %+v, %v", a.ID, a.Seq, ev, err)
		}
	}

	// Space returns: the box stores answers again by itself.
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	var again apiResult
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if again = postAnswer(t, client, base, "en", "velocity"); again.status == 200 {
			break
		}
	}
	if again.status != 200 {
		t.Fatalf("after space returned: %+v, want the answer stored", again)
	}
	if status, body := get(t, b, "/readyz"); status != 200 {
		t.Errorf("/readyz after space returned: %d %q", status, body)
	}
	last, _ := b.DB().LastSeq(context.Background())
	if last != again.Seq || int(last) != len(acked)+1 {
		t.Errorf("last seq %d; want %d acknowledged answers plus one, with no gap", last, len(acked))
	}
}
