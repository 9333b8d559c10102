-- 0003_tasks: scheduled tasks of a group, and the history of their runs.
-- The store does not interpret schedules (app/tasks does); next_run is the
-- next due time the runtime computed, '' when there is none.
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    group_slug      TEXT NOT NULL REFERENCES groups(slug) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    prompt          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('cron', 'every', 'once')),
    expr            TEXT NOT NULL,
    zone            TEXT NOT NULL,
    anchor          TEXT NOT NULL DEFAULT '',
    context         TEXT NOT NULL CHECK (context IN ('fresh', 'chat')),
    session_id      TEXT NOT NULL DEFAULT '',
    catch_up_s      INTEGER NOT NULL,
    approval_wait_s INTEGER NOT NULL,
    auto_approve    INTEGER NOT NULL DEFAULT 0 CHECK (auto_approve IN (0, 1)),
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    next_run        TEXT NOT NULL DEFAULT '',
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
);
CREATE INDEX tasks_group ON tasks(group_slug);

CREATE TABLE task_runs (
    id         INTEGER PRIMARY KEY,
    task_id    TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    due        TEXT NOT NULL,
    started    TEXT NOT NULL DEFAULT '',
    finished   TEXT NOT NULL DEFAULT '',
    outcome    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    message_id INTEGER NOT NULL DEFAULT 0,
    late_s     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX task_runs_task ON task_runs(task_id, id);
CREATE INDEX task_runs_session ON task_runs(session_id);
