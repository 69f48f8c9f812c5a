-- PostgreSQL twin of migrations/0008_rollups.sql: the dashboards' rollups, kept by the ledger's
-- writer in the transaction of the rows they sum (see the SQLite file for the keys and bins).
-- The SQLite file also fills the rollups from rows written before it; a PostgreSQL ledger runs
-- 0001–0009 together on an empty database, so there is nothing to fill.

DROP TABLE daily_usage;

-- bin k holds (upper(k-1), upper(k)] ms; upper(0) = 1, upper(k) = upper(k-1) * 51 / 50, the same
-- two IEEE double operations as `rollup::upper_ms` (float8 literals: no numeric arithmetic)
CREATE TABLE latency_bins (
    bin BIGINT PRIMARY KEY,
    upper_ms DOUBLE PRECISION NOT NULL
);
INSERT INTO latency_bins (bin, upper_ms)
    WITH RECURSIVE e(bin, upper_ms) AS (
        SELECT 0::bigint, 1.0::float8
        UNION ALL
        SELECT bin + 1, upper_ms * 51.0::float8 / 50.0::float8 FROM e WHERE bin < 1200
    )
    SELECT bin, upper_ms FROM e;
CREATE UNIQUE INDEX latency_bins_upper ON latency_bins(upper_ms);

CREATE TABLE usage_rollup (
    width_s BIGINT NOT NULL,
    start_s BIGINT NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    store_id TEXT NOT NULL,
    client_id BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    timeouts BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    image_tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (width_s, start_s, backend, provider_model, store_id, client_id)
);

CREATE TABLE latency_rollup (
    width_s BIGINT NOT NULL,
    start_s BIGINT NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    store_id TEXT NOT NULL,
    client_id BIGINT NOT NULL,
    metric TEXT NOT NULL,
    bin BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (width_s, start_s, backend, provider_model, store_id, client_id, metric, bin)
);

CREATE TABLE latency_rollup_all (
    width_s BIGINT NOT NULL,
    start_s BIGINT NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    metric TEXT NOT NULL,
    bin BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (width_s, start_s, backend, provider_model, metric, bin)
);

CREATE TABLE request_rollup (
    width_s BIGINT NOT NULL,
    start_s BIGINT NOT NULL,
    store_id TEXT NOT NULL,
    client_id BIGINT NOT NULL,
    decided_backend TEXT NOT NULL,
    answered_backend TEXT NOT NULL,
    decision TEXT NOT NULL,
    requests BIGINT NOT NULL,
    spillover BIGINT NOT NULL,
    fallback BIGINT NOT NULL,
    refused_429 BIGINT NOT NULL,
    refused_503 BIGINT NOT NULL,
    PRIMARY KEY (width_s, start_s, store_id, client_id, decided_backend, answered_backend, decision)
);

CREATE INDEX requests_client ON requests(client_id, started_at);
