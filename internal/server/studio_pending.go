package server

// Stand-ins for what h-core's studio_publish.go and studio.FromGIFT
// provide; this file goes when they are merged.

import (
	"context"
	"html/template"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/studio"
)

func (s *Server) publishDraft(ctx context.Context, d studio.Draft, by string) (studio.Version, error) {
	if err := studio.Validate(d.Doc, d.Kind); err != nil {
		return studio.Version{}, err
	}
	return studio.Version{}, failure.Errorf(failure.Unavailable, "publishing is not built yet")
}

func (s *Server) remixSet(ctx context.Context, pack, set, owner string) (studio.Draft, error) {
	return studio.Draft{}, failure.Errorf(failure.Unavailable, "remix is not built yet")
}

func (s *Server) remixLesson(ctx context.Context, pack, lesson, owner string) (studio.Draft, error) {
	return studio.Draft{}, failure.Errorf(failure.Unavailable, "remix is not built yet")
}

func (s *Server) studioPackID(d studio.Draft) string { return "t0000000000000000-" + d.ID }

func (s *Server) studioMarkdown(lang, text string) template.HTML {
	return template.HTML("<p>" + template.HTMLEscapeString(text) + "</p>")
}
