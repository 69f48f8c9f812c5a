-- The stations' jobs (LLM work run through the traffic manager) and the reviewers' corrections.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES clients(id),
    idempotency_key TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    kind TEXT NOT NULL,               -- compliance_check | invoice_fields | legal_summary
    input TEXT NOT NULL,              -- JSON
    state TEXT NOT NULL,              -- running | done | failed
    result TEXT,                      -- JSON, valid against the kind's schema
    error TEXT,
    prompt_version TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    -- the order results are fetched in (a cursor): set when the job ends
    finished_seq INTEGER UNIQUE,
    UNIQUE (device_id, idempotency_key)
);

CREATE TABLE corrections (
    decision_hash TEXT PRIMARY KEY,   -- the station's audit-chain hash of the decision: one row each
    device_id INTEGER NOT NULL REFERENCES clients(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,               -- JSON as the station sent it
    received_at TEXT NOT NULL
);
