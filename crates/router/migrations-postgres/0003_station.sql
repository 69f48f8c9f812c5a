-- PostgreSQL twin of migrations/0003_station.sql.
ALTER TABLE clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'client';

CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY,
    note TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device_id BIGINT REFERENCES clients(id)
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    length BIGINT NOT NULL,
    received BIGINT NOT NULL,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    device_id BIGINT REFERENCES clients(id),
    created_at TEXT NOT NULL,
    completed_at TEXT
);
