package contenttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// AddApp adds to the pack source in dir (a copy: see CopyTree) the app id
// as one file, apps/ID.html holding page, and lists it in pack.yaml for
// lesson (none if ""). When lesson is given, every language of it embeds
// the app ("::app ID") at its end.
func AddApp(tb testing.TB, dir, id string, page []byte, lesson string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "apps"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apps", id+".html"), page, 0o644); err != nil {
		tb.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(dir, "pack.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Contains(yaml, []byte("\napps:\n")) {
		yaml = append(yaml, "\napps:\n"...)
	}
	entry := fmt.Sprintf("  - id: %s\n    title: {en: App %s, ru: Приложение %s}\n", id, id, id)
	if lesson != "" {
		entry += "    lesson: " + lesson + "\n"
	}
	yaml = append(yaml, entry...)
	if err := os.WriteFile(filepath.Join(dir, "pack.yaml"), yaml, 0o644); err != nil {
		tb.Fatal(err)
	}
	if lesson == "" {
		return
	}
	mds, _ := filepath.Glob(filepath.Join(dir, "lessons", lesson+".*.md"))
	for _, md := range mds {
		src, err := os.ReadFile(md)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(md, append(src, "\n\n::app "+id+"\n"...), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BigApp is a single-file app of about size bytes, as PhET publishes its
// simulations: a page whose script carries a large inline blob of data
// (which does not compress to nothing, as real sims' images do not).
func BigApp(size int) []byte {
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><meta charset=utf-8><title>Big sim</title></head><body><canvas id=c></canvas><script>var DATA=\"")
	x := uint32(2463534242)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for b.Len() < size-200 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte(alphabet[x%64])
	}
	b.WriteString("\";document.title=\"Big sim \"+DATA.length;</script></body></html>\n")
	return b.Bytes()
}

// BigAppSource copies the mini pack's source into a temporary folder and
// adds to it the app "big", a single-file app of about size bytes
// embedded in the lesson "speed". It returns the folder and the app's page.
func BigAppSource(tb testing.TB, size int) (dir string, page []byte) {
	tb.Helper()
	dir = filepath.Join(tb.TempDir(), "mini")
	CopyTree(tb, MiniDir(), dir)
	page = BigApp(size)
	AddApp(tb, dir, "big", page, "speed")
	return dir, page
}
