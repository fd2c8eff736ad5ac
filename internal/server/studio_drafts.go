package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/studio"
)

// The studio's rules of who may do what with a draft, for the handlers
// (docs/studio.md, "Who can do what"): a teacher sees and edits her own
// drafts; an admin sees everyone's but edits none; anyone signed in may
// copy a draft she sees, or one that was published (it is shared then, as
// its pack is).

// studioDraft returns the draft id for v: failure.NotFound unless v may
// see it, and failure.Unauthorized when edit is asked and v is not its
// owner.
func (s *Server) studioDraft(ctx context.Context, v *viewer, id string, edit bool) (studio.Draft, error) {
	if !v.isUser() {
		return studio.Draft{}, failure.Errorf(failure.Unauthorized, "sign in as a teacher")
	}
	d, err := s.db.Draft(ctx, id)
	if err != nil {
		return studio.Draft{}, err
	}
	mine := d.Owner == v.User.ID
	if !mine && !v.isAdmin() {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "no draft %q", id)
	}
	if edit && !mine {
		return studio.Draft{}, failure.Errorf(failure.Unauthorized, "only the teacher who wrote it may change it; copy it to edit it")
	}
	return d, nil
}

// studioDrafts lists the drafts v may see: her own, or everyone's for an
// admin.
func (s *Server) studioDrafts(ctx context.Context, v *viewer) ([]studio.Draft, error) {
	if !v.isUser() {
		return nil, failure.Errorf(failure.Unauthorized, "sign in as a teacher")
	}
	if v.isAdmin() {
		return s.db.Drafts(ctx, "")
	}
	return s.db.Drafts(ctx, v.User.ID)
}

// copyDraft copies a draft into a new one owned by v: a draft v sees, or
// any published one.
func (s *Server) copyDraft(ctx context.Context, v *viewer, id string) (studio.Draft, error) {
	if !v.isUser() {
		return studio.Draft{}, failure.Errorf(failure.Unauthorized, "sign in as a teacher")
	}
	d, err := s.db.Draft(ctx, id)
	if err != nil {
		return studio.Draft{}, err
	}
	if d.Owner != v.User.ID && !v.isAdmin() && len(d.Versions) == 0 {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "no draft %q", id)
	}
	doc := d.Doc
	if s.cfg.Studio.Signer != nil && len(d.Versions) > 0 {
		ref := studio.PackSet
		if d.Kind == studio.KindLesson {
			ref = studio.PackLesson
		}
		doc.RemixOf = s.studioPackID(d.ID) + "/" + d.Kind + "/" + ref
	}
	return s.db.CreateDraft(ctx, v.User.ID, d.Kind, doc)
}

// remixSet copies an exercise set of an installed pack into a new draft
// owned by owner (a user id): its texts as their Markdown source (kept by
// the builder; a pack built before that gives its texts as plain text with
// the formulas' TeX), in the languages of the studio the set has, and its
// PNG and JPEG pictures.
func (s *Server) remixSet(ctx context.Context, pack, set, owner string) (studio.Draft, error) {
	p, ok := s.lib.Pack(pack)
	if !ok {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "no pack %q", pack)
	}
	st, ok := p.Sets[set]
	if !ok {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "pack %s has no exercise set %q", pack, set)
	}
	m := &p.Manifest
	langs := m.Languages
	for _, si := range m.Sets {
		if si.ID == set && len(si.Languages) > 0 {
			langs = si.Languages
		}
	}
	langs = studioLangs(langs)
	if len(langs) == 0 {
		return studio.Draft{}, failure.Errorf(failure.Invalid, "the set is in none of the studio's languages (en, ru, tg)")
	}
	items := make([]learn.Item, len(st.Items))
	copy(items, st.Items)
	for i := range items {
		if items[i].Source == nil {
			items[i].Source = plainSource(&items[i])
		}
	}
	doc := studio.Doc{Title: studioText(st.Title, langs), Subject: m.Subject, Grades: slices.Clone(m.Grades), Languages: langs,
		Items: studio.FromItems(items, langs), RemixOf: pack + "/set/" + set}
	if err := s.remixMedia(ctx, p.Dir, m.Files, owner, &doc); err != nil {
		return studio.Draft{}, err
	}
	return s.db.CreateDraft(ctx, owner, studio.KindSet, doc)
}

// remixLesson copies a lesson of an installed pack into a new draft owned
// by owner: its Markdown source in each of the studio's languages the pack
// has, its title apart, and its PNG and JPEG pictures. Embedded apps
// (::app lines) are left out: a teacher's pack has none. A pack built
// before lessons kept their source cannot be copied (failure.Invalid).
func (s *Server) remixLesson(ctx context.Context, pack, lesson, owner string) (studio.Draft, error) {
	p, ok := s.lib.Pack(pack)
	if !ok {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "no pack %q", pack)
	}
	m := &p.Manifest
	l, _, ok := m.Lesson(lesson)
	if !ok {
		return studio.Draft{}, failure.Errorf(failure.NotFound, "pack %s has no lesson %q", pack, lesson)
	}
	doc := studio.Doc{Title: studio.Text{}, Body: studio.Text{}, Subject: m.Subject, Grades: slices.Clone(m.Grades), RemixOf: pack + "/lesson/" + lesson}
	for _, lang := range studioLangs(m.Languages) {
		name, _, ok := p.FilePath(content.LessonSourcePath(lesson, lang))
		if !ok {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return studio.Draft{}, fmt.Errorf("studio: remix: %w", err)
		}
		title, body := splitLesson(string(src))
		if title == "" {
			title = l.Title[lang]
		}
		doc.Languages = append(doc.Languages, lang)
		doc.Title[lang], doc.Body[lang] = title, body
	}
	if len(doc.Languages) == 0 {
		return studio.Draft{}, failure.Errorf(failure.Invalid, "this pack was built before lessons kept their source, or has none of the studio's languages: its lesson cannot be copied")
	}
	if err := s.remixMedia(ctx, p.Dir, m.Files, owner, &doc); err != nil {
		return studio.Draft{}, err
	}
	return s.db.CreateDraft(ctx, owner, studio.KindLesson, doc)
}

