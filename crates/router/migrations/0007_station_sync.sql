-- The station's sync: the heads of each station's decision chain as the router witnessed them,
-- and the team's shared review queue (tasks leased to one station at a time).
CREATE TABLE audit_heads (
    id INTEGER PRIMARY KEY,           -- the order they arrived in
    device_id INTEGER NOT NULL REFERENCES clients(id),
    decisions INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,        -- RFC 3339, UTC: the first time this head was sent
    UNIQUE (device_id, decisions, last_hash)
);

CREATE TABLE shared_tasks (
    id INTEGER PRIMARY KEY,
    origin_device INTEGER NOT NULL REFERENCES clients(id),
    task_key TEXT NOT NULL,           -- the raising station's own id ("job:<id>" when the router raised it)
    item_sha256 TEXT NOT NULL,
    blobs TEXT NOT NULL,              -- JSON array of sha256 names
    kind TEXT NOT NULL,               -- compliance | invoice | legal
    store_id TEXT NOT NULL,
    confidence REAL NOT NULL,
    reasons TEXT NOT NULL,            -- JSON array
    model_output TEXT NOT NULL,       -- JSON
    versions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- the lease, in unix milliseconds (compared as numbers, to the millisecond). The holder is
    -- kept after its lease runs out: its decision still counts until another station claims it.
    lease_device INTEGER REFERENCES clients(id),
    leased_at_ms INTEGER,             -- when the holder first claimed it (a renewal keeps it)
    lease_until_ms INTEGER,
    decided_by INTEGER REFERENCES clients(id),
    decision_hash TEXT,
    decision TEXT,                    -- JSON, as the station sent it
    decided_at TEXT,
    UNIQUE (origin_device, task_key)
);
-- the open queue, lowest confidence first
CREATE INDEX shared_tasks_open ON shared_tasks(confidence, id) WHERE decided_by IS NULL;
CREATE INDEX shared_tasks_holder ON shared_tasks(lease_device) WHERE decided_by IS NULL;
