package server

import (
	"context"

	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/studio"
)

// For tests of the package server_test: the studio's helpers, which h-ui's
// handlers call.
var (
	PublishDraft = (*Server).publishDraft
	RemixSet     = (*Server).remixSet
	RemixLesson  = (*Server).remixLesson
	ImportGIFT   = (*Server).importGIFT
)

// StudioDraftAs is studioDraft for a signed-in user.
func (s *Server) StudioDraftAs(ctx context.Context, u school.User, id string, edit bool) (studio.Draft, error) {
	return s.studioDraft(ctx, &viewer{Kind: "user", User: u}, id, edit)
}

// StudioDraftsAs is studioDrafts for a signed-in user.
func (s *Server) StudioDraftsAs(ctx context.Context, u school.User) ([]studio.Draft, error) {
	return s.studioDrafts(ctx, &viewer{Kind: "user", User: u})
}

// CopyDraftAs is copyDraft for a signed-in user.
func (s *Server) CopyDraftAs(ctx context.Context, u school.User, id string) (studio.Draft, error) {
	return s.copyDraft(ctx, &viewer{Kind: "user", User: u}, id)
}