// importGIFT makes a new draft owned by owner from a GIFT file named name,
// written in lang. Its errors are those of studio.FromGIFT.
func (s *Server) importGIFT(ctx context.Context, owner, name string, src []byte, lang string) (studio.Draft, error) {
	doc, err := studio.FromGIFT(name, src, lang)
	if err != nil {
		return studio.Draft{}, err
	}
	return s.db.CreateDraft(ctx, owner, studio.KindSet, doc)
}

// studioLangs are the languages of langs a teacher may write in.
func studioLangs(langs []string) []string {
	var out []string
	for _, l := range langs {
		if slices.Contains(studio.Limits.Languages, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func studioText(t learn.Text, langs []string) studio.Text {
	out := studio.Text{}
	for _, l := range langs {
		if s, ok := t[l]; ok {
			out[l] = s
		}
	}
	return out
}

// plainSource is an item's texts as plain text (with TeX for formulas),
// for an item built before the builder kept the source.
func plainSource(it *learn.Item) *learn.Source {
	plain := func(t learn.Text) learn.Text {
		if t == nil {
			return nil
		}
		out := learn.Text{}
		for l, h := range t {
			out[l] = gradebook.PlainText(h)
		}
		return out
	}
	src := &learn.Source{Prompt: plain(it.Prompt), Feedback: learn.Feedback{
		Correct: plain(it.Feedback.Correct), Incorrect: plain(it.Feedback.Incorrect), General: plain(it.Feedback.General)}}
	for _, c := range it.Choices {
		src.Choices = append(src.Choices, learn.OptionSource{Text: plain(c.Text), Feedback: plain(c.Feedback)})
	}
	return src
}

// splitLesson parts a lesson's Markdown into its first heading's text and
// the rest, without the lines that embed apps.
func splitLesson(src string) (title, body string) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var keep []string
	for _, line := range lines {
		switch {
		case title == "" && strings.HasPrefix(line, "# "):
			title = strings.TrimSpace(strings.TrimPrefix(line, "# "))
		case strings.HasPrefix(strings.TrimSpace(line), "::app "):
		default:
			keep = append(keep, line)
		}
	}
	return title, strings.TrimSpace(strings.Join(keep, "\n")) + "\n"
}

// packMediaRef finds the pictures a pack's Markdown shows.
var packMediaRef = regexp.MustCompile(`\(\s*(?:\./)?(media/[^)\s]+\.(?:png|jpe?g|PNG|JPE?G))`)

// remixMedia copies the PNG and JPEG pictures the texts of doc show from
// the pack in dir into the studio's pictures, and points the texts at the
// copies. Other pictures (SVG) stay as they are: publishing then says the
// picture is missing, for the teacher to replace it.
func (s *Server) remixMedia(ctx context.Context, dir string, files []content.File, owner string, doc *studio.Doc) error {
	renamed := map[string]string{}
	var err error
	rename := func(text string) string {
		return packMediaRef.ReplaceAllStringFunc(text, func(ref string) string {
			i := strings.Index(ref, "media/")
			old := ref[i:]
			if n, ok := renamed[old]; ok {
				return ref[:i] + n
			}
			if !slices.ContainsFunc(files, func(f content.File) bool { return f.Path == old }) {
				return ref
			}
			data, rerr := os.ReadFile(path.Join(dir, old))
			if rerr != nil {
				err = fmt.Errorf("studio: remix: %w", rerr)
				return ref
			}
			sum := sha256.Sum256(data)
			ext, ctype := ".png", "image/png"
			if !strings.HasSuffix(strings.ToLower(old), ".png") {
				ext, ctype = ".jpg", "image/jpeg"
			}
			n := "media/" + hex.EncodeToString(sum[:]) + ext
			if perr := s.db.PutMedia(ctx, owner, path.Base(n), ctype, data); perr != nil {
				err = perr
				return ref
			}
			renamed[old] = n
			return ref[:i] + n
		})
	}
	eachText(doc, func(t studio.Text) {
		for l, v := range t {
			t[l] = rename(v)
		}
	})
	return err
}

// eachText calls f with every text of doc.
func eachText(doc *studio.Doc, f func(studio.Text)) {
	f(doc.Body)
	for i := range doc.Items {
		it := &doc.Items[i]
		f(it.Prompt)
		f(it.Feedback.Correct)
		f(it.Feedback.Incorrect)
		f(it.Feedback.General)
		for j := range it.Choices {
			f(it.Choices[j].Text)
			f(it.Choices[j].Feedback)
		}
	}
}
