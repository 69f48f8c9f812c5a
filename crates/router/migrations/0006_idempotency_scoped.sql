-- Idempotency keys for every mutating endpoint: scoped by the endpoint (method and path) and
-- the caller (the sha256 of its bearer key, or "anonymous"). Replaces the chat-only table.
CREATE TABLE idempotency_scoped (
    scope TEXT NOT NULL,
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    state TEXT NOT NULL,              -- running | done
    status INTEGER,
    content_type TEXT,
    response BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, principal, key)
);
CREATE INDEX idempotency_scoped_created ON idempotency_scoped(created_at);
DROP TABLE idempotency;
