package box_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/school"
)

// TestBrowserStudioOnAPhone is the teacher studio end to end, in a real
// Chromium on a 360×640 phone: a teacher writes a 5-item set with a
// formula and a photo from the phone (autosaved as she types), sees the
// preview, publishes it, assigns it to her class; two students answer it
// on their phones; she runs it as a live quiz; she edits it and publishes
// 2.0.0, and the students' old answers still show the question they were
// asked. The editor's screenshot is docs/screenshots/studio-editor-phone.png
// when STEMBOX_SCREENSHOTS is set.
func TestBrowserStudioOnAPhone(t *testing.T) {
	browsertest.Need(t)
	data, packs := t.TempDir(), t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, _ := mustRunBox(t, data, packs)
	base := "http://" + b.Addr().String()
	ctx, db := context.Background(), b.DB()
	const pw = "studio-pw-1234"
	teacherUser, err := db.CreateUser(ctx, "", school.RoleTeacher, "nazira", "Nazira", auth.Hash(pw))
	if err != nil {
		t.Fatal(err)
	}
	class, _ := db.CreateClass(ctx, "", "7A", 7, teacherUser.ID)
	kids, err := db.AddStudents(ctx, "", class.ID, []school.NewStudent{{Name: "Zarina"}, {Name: "Farrukh"}})
	if err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "IMG_2041.jpg")
	if err := os.WriteFile(photo, jpegBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}

	shots := &shooter{browsertest.NewShots(t, "studio", "phone-")}
	br := startBrowser(t, 300*time.Second)
	phone := chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	teacher := br.tab(t, "teacher", phone)
	teacher.open(base+"/lang/en?next=/login", "/login")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "nazira"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
	)
	teacher.submit(`form[action="/login"] button[type=submit]`, "/teach")
	teacher.tapTo(`main a[href="/teach/studio"]`, "/teach/studio")
	shots.take(teacher, "studio")
	teacher.noSideScroll("studio page")
	teacher.tapTo(`form[action="/teach/studio/new"]:first-of-type button`, "/teach/studio/")
	editor := teacher.path()
	id := strings.TrimPrefix(editor, "/teach/studio/")
	teacher.waitText(`#save-state`, "Saved")

	// She writes five questions, the kinds the box grades.
	teacher.typeIn(`input[name=title]`, "Squares")
	teacher.typeIn(`input[name=subject]`, "mathematics")
	teacher.typeIn(`input[name=grades]`, "7")
	teacher.typeIn(`textarea[name="items.0.prompt"]`, `Solve $x^2 = 9$ for $x > 0$.`)
	teacher.typeIn(`input[name="items.0.c.0.text"]`, "3")
	teacher.typeIn(`input[name="items.0.c.1.text"]`, "9")
	teacher.typeIn(`input[name="items.0.c.2.text"]`, "-3")
	teacher.tap(`input[name="items.0.c.0.correct"]`)
	teacher.addItem("truefalse")
	teacher.typeIn(`textarea[name="items.1.prompt"]`, `$2^3 = 8$`)
	teacher.addItem("numeric")
	teacher.typeIn(`textarea[name="items.2.prompt"]`, "A square has sides of 4 cm. What is its area?")
	teacher.typeIn(`input[name="items.2.answer"]`, "16")
	teacher.typeIn(`input[name="items.2.unit"]`, "cm²")
	teacher.addItem("text")
	teacher.typeIn(`textarea[name="items.3.prompt"]`, `What is $x^2$ called?`)
	teacher.typeIn(`textarea[name="items.3.accepted"]`, "square\nx squared")
	teacher.addItem("multi")
	teacher.typeIn(`textarea[name="items.4.prompt"]`, "Which are squares of whole numbers?")
	teacher.typeIn(`input[name="items.4.c.0.text"]`, "4")
	teacher.typeIn(`input[name="items.4.c.1.text"]`, "9")
	teacher.typeIn(`input[name="items.4.c.2.text"]`, "10")
	teacher.tap(`input[name="items.4.c.0.correct"]`)
	teacher.tap(`input[name="items.4.c.1.correct"]`)

	// A photo from the phone for question 3, with what it shows.
	teacher.tap(`#item-2 details.pic summary`)
	teacher.do(chromedp.SetUploadFiles(chromedp.CSS(`#item-2 input[type=file]`), []string{photo}))
	teacher.typeIn(`input[name="items.2.alt"]`, "A square with sides of 4 cm")
	teacher.tap(`#item-2 button[name=target]`)
	teacher.waitJS(`document.querySelector('textarea[name="items.2.prompt"]').value.indexOf("![A square with sides of 4 cm](media/") >= 0`)
	teacher.waitJS(`document.getElementById("save-state").className === "save-state saved"`)
	// The box's live preview under each text: the formula by KaTeX, the photo.
	teacher.waitJS(`!!document.querySelector("#pv-0 .katex")`)
	teacher.waitJS(`(function(){var i = document.querySelector("#pv-2 img"); return i && i.complete && i.naturalWidth > 0})()`)

	d, err := db.Draft(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Doc.Items) != 5 || d.Doc.Title["en"] != "Squares" || !strings.Contains(d.Doc.Items[2].Prompt["en"], "](media/") ||
		d.Doc.Items[2].Answer != 16 || !d.Doc.Items[0].Choices[0].Correct || len(d.Doc.Items[3].Accepted["en"]) != 2 {
		t.Fatalf("the box holds %+v, want the five questions she typed", d.Doc)
	}
	teacher.noSideScroll("editor")
	teacher.smallTargets("editor")
	shots.take(teacher, "editor")
	teacher.waitJS(`(window.scrollTo(0, document.getElementById("item-0").getBoundingClientRect().top + window.scrollY - 72), true)`)
	saveDocShot(t, teacher, "studio-editor-phone.png")

	// A reload loses nothing.
	teacher.open(base+editor, editor)
	if got := teacher.value(`textarea[name="items.3.accepted"]`); got != "square\nx squared" {
		t.Errorf("after a reload the accepted answers read %q", got)
	}

	// The preview, as students will see it.
	teacher.tap(`button[value=preview]`)
	teacher.waitJS(`location.pathname.indexOf("/teach/studio/preview/") === 0`)
	teacher.waitText(`main`, "A square has sides of 4 cm")
	if n := len(teacher.all(`.studio-preview img`)); n != 1 {
		t.Errorf("the preview shows %d pictures, want the photo", n)
	}
	shots.take(teacher, "preview")
	teacher.noSideScroll("preview")

	// Publish, then assign it to 7A from the studio.
	teacher.open(base+editor, editor)
	teacher.tap(`button[data-act=publish]`)
	teacher.waitText(`p.notice`, "version 1.0.0")
	shots.take(teacher, "published")
	teacher.tapTo(`.assign button`, "/teach/classes/"+class.ID)
	if got := teacher.all(`#assignments + ul.work li a`); len(got) == 0 || !strings.Contains(strings.Join(got, " "), "Squares") {
		t.Errorf("the class's assignments are %q, want Squares", got)
	}
	d, _ = db.Draft(ctx, id)
	pack := regexp.MustCompile(`^t[0-9a-f]+-` + id + `$`)
	var packID string
	for _, p := range b.Library().Packs() {
		if pack.MatchString(p.Manifest.ID) {
			packID = p.Manifest.ID
		}
	}
	if packID == "" {
		t.Fatal("the published pack is not installed")
	}

	// Two students answer it on their phones.
	for i, kid := range kids {
		st := br.tab(t, kid.Name, phone)
		st.open(base+"/student/"+class.Code, "/student/")
		st.tapTo(fmt.Sprintf(`form:has(input[value=%q]) button.tile`, kid.ID), "/")
		set := "/packs/" + packID + "/sets/set/"
		st.open(base+set+"1", set+"1")
		st.tap(fmt.Sprintf(`input[name=choice][value="%d"]`, i)) // Zarina right, Farrukh wrong
		st.tapTo(`form.exercise button[type=submit]`, set+"1")
		st.open(base+set+"2", set+"2")
		st.tap(`input[name=text][value=true]`)
		st.tapTo(`form.exercise button[type=submit]`, set+"2")
		st.open(base+set+"3", set+"3")
		st.waitJS(`(function(){var i = document.querySelector("form.exercise img"); return i && i.complete && i.naturalWidth > 0})()`) // her photo
		st.typeIn(`input[name=text]`, "16")
		st.tapTo(`form.exercise button[type=submit]`, set+"3")
		if i == 0 {
			shots.take(st, "student-numeric")
			st.noSideScroll("exercise with a photo")
		}
		st.open(base+set+"4", set+"4")
		st.typeIn(`input[name=text]`, "square")
		st.tapTo(`form.exercise button[type=submit]`, set+"4")
		st.open(base+set+"5", set+"5")
		st.tap(`input[name=choice][value="0"]`)
		st.tap(`input[name=choice][value="1"]`)
		st.tapTo(`form.exercise button[type=submit]`, set+"5")
	}

	// She runs it as a live quiz: the set is chosen already.
	teacher.open(base+editor, editor)
	teacher.tapTo(`.use-links a[href^="/live/new"]`, "/live/new")
	if got := teacher.value(`select[name=set]`); got != packID+"/set" {
		t.Errorf("/live/new has %q chosen, want %s/set", got, packID)
	}
	teacher.tapTo(`#live-new button[type=submit]`, "/live/")
	teacher.waitJS(`document.body.innerText.indexOf("Squares") >= 0`)
	shots.take(teacher, "live")

	// She edits the first question and publishes 2.0.0.
	teacher.open(base+editor, editor)
	teacher.waitJS(`(document.querySelector('textarea[name="items.0.prompt"]').value = "", true)`)
	teacher.typeIn(`textarea[name="items.0.prompt"]`, `Solve $x^2 = 16$ for $x > 0$.`)
	teacher.waitJS(`(document.querySelector('input[name="items.0.c.0.text"]').value = "", true)`)
	teacher.typeIn(`input[name="items.0.c.0.text"]`, "4")
	teacher.waitJS(`document.getElementById("save-state").className === "save-state saved"`)
	teacher.tap(`button[data-act=publish]`)
	teacher.waitText(`p.notice`, "version 2.0.0")
	if p, _ := b.Library().Pack(packID); p == nil || p.Manifest.Version != "2.0.0" {
		t.Fatalf("after the second publish the installed pack is %+v, want 2.0.0", p)
	}

	// The old answers still show the question as it was asked.
	teacher.open(base+"/teach/classes/"+class.ID+"/students/"+kids[0].ID, "/teach/classes/")
	body := teacher.bodyText()
	if !strings.Contains(body, "Solve") || !strings.Contains(body, "=9 for") || strings.Contains(body, "=16") || !strings.Contains(body, "5 of 5 answers correct") {
		t.Errorf("Zarina's answers read:\n%s\nwant the question of 1.0.0 (x² = 9)", body)
	}
	shots.take(teacher, "old-answers")

	// In Tajik, the longest words: still no sideways scroll, still thumb-sized.
	teacher.open(base+"/lang/tg?next="+editor, editor)
	teacher.noSideScroll("editor in Tajik")
	teacher.smallTargets("editor in Tajik")
	shots.take(teacher, "editor-tg")
}

