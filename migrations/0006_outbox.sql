-- The sync outbox: every change bound for the router, written in the same transaction as the
-- change itself, with its idempotency key stored before the first attempt. One row per job (a
-- photo's cloud check, a document's LLM fields or summary) or correction (a decision).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    item_id          INTEGER REFERENCES items(id),
    idempotency_key  TEXT NOT NULL UNIQUE,
    input_json       TEXT NOT NULL,
    -- sha256s uploaded (resumably) before the job is submitted
    blobs_json       TEXT NOT NULL DEFAULT '[]',
    -- queued | uploading | waiting | retrying | parked | done
    state            TEXT NOT NULL DEFAULT 'queued',
    upload_done      INTEGER NOT NULL DEFAULT 0,
    upload_total     INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    next_at_ms       INTEGER,
    reason           TEXT,
    job_id           INTEGER,
    first_attempt_ms INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX outbox_by_state ON outbox(state, next_at_ms, id);
CREATE INDEX outbox_by_item ON outbox(item_id);
CREATE UNIQUE INDEX outbox_by_job ON outbox(job_id) WHERE job_id IS NOT NULL;

-- What the sync client remembers between runs: the router's URL and device id (never its key:
-- that is in the OS keyring), the results cursor.
CREATE TABLE sync_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A cloud check's answer, once it is back.
ALTER TABLE pending_cloud ADD COLUMN passed INTEGER;
ALTER TABLE pending_cloud ADD COLUMN confidence REAL;
ALTER TABLE pending_cloud ADD COLUMN reason TEXT;
ALTER TABLE pending_cloud ADD COLUMN decided_at TEXT;
