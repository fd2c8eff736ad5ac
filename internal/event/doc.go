// Package event is the contract of the events a box records and the hub
// receives: the envelope, every kind, each kind's payload and its version.
// It is the one place where a payload's JSON keys are written; the box's
// store, the upstream sync and the hub's ingest all go through it. It does
// no I/O.
//
// # The envelope
//
// An Event is one immutable learner action or roster change: a box-local,
// gap-free sequence number, a global id (a ULID, see ValidID), its kind,
// its actor ("student:ID", "guest:ID", "user:ID", "box"), the box's wall
// clock, the box's boot id and the time since that boot, and a small JSON
// object, the payload. The wire format (internal/upstream/wire) carries
// envelopes byte for byte and never looks inside a payload.
//
// # Kinds and payloads
//
//	kind                  payload        required             derived
//	answer.submitted      Answer         pack, set, item      attempts, item progress (box); answers (hub)
//	live.response         LiveResponse   session, player      live_responses; attempts and item progress for a
//	                                                          scored item of a pack (box); answers (hub)
//	lesson.completed      LessonCompleted pack, lesson        lesson progress (box); lessons done (hub)
//	user.created          UserCreated    user, role
//	class.created         ClassCreated   class, grade         classes (hub)
//	class.updated         ClassUpdated   class
//	student.created       StudentCreated student, class       learners (hub)
//	student.secret_reset  StudentSecretReset student
//	assignment.created    AssignmentCreated assignment, class, pack, kind, ref
//	assignment.removed    AssignmentRemoved assignment, class
//	app.result            AppResult      pack, app            app progress (box)
//	studio.published      StudioPublished pack, version, kind, sha256
//
// The payload structs below list every key with its JSON name and meaning.
// Payloads never hold secrets, and never a student's name: the hub sees
// pseudonymous ids, class, gender and birth year.
//
// An answer, whichever kind carries it, counts for progress, mastery and
// reports through its Attempt (AttemptOf): the box and the hub count the
// same answers. An answer to a poll of a pack's set (Answer.Kind "poll")
// is an Attempt with Poll set: the box keeps it with the learner's answers
// but neither counts it for mastery nor the hub for reports.
//
// # Compatibility
//
// Boxes and hubs of different releases talk to each other for years, so:
//
//   - Adding an optional key to a payload is compatible: an older reader
//     ignores keys it does not know (Decode never refuses them), and a newer
//     reader gets the zero value from an older writer. Give the field
//     omitempty unless its zero value must be sent.
//   - Anything else — removing or renaming a key, changing its type or its
//     meaning, making it required — is a breaking change and makes a new
//     version of the kind. Version 1 of a kind is its plain name; version n
//     is named "<kind>.v<n>" (e.g. "answer.submitted.v2"), with a payload
//     struct of its own. The old version stays registered so that the events
//     already written (which are never rewritten) still decode; writers move
//     to the new one. Because the version is in the kind's name, a receiver
//     that predates it sees a kind it does not know and keeps the event
//     untouched, never misreading it.
//   - A kind this package does not know passes through untouched: Validate
//     accepts it, Decode returns nil for it, the hub stores it and derives
//     nothing from it, so a newer box can sync with an older hub. A hub that
//     learns the kind later can derive from the events it already holds.
//
// # Adding a kind
//
// Future kinds (as "app.result" for a simulation's result was) are added here
// and only here: a Kind constant, a payload struct with its JSON tags, its
// EventKind and validate methods (validate names what is required), and a
// line in the specs table (kinds.go). Then: the writer in the box's store
// calls New with the payload, and if the hub or the box derives rows from
// it, their derive functions get a case for its struct. The contract tests
// (TestEveryKind here and TestEveryKindReachesTheHub in internal/upstream)
// fail until the new kind has a sample and a round trip, and
// docs/sync-protocol.md lists it.
package event