// typeIn types text into a field, as a thumb would, after tapping it.
func (tb *tab) typeIn(sel, text string) {
	tb.t.Helper()
	tb.do(chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// tap taps an element.
func (tb *tab) tap(sel string) {
	tb.t.Helper()
	tb.do(chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Tap(chromedp.CSS(sel)))
}

// addItem adds a question of kind typ with the editor's own button.
func (tb *tab) addItem(typ string) {
	tb.t.Helper()
	n := len(tb.all(`#items .item`))
	tb.do(chromedp.SetValue(chromedp.CSS(`select[name=newtype]`), typ))
	tb.tap(`button[name=op][value=add]`)
	tb.waitJS(fmt.Sprintf(`document.querySelectorAll("#items .item").length === %d`, n+1))
}

// smallTargets fails the test for a visible control smaller than 44 px
// each way, a thumb's tap target.
func (tb *tab) smallTargets(page string) {
	tb.t.Helper()
	small, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
		"main button, main input:not([type=hidden]), main select, main textarea, main summary, main a.button, main .tab"))
		.filter(e => { var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden" })
		.map(e => { var t = e.closest("label.mark, label.check") || e, r = t.getBoundingClientRect();
			return [e.tagName.toLowerCase() + (e.name ? "[" + e.name + "]" : "") + (e.type ? ":" + e.type : ""), Math.round(r.width), Math.round(r.height)] })
		.filter(x => x[1] < 44 || x[2] < 44).map(x => x.join(" ")).slice(0, 12)`))
	if err != nil {
		tb.fatalf("measure tap targets: %v", err)
	}
	if len(small) > 0 {
		tb.t.Errorf("%s: the %s has tap targets under 44 px: %v", tb.name, page, small)
	}
}

// jpegBytes is a photo as a phone's camera makes it, small.
func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			c := color.RGBA{230, 226, 210, 255}
			if x > 170 && x < 470 && y > 90 && y < 390 && (x < 180 || x > 460 || y < 100 || y > 380) {
				c = color.RGBA{20, 60, 160, 255} // the square's sides
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// saveDocShot saves what the phone shows now as docs/screenshots/name, at
// most 150 KB (a palette of the screen's own colours), when
// STEMBOX_SCREENSHOTS is set.
func saveDocShot(t *testing.T, tb *tab, name string) {
	t.Helper()
	if os.Getenv("STEMBOX_SCREENSHOTS") == "" {
		return
	}
	shot, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[color.RGBA]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	type cc struct {
		c color.RGBA
		n int
	}
	var all []cc
	for c, n := range counts {
		all = append(all, cc{c, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	var pal color.Palette
	for i := 0; i < len(all) && i < 256; i++ {
		pal = append(pal, all[i].c)
	}
	out := image.NewPaletted(bounds, pal)
	draw.Draw(out, bounds, img, bounds.Min, draw.Src)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 150<<10 {
		t.Errorf("the screenshot %s is %d KB, want at most 150", name, buf.Len()>>10)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
