package server

// PublishDraft is publishDraft, for tests of the package server_test.
var PublishDraft = (*Server).publishDraft
