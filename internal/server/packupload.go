package server

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
)

// An admin installs a .stempack from the browser (docs/install.md,
// "Installing a pack from a file"): the file streams to the library's
// staging folder, then content.Library.Install checks and installs it,
// exactly as `stembox pack install` does.

// uploadTimeout is how long an admin's upload may take to arrive: a pack
// of a few hundred MB over a school's Wi-Fi.
const uploadTimeout = 30 * time.Minute

func (s *Server) packInstallRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/packs", s.requireUser(true, func(w http.ResponseWriter, r *http.Request, v *viewer) {
		s.packsPage(w, r, http.StatusOK, "", "")
	}))
	mux.HandleFunc("POST /admin/packs", s.handleUploadPack)
}

type installedPack struct{ ID, Title, Version string }

// packsPage shows the installed packs and the upload form, with an error
// or a notice.
func (s *Server) packsPage(w http.ResponseWriter, r *http.Request, status int, msg, notice string) {
	lang := s.lang(r)
	var packs []installedPack
	for _, p := range s.lib.Packs() {
		m := &p.Manifest
		packs = append(packs, installedPack{ID: m.ID, Version: m.Version, Title: m.Title.In(contentLang(lang, m.Languages), m.Languages[0])})
	}
	var problems []string
	for id, p := range s.lib.Problems() {
		problems = append(problems, fmt.Sprintf("%s: %v", id, p))
	}
	sort.Strings(problems)
	s.render(w, r, status, "admin-packs", i18n.T(lang, "packs.title"), false, struct {
		Packs         []installedPack
		Problems      []string
		Error, Notice string
	}{packs, problems, msg, notice})
}

// handleUploadPack answers POST /admin/packs: a multipart form whose csrf
// field comes before its file field, as the page's form sends them. The
// file is never held in memory: it is copied to a temporary file in the
// library's staging folder, at most the library's Limits.MaxArchive bytes.
func (s *Server) handleUploadPack(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	lang := s.lang(r)
	switch {
	case !v.isUser():
		s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(lang, "error.sign_in")))
		return
	case !v.isAdmin():
		s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(lang, "error.admins_only")))
		return
	}
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Warn("extend an upload's deadline", "err", err)
	}
	lim := s.lib.Limits()
	r.Body = http.MaxBytesReader(w, r.Body, lim.MaxArchive+1<<20) // the file, and the form around it
	f, size, err := s.receivePack(r, v, lim.MaxArchive)
	if f != nil {
		defer os.Remove(f.Name())
		defer f.Close()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, errCSRF):
			s.fail(w, r, err)
		case errors.As(err, &mbe), failure.KindOf(err) == failure.TooLarge:
			s.packsPage(w, r, http.StatusRequestEntityTooLarge, i18n.T(lang, "packs.refused.too_big", sizeText(lang, lim.MaxArchive)), "")
		case failure.KindOf(err) == failure.Invalid:
			s.packsPage(w, r, http.StatusBadRequest, failure.Message(err), "")
		default:
			s.log.Warn("pack upload did not arrive", "err", err)
			s.packsPage(w, r, http.StatusBadRequest, i18n.T(lang, "packs.upload_failed"), "")
		}
		return
	}
	res, err := s.lib.Install(f, size, content.InstallOptions{})
	if err != nil {
		s.log.Warn("pack upload refused", "by", v.actor(), "err", err)
		s.packsPage(w, r, refusalStatus(err), s.refusalMessage(lang, err, f, size), "")
		return
	}
	m := &res.Pack.Manifest
	title := m.Title.In(contentLang(lang, m.Languages), m.Languages[0])
	s.log.Info("pack installed from an upload", "pack", m.ID, "version", m.Version, "replaced", res.Replaced, "by", v.actor())
	notice := i18n.T(lang, "packs.installed", title, m.Version)
	switch {
	case res.Unchanged:
		notice = i18n.T(lang, "packs.unchanged", title, m.Version)
	case res.Replaced != "":
		notice = i18n.T(lang, "packs.replaced", title, m.Version, res.Replaced)
	}
	s.packsPage(w, r, http.StatusOK, "", notice)
}

// receivePack reads the upload form: its CSRF token, then its file, into a
// temporary file of the library; it returns the file and its size.
func (s *Server) receivePack(r *http.Request, v *viewer, max int64) (*os.File, int64, error) {
	lang := s.lang(r)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, 0, failure.Wrap(failure.Invalid, err, i18n.T(lang, "error.bad_form"))
	}
	csrf := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, 0, failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "packs.no_file"))
		}
		if err != nil {
			return nil, 0, err
		}
		switch part.FormName() {
		case "csrf":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			csrf = v.CSRF != "" && checkToken(string(b), v.CSRF)
		case "file":
			if !csrf {
				return nil, 0, errCSRF
			}
			if part.FileName() == "" {
				return nil, 0, failure.Errorf(failure.Invalid, "%s", i18n.T(lang, "packs.no_file"))
			}
			return s.savePart(part, max)
		}
		part.Close()
	}
}

// savePart copies an uploaded file into a temporary file of the library.
func (s *Server) savePart(part *multipart.Part, max int64) (*os.File, int64, error) {
	f, err := s.lib.CreateTemp("upload-*" + content.Extension)
	if err != nil {
		return nil, 0, fmt.Errorf("server: pack upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(part, max+1))
	if err == nil && n > max {
		err = failure.Errorf(failure.TooLarge, "pack upload over %d bytes", max)
	}
	if err == nil {
		err = f.Sync() // the install reads it back; a power cut loses only the upload
	}
	return f, n, err
}

// refusalStatus is the status of a refused install.
func refusalStatus(err error) int {
	if content.RefusalOf(err) == content.RefusedTooBig {
		return http.StatusRequestEntityTooLarge
	}
	if st := statusOf(err); st != http.StatusInternalServerError {
		return st
	}
	return http.StatusUnprocessableEntity
}

// refusalMessage says in lang why the pack in f was refused.
func (s *Server) refusalMessage(lang string, err error, f io.ReaderAt, size int64) string {
	why := content.RefusalOf(err)
	switch why {
	case "":
		return i18n.T(lang, "packs.refused.invalid")
	case content.RefusedTooBig:
		return i18n.T(lang, "packs.refused.too_big", sizeText(lang, s.lib.Limits().MaxArchive))
	case content.RefusedOlder, content.RefusedOtherBuild:
		// Its signature verified: its manifest says which version it is.
		a, ierr := content.InspectArchive(f, size, s.lib.Limits())
		if ierr != nil {
			return i18n.T(lang, "packs.refused.older_unknown")
		}
		cur, ok := s.lib.Pack(a.Manifest.ID)
		if why == content.RefusedOtherBuild {
			return i18n.T(lang, "packs.refused.other_build", a.Manifest.Version)
		}
		if !ok {
			return i18n.T(lang, "packs.refused.older_unknown")
		}
		return i18n.T(lang, "packs.refused.older", a.Manifest.Version, cur.Manifest.Version)
	}
	return i18n.T(lang, "packs.refused."+string(why))
}

// sizeText is a size in bytes for people, in lang: 4 GB, 300 MB.
func sizeText(lang string, n int64) string {
	for _, u := range []struct {
		key  string
		size int64
	}{{"packs.size_gb", 1 << 30}, {"packs.size_mb", 1 << 20}, {"packs.size_kb", 1 << 10}} {
		if n >= u.size {
			return i18n.T(lang, u.key, strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/float64(u.size)), ".0"))
		}
	}
	return i18n.T(lang, "packs.size_b", n)
}
