-- PostgreSQL twin of migrations/0002_idempotency.sql.
CREATE TABLE idempotency (
    client_id BIGINT NOT NULL REFERENCES clients(id),
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status BIGINT,
    content_type TEXT,
    response BYTEA,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_created ON idempotency(created_at);
