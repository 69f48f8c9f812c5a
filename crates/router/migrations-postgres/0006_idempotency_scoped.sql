-- PostgreSQL twin of migrations/0006_idempotency_scoped.sql.
CREATE TABLE idempotency_scoped (
    scope TEXT NOT NULL,
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status BIGINT,
    content_type TEXT,
    response BYTEA,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, principal, key)
);
CREATE INDEX idempotency_scoped_created ON idempotency_scoped(created_at);
DROP TABLE idempotency;
