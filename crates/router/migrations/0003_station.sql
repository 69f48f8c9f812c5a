-- The station API: devices (clients of kind 'device', enrolled with one-time codes) and
-- content-addressed blobs uploaded in resumable pieces.
ALTER TABLE clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'client';  -- client | device

CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY,       -- sha256 of the code; the code itself is shown once
    note TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device_id INTEGER REFERENCES clients(id)
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    length INTEGER NOT NULL,
    received INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    device_id INTEGER REFERENCES clients(id),
    created_at TEXT NOT NULL,
    completed_at TEXT
);
