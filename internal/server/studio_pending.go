package server

// Stand-ins for what h-core's studio_publish.go and studio.FromGIFT
// provide; this file goes when they are merged.

import (
	"context"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/studio"
)

func (s *Server) remixSet(ctx context.Context, pack, set, owner string) (studio.Draft, error) {
	return studio.Draft{}, failure.Errorf(failure.Unavailable, "remix is not built yet")
}

func (s *Server) remixLesson(ctx context.Context, pack, lesson, owner string) (studio.Draft, error) {
	return studio.Draft{}, failure.Errorf(failure.Unavailable, "remix is not built yet")
}
