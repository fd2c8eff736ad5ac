// Package studio is the teacher studio's model: the exercise sets and
// lessons a teacher writes on the box, as drafts she edits and as the
// versions she publishes. A draft is a Doc; publishing turns a Doc into a
// pack's source form (the same pack.yaml, exercises YAML and lesson
// Markdown an author writes on a computer, docs/pack-format.md), which the
// box builds, signs with its own key and installs like any pack, with the
// id content.Namespace(key) + the draft's ID. It does no I/O.
package studio

import "time"

// The kinds of a draft.
const (
	KindSet    = "set"
	KindLesson = "lesson"
)

// Text is a text per language ("en", "ru", "tg"): Markdown with TeX.
type Text map[string]string

// Draft is a teacher's set or lesson as stored on the box.
type Draft struct {
	ID      string    // [a-z0-9]{10}, made once; the pack id is content.Namespace(box key) + ID
	Owner   string    // the user id of the teacher who wrote it
	Kind    string    // KindSet or KindLesson
	Rev     int64     // revision, one more at every saved change
	Doc     Doc       // what she wrote
	Updated time.Time // when Rev was saved
	// Versions lists what was published of it, oldest first.
	Versions []Version
}

// Version is one published version of a draft.
type Version struct {
	Version   string    // the pack version, "1.0.0", "2.0.0", …
	Rev       int64     // the draft revision it was made from
	Published time.Time // when
	SHA256    string    // of the signed .stempack archive
}

// Doc is the content of a draft, as the editor sends it (JSON) and the store
// keeps it.
type Doc struct {
	Title     Text     `json:"title"`
	Subject   string   `json:"subject"`            // as in pack.yaml: math, physics, climate, …
	Grades    []int    `json:"grades"`             // school grades, 5–11
	Languages []string `json:"languages"`          // the languages it is written in, one or more
	Items     []Item   `json:"items,omitempty"`    // a set's items, in order
	Body      Text     `json:"body,omitempty"`     // a lesson's Markdown
	RemixOf   string   `json:"remix_of,omitempty"` // "PACK/set/SET" or "PACK/lesson/LESSON" it was copied from
}

// Item is one question of a set. Its fields follow an item of an exercises
// YAML file (docs/pack-format.md), plus "poll" (a question with no right
// answer: the class's opinion or a prediction).
type Item struct {
	ID        string              `json:"id"`   // stable within the set: answers point at it
	Type      string              `json:"type"` // choice, multi, truefalse, numeric, text, poll
	Prompt    Text                `json:"prompt"`
	Choices   []Choice            `json:"choices,omitempty"`   // choice, multi, poll
	True      bool                `json:"true,omitempty"`      // truefalse: the statement is true
	Answer    float64             `json:"answer,omitempty"`    // numeric
	Tolerance float64             `json:"tolerance,omitempty"` // numeric, absolute
	Unit      Text                `json:"unit,omitempty"`      // numeric, optional
	Accepted  map[string][]string `json:"accepted,omitempty"`  // text: accepted answers per language
	Feedback  Feedback            `json:"feedback,omitempty"`
}

// Choice is one choice of an item.
type Choice struct {
	Text     Text `json:"text"`
	Correct  bool `json:"correct,omitempty"`
	Feedback Text `json:"feedback,omitempty"` // shown when this choice is picked
}

// Feedback is an item's feedback, shown after answering.
type Feedback struct {
	Correct   Text `json:"correct,omitempty"`
	Incorrect Text `json:"incorrect,omitempty"`
	General   Text `json:"general,omitempty"`
}
