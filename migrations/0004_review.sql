-- The review queue: one task per result routed to a person, leased to one reviewer at a time.
CREATE TABLE review_tasks (
    id               INTEGER PRIMARY KEY,
    item_id          INTEGER NOT NULL REFERENCES items(id),
    kind             TEXT NOT NULL,          -- compliance / invoice / legal
    store_id         TEXT NOT NULL,
    -- lowest field/rule confidence: lowest first
    confidence       REAL NOT NULL,
    reasons          TEXT NOT NULL,          -- JSON array: low_confidence, validation_failed, …
    created_at       TEXT NOT NULL,
    due_at           TEXT,
    -- the model's output as routed (JSON), and the versions that produced it (JSON)
    model_output     TEXT NOT NULL,
    versions         TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'open',   -- open / decided
    lease_owner      TEXT,
    lease_expires_at INTEGER                 -- unix ms
);
CREATE INDEX review_tasks_open_confidence ON review_tasks(state, confidence, id);
CREATE INDEX review_tasks_open_created ON review_tasks(state, created_at, id);
CREATE INDEX review_tasks_open_kind ON review_tasks(state, kind, store_id, confidence, id);

-- Decisions: append-only, each row hash-chained to the previous one. A task has at most one
-- standing decision: an undo is a row of its own that reopens the task.
CREATE TABLE review_decisions (
    id            INTEGER PRIMARY KEY,
    task_id       INTEGER NOT NULL REFERENCES review_tasks(id),
    reviewer      TEXT NOT NULL,
    action        TEXT NOT NULL,              -- approve / reject / correct / undo
    reason_code   TEXT,
    before_json   TEXT NOT NULL,
    after_json    TEXT NOT NULL,
    decided_at    TEXT NOT NULL,
    duration_ms   INTEGER NOT NULL,
    -- the fields the reviewer changed (JSON array), and the versions of engine, model, prompt
    -- and backend behind the model output (JSON): the evaluation set
    diff_json     TEXT NOT NULL,
    versions      TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE
);
CREATE INDEX review_decisions_by_task ON review_decisions(task_id, id);

CREATE TRIGGER review_decisions_append_only_update BEFORE UPDATE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END;
CREATE TRIGGER review_decisions_append_only_delete BEFORE DELETE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END;
