-- Idempotency keys: the first answer to a (client, key), replayed to repeats for at least 24 h.
CREATE TABLE idempotency (
    client_id INTEGER NOT NULL REFERENCES clients(id),
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,          -- sha256 of the request body: another body is 422
    state TEXT NOT NULL,              -- running | done
    status INTEGER,
    content_type TEXT,
    response BLOB,
    created_at TEXT NOT NULL,         -- RFC 3339, UTC
    updated_at TEXT NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_created ON idempotency(created_at);
