package server

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/store"
)

// Old results stay readable: an answer names the pack's version it was
// given on, and when the library serves another version, its question is
// read from the archive of that version the studio kept
// (DATA/studio/packs/ID-VERSION.stempack, studio_publish.go).

// keptSets caches the sets read from kept archives: a page of answers
// asks for the same few again and again.
type keptSets struct {
	mu   sync.Mutex
	sets map[string]keptSet // by pack, version and set
}

type keptSet struct {
	m   *content.Manifest
	set *learn.Set // nil: the archive or the set is not there
}

// maxKeptSets bounds the cache; past it, it starts again.
const maxKeptSets = 64

// setAt returns the set of pack in the version an answer was given on:
// the installed one when it is that version (or the version is unknown),
// else the kept archive of that version, else the installed one (a pack
// updated from elsewhere: its question may have changed).
func (s *Server) setAt(pack, version, set string) (*content.Manifest, *learn.Set, bool) {
	p, installed := s.lib.Pack(pack)
	if installed && (version == "" || p.Manifest.Version == version) {
		st, ok := p.Sets[set]
		return &p.Manifest, st, ok
	}
	if version != "" && s.cfg.Studio.Dir != "" {
		if k := s.keptSet(pack, version, set); k.set != nil {
			return k.m, k.set, true
		}
	}
	if !installed {
		return nil, nil, false
	}
	st, ok := p.Sets[set]
	return &p.Manifest, st, ok
}

func (s *Server) keptSet(pack, version, set string) keptSet {
	key := pack + "\x00" + version + "\x00" + set
	s.kept.mu.Lock()
	k, ok := s.kept.sets[key]
	s.kept.mu.Unlock()
	if ok {
		return k
	}
	m, st, err := s.readKeptSet(StudioArchive(s.cfg.Studio.Dir, pack, version), set)
	switch {
	case err == nil:
		k = keptSet{m: m, set: st}
	case !os.IsNotExist(err):
		s.log.Warn("kept pack archive not read", "pack", pack, "version", version, "err", err)
	}
	s.kept.mu.Lock()
	if s.kept.sets == nil || len(s.kept.sets) >= maxKeptSets {
		s.kept.sets = map[string]keptSet{}
	}
	s.kept.sets[key] = k
	s.kept.mu.Unlock()
	return k
}

// readKeptSet reads a set from a kept archive, checked as an install checks
// it (signature by a trusted key, file hashes).
func (s *Server) readKeptSet(name, set string) (*content.Manifest, *learn.Set, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	a, err := content.OpenArchive(f, st.Size(), s.lib.Keys(), content.DefaultLimits)
	if err != nil {
		return nil, nil, err
	}
	rc, err := a.Open(content.SetPath(set))
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var ls learn.Set
	if err := json.Unmarshal(b, &ls); err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %w", name, content.SetPath(set), err)
	}
	return &a.Manifest, &ls, nil
}

// questionOf finds the question of an answer as it was asked: in the
// version of the pack it was given on (setAt).
func (s *Server) questionOf(lang string, a store.Attempt) (gradebook.Question, bool) {
	m, st, ok := s.setAt(a.Pack, a.Version, a.Set)
	if !ok {
		return gradebook.Question{}, false
	}
	return gradebook.QuestionIn(m, st, lang, a.Item)
}
