-- People: the box's admins and teachers (who sign in with a password),
-- classes and their students (who sign in by tapping their name, with a PIN
-- or a picture when the class asks for one), server-side sessions, and what
-- teachers assign.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'teacher')),
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE classes (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    grade        INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 12),
    code         TEXT    NOT NULL UNIQUE,              -- short code students type
    sign_in      TEXT    NOT NULL DEFAULT 'name' CHECK (sign_in IN ('name', 'pin', 'picture')),
    mastery      TEXT    NOT NULL DEFAULT 'last:4/5',  -- all | streak:N | last:M/N
    created_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE class_teachers (
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (class_id, user_id)
) STRICT;

CREATE TABLE students (
    id          TEXT    PRIMARY KEY,
    class_id    TEXT    NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    gender      TEXT    NOT NULL DEFAULT 'unspecified' CHECK (gender IN ('female', 'male', 'unspecified')),
    birth_year  INTEGER,
    external_id TEXT,                                   -- the school's id (OneRoster sourcedId)
    secret_hash TEXT,                                   -- PIN or picture password, hashed
    created_ms  INTEGER NOT NULL,
    UNIQUE (class_id, name)
) STRICT;

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,                   -- SHA-256 of the cookie's token
    kind         TEXT    NOT NULL CHECK (kind IN ('user', 'student')),
    subject_id   TEXT    NOT NULL,
    csrf         TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_subject ON sessions (subject_id);

CREATE TABLE assignments (
    id          TEXT    PRIMARY KEY,
    class_id    TEXT    NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    pack        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('lesson', 'set')),
    ref         TEXT    NOT NULL,
    assigned_by TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    UNIQUE (class_id, pack, kind, ref)
) STRICT;

-- Derived from answer.submitted events, in the same transaction: one row an
-- answer, for mastery rules over a learner's latest answers in a set.
CREATE TABLE attempts (
    seq      INTEGER PRIMARY KEY REFERENCES events(seq),
    learner  TEXT    NOT NULL,
    pack     TEXT    NOT NULL,
    set_id   TEXT    NOT NULL,
    item     TEXT    NOT NULL,
    correct  INTEGER NOT NULL,
    score    REAL    NOT NULL,
    answer   TEXT    NOT NULL                           -- what was answered, for item analysis
) STRICT;
CREATE INDEX attempts_learner_set ON attempts (learner, pack, set_id, seq);
CREATE INDEX attempts_item ON attempts (pack, set_id, item);

-- Derived from lesson.completed events.
CREATE TABLE lesson_progress (
    learner      TEXT    NOT NULL,
    pack         TEXT    NOT NULL,
    lesson       TEXT    NOT NULL,
    completed_ms INTEGER NOT NULL,
    PRIMARY KEY (learner, pack, lesson)
) STRICT;

-- The derived tables follow the events they come from, in the same
-- transaction, whatever code writes the event.
CREATE TRIGGER attempts_from_answer AFTER INSERT ON events
WHEN NEW.kind = 'answer.submitted'
BEGIN
    INSERT INTO attempts (seq, learner, pack, set_id, item, correct, score, answer)
    VALUES (NEW.seq, NEW.actor,
            json_extract(NEW.payload, '$.pack'), json_extract(NEW.payload, '$.set'),
            json_extract(NEW.payload, '$.item'),
            coalesce(json_extract(NEW.payload, '$.correct'), 0),
            coalesce(json_extract(NEW.payload, '$.score'), 0),
            coalesce(json_extract(NEW.payload, '$.text'), json_extract(NEW.payload, '$.choices'), ''));
END;

CREATE TRIGGER lesson_progress_from_event AFTER INSERT ON events
WHEN NEW.kind = 'lesson.completed'
BEGIN
    INSERT OR IGNORE INTO lesson_progress (learner, pack, lesson, completed_ms)
    VALUES (NEW.actor, json_extract(NEW.payload, '$.pack'), json_extract(NEW.payload, '$.lesson'), NEW.wall_ms);
END;

-- Answers stored before this migration.
INSERT INTO attempts (seq, learner, pack, set_id, item, correct, score, answer)
SELECT seq, actor, json_extract(payload, '$.pack'), json_extract(payload, '$.set'), json_extract(payload, '$.item'),
       coalesce(json_extract(payload, '$.correct'), 0), coalesce(json_extract(payload, '$.score'), 0),
       coalesce(json_extract(payload, '$.text'), json_extract(payload, '$.choices'), '')
FROM events WHERE kind = 'answer.submitted';
