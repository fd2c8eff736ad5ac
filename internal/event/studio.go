package event

import "regexp"

// KindStudioPublished is the kind of a teacher's set or lesson published
// on the box (the teacher studio, docs/studio.md).
const KindStudioPublished = "studio.published" // StudioPublished

var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// StudioPublished is a studio.published payload: a teacher (the actor,
// "user:ID") published a draft of hers as a version of a pack signed by
// the box's key. It says what was made, never the content itself: that
// travels as the pack.
type StudioPublished struct {
	Pack    string `json:"pack"`    // the pack's id: the box's namespace and the draft's id
	Version string `json:"version"` // "1.0.0", "2.0.0", …
	Kind    string `json:"kind"`    // "set" or "lesson"
	Items   int    `json:"items"`   // a set's questions; 0 for a lesson
	SHA256  string `json:"sha256"`  // of the signed .stempack archive
}

func (StudioPublished) EventKind() string { return KindStudioPublished }

func (p StudioPublished) validate() error {
	if err := required(KindStudioPublished, "pack", p.Pack, "version", p.Version, "kind", p.Kind); err != nil {
		return err
	}
	switch {
	case p.Kind != "set" && p.Kind != "lesson":
		return invalid(KindStudioPublished, "kind %q is neither set nor lesson", p.Kind)
	case p.Items < 0:
		return invalid(KindStudioPublished, "items %d is negative", p.Items)
	case !sha256Pattern.MatchString(p.SHA256):
		return invalid(KindStudioPublished, "sha256 %q is not 64 hex digits", p.SHA256)
	}
	return nil
}
