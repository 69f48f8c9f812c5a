-- The router's usage ledger: one row per request, one per attempt, daily rollups, client keys.

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- sha256 of the key (keys are 32 random bytes: a fast hash is enough; never the key itself)
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    client_id INTEGER REFERENCES clients(id),
    idempotency_key TEXT,
    requested_model TEXT NOT NULL,
    stream INTEGER NOT NULL,
    -- the routing decision, apart from the calls actually made (attempts)
    decision TEXT NOT NULL,          -- primary | spillover
    decision_reason TEXT NOT NULL,   -- quiet | busy | primary_unavailable | secondary_unavailable
    decided_backend TEXT,
    final_backend TEXT,
    fallback INTEGER NOT NULL,       -- answered by another backend than decided
    status INTEGER NOT NULL,
    error_code TEXT,
    attempts INTEGER NOT NULL,
    started_at TEXT NOT NULL,        -- RFC 3339, UTC
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    cost_usd REAL NOT NULL
);
CREATE INDEX requests_started ON requests(started_at);

CREATE TABLE attempts (
    request_id TEXT NOT NULL REFERENCES requests(id),
    n INTEGER NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    outcome TEXT NOT NULL,           -- ok | quota | rate_limited | server_error | timeout | client_error | queue_timeout | cut
    http_status INTEGER,
    provider_error TEXT,
    retry_after_ms INTEGER,
    queue_wait_ms REAL NOT NULL,
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_tokens INTEGER,
    reasoning_tokens INTEGER,
    image_tokens INTEGER,
    cost_usd REAL NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (request_id, n)
);
CREATE INDEX attempts_started ON attempts(started_at);

-- per UTC day × backend × provider model, kept by the trigger below in the same transaction
CREATE TABLE daily_usage (
    day TEXT NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    ok INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (day, backend, provider_model)
);

CREATE TRIGGER attempts_rollup AFTER INSERT ON attempts BEGIN
    INSERT INTO daily_usage (day, backend, provider_model) VALUES (substr(NEW.started_at, 1, 10), NEW.backend, NEW.provider_model)
        ON CONFLICT (day, backend, provider_model) DO NOTHING;
    UPDATE daily_usage SET
        attempts = attempts + 1,
        ok = ok + (NEW.outcome = 'ok'),
        errors = errors + (NEW.outcome <> 'ok'),
        input_tokens = input_tokens + coalesce(NEW.input_tokens, 0),
        output_tokens = output_tokens + coalesce(NEW.output_tokens, 0),
        cached_tokens = cached_tokens + coalesce(NEW.cached_tokens, 0),
        cost_usd = cost_usd + NEW.cost_usd
    WHERE day = substr(NEW.started_at, 1, 10) AND backend = NEW.backend AND provider_model = NEW.provider_model;
END;
