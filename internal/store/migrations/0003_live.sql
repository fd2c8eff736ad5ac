-- Live sessions (internal/live): a teacher leads a class through questions.
-- The session's state is kept here as it changes, so a box that restarts
-- mid-session resumes it; every answer is a live.response event, and
-- live_responses is derived from those events in the same transaction.

CREATE TABLE live_sessions (
    id           TEXT    PRIMARY KEY,           -- ULID
    code         TEXT    NOT NULL UNIQUE,       -- the join code students type
    teacher_hash TEXT    NOT NULL,              -- SHA-256 (hex) of the control token
    title        TEXT    NOT NULL,
    lang         TEXT    NOT NULL,              -- the language it was made in
    options      TEXT    NOT NULL CHECK (json_valid(options)),
    questions    TEXT    NOT NULL CHECK (json_valid(questions)), -- with their answers: never sent as they are
    phase        TEXT    NOT NULL CHECK (phase IN ('lobby', 'open', 'closed', 'revealed', 'board', 'ended')),
    current      INTEGER NOT NULL,              -- the question asked (0-based), -1 in the lobby
    version      INTEGER NOT NULL,              -- grows with each change; an older write never wins
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    ended_ms     INTEGER                         -- set once ended
) STRICT;

CREATE INDEX live_sessions_running ON live_sessions (phase) WHERE phase <> 'ended';

CREATE TABLE live_players (
    session    TEXT    NOT NULL REFERENCES live_sessions(id),
    id         TEXT    NOT NULL,                -- p1, p2, … within the session
    token_hash TEXT    NOT NULL,                -- SHA-256 (hex) of the device's secret
    learner    TEXT    NOT NULL,                -- guest:ID or student:ID
    nickname   TEXT    NOT NULL,
    joined_ms  INTEGER NOT NULL,
    removed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session, id)
) STRICT;

CREATE TABLE live_responses (
    session    TEXT    NOT NULL REFERENCES live_sessions(id),
    question   INTEGER NOT NULL,
    player     TEXT    NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events(seq),
    event_id   TEXT    NOT NULL UNIQUE,
    choices    TEXT    NOT NULL CHECK (json_valid(choices)),
    text       TEXT    NOT NULL,
    correct    INTEGER NOT NULL,
    score      REAL    NOT NULL,
    points     INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    PRIMARY KEY (session, question, player),
    FOREIGN KEY (session, player) REFERENCES live_players(session, id)
) STRICT;
