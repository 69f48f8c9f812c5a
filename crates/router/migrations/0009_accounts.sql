-- People's accounts: argon2id passwords, TOTP secrets sealed with the router's key, single-use
-- recovery codes (hashed), sign-in challenges and sessions bound to the device that opened them,
-- and every sign-in attempt logged (never a secret).

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,                  -- reviewer | auditor | admin
    password_hash TEXT NOT NULL,         -- argon2id, PHC string (parameters inside it)
    totp_sealed TEXT,                    -- XChaCha20-Poly1305(nonce ‖ ciphertext), base64; NULL: none yet
    totp_confirmed INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER,              -- the last time step accepted: it and older ones are refused
    failures INTEGER NOT NULL DEFAULT 0, -- failed attempts since failures_since_ms
    failures_since_ms INTEGER,
    locked_until_ms INTEGER,
    lockouts INTEGER NOT NULL DEFAULT 0, -- locks since the last success: each one lasts twice as long
    created_at TEXT NOT NULL,
    disabled_at TEXT
);

CREATE TABLE recovery_codes (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    code_hash TEXT NOT NULL,             -- sha256 of the normalized code (60 random bits each)
    used_at TEXT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE login_challenges (
    id_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    client_id INTEGER NOT NULL REFERENCES clients(id),
    enrol INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    client_id INTEGER NOT NULL REFERENCES clients(id),
    created_at TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at TEXT,
    revoked_reason TEXT
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE auth_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    account_id INTEGER,
    name TEXT NOT NULL,                  -- as typed (cut to 64 characters)
    client_id INTEGER,
    event TEXT NOT NULL,                 -- password | code | recovery_code | enrol | session | logout | admin
    outcome TEXT NOT NULL,               -- ok | wrong | reused | skewed | locked | expired | unknown_account | revoked
    detail TEXT
);
CREATE INDEX auth_events_at ON auth_events(at);
