-- 0001_init: groups, mounts, sessions, messages and the audit chain.
-- Times are TEXT in UTC, fixed-width RFC 3339 with nanoseconds, so they sort as text.
-- Migrations are append-only: never edit this file once released; add 0002_….sql instead.

CREATE TABLE groups (
    slug     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    created  TEXT NOT NULL
);

CREATE TABLE mounts (
    id         INTEGER PRIMARY KEY,
    group_slug TEXT NOT NULL REFERENCES groups(slug) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    host_path  TEXT NOT NULL,
    readonly   INTEGER NOT NULL DEFAULT 1 CHECK (readonly IN (0, 1)),
    created    TEXT NOT NULL,
    UNIQUE (group_slug, name)
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    group_slug TEXT NOT NULL REFERENCES groups(slug) ON DELETE CASCADE,
    title      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'open',
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL
);
CREATE INDEX sessions_group ON sessions(group_slug, updated);

CREATE TABLE messages (
    id      INTEGER PRIMARY KEY,
    session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    content TEXT NOT NULL,
    status  TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    sha256  TEXT NOT NULL
);
CREATE INDEX messages_session ON messages(session, id);

-- events is the audit chain. seq is assigned by the store's single writer, strictly
-- consecutive from 1. Deliberately no foreign keys: the audit trail outlives the groups
-- and sessions it mentions, and events without a group (app.start) are normal.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    time       TEXT NOT NULL,
    group_slug TEXT NOT NULL DEFAULT '',
    session    TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX events_group ON events(group_slug, seq);
CREATE INDEX events_session ON events(session, seq);

-- The triggers stop honest code from changing history by mistake. They are not a
-- security boundary (anyone with the file can drop them); the hash chain is.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
