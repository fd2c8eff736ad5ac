package box_test

import (
	"regexp"
	"testing"
)

// The sample packs in content-packs/ build, meet the programme's minimum
// (4 lessons and 15 exercises each, English and Russian, Tajik in at least
// one, marked as a draft), and every lesson page is under 100 KB before media.
func TestSamplePacks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every sample pack")
	}
	b, logs := mustRunBox(t, t.TempDir(), "../../content-packs")
	packs := b.Library().Packs()
	if len(packs) < 3 {
		t.Fatalf("%d sample packs installed, want at least 3; log:\n%s", len(packs), logs.String())
	}
	tajik := false
	for _, p := range packs {
		m := p.Manifest
		items := 0
		for _, s := range m.Sets {
			items += s.Items
		}
		if len(m.Lessons) < 4 || items < 15 {
			t.Errorf("%s: %d lessons, %d exercises; want at least 4 and 15", m.ID, len(m.Lessons), items)
		}
		langs := map[string]bool{}
		for _, l := range m.Languages {
			langs[l] = true
		}
		if !langs["en"] || !langs["ru"] {
			t.Errorf("%s: languages %v, want English and Russian", m.ID, m.Languages)
		}
		if langs["tg"] {
			tajik = true
			draft := false
			for _, l := range m.DraftLanguages {
				draft = draft || l == "tg"
			}
			if !draft {
				t.Errorf("%s: Tajik is not marked as a draft translation", m.ID)
			}
		}
		for _, l := range m.Lessons {
			for _, lang := range m.Languages {
				status, body := getLang(t, b, "/packs/"+m.ID+"/lessons/"+l.ID, lang)
				if status != 200 {
					t.Errorf("%s/%s in %s: status %d", m.ID, l.ID, lang, status)
				}
				if len(body) > 100<<10 {
					t.Errorf("%s/%s in %s: page is %d bytes, over 100 KB", m.ID, l.ID, lang, len(body))
				}
				if !regexp.MustCompile(`<html lang="` + lang + `"`).MatchString(body) {
					t.Errorf("%s/%s: page not in %s", m.ID, l.ID, lang)
				}
			}
		}
	}
	if !tajik {
		t.Error("no sample pack has Tajik")
	}
}
