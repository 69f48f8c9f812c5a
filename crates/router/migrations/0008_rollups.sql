-- The dashboards' rollups (issue 17): what the admin screens show, summed per hour and per UTC
-- day, so a dashboard reads a few thousand rows whatever the size of the ledger. Kept by the
-- ledger's writer in the transaction of the rows they sum (`src/rollup/`: aggregated in Rust,
-- then upserted, which ports to PostgreSQL as it is); filled here from the rows already written.
--
-- Keys: `width_s` (3600: an hour, 86400: a UTC day) and `start_s` (the bucket's start, unix
-- seconds), then backend × provider model × store × client. No store is '' and no client 0, so
-- that every key column is NOT NULL and an upsert finds its row.
-- Attempts that never reached a backend (`queue_timeout`) are not calls: they are not counted
-- here (a request refused for it is in `request_rollup` as a 503).
-- The time of an attempt is its own `started_at`; of a request, the request's (UTC, RFC 3339).

-- replaced by usage_rollup (width_s = 86400)
DROP TRIGGER attempts_rollup;
DROP TABLE daily_usage;

-- The latency histogram's bins: bin k holds the values in (upper(k-1), upper(k)] milliseconds,
-- upper(0) = 1 (values of 1 ms or less go to bin 0), upper(k) = upper(k-1) * 51 / 50: bins 2 %
-- wide, computed by the same two IEEE operations in Rust (`rollup::upper_ms`) so both agree to
-- the bit. Bin 1200 (about 243 days) also holds anything longer.
CREATE TABLE latency_bins (
    bin INTEGER PRIMARY KEY,
    upper_ms REAL NOT NULL
);
INSERT INTO latency_bins (bin, upper_ms)
    WITH RECURSIVE e(bin, upper_ms) AS (
        SELECT 0, 1.0
        UNION ALL
        SELECT bin + 1, upper_ms * 51.0 / 50.0 FROM e WHERE bin < 1200
    )
    SELECT bin, upper_ms FROM e;
CREATE UNIQUE INDEX latency_bins_upper ON latency_bins(upper_ms);

-- calls and what they used
CREATE TABLE usage_rollup (
    width_s INTEGER NOT NULL,
    start_s INTEGER NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    store_id TEXT NOT NULL,
    client_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    timeouts INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    image_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    PRIMARY KEY (width_s, start_s, backend, provider_model, store_id, client_id)
) WITHOUT ROWID;

-- latency and time to first token (`metric`: latency | ttft), as counts per bin
CREATE TABLE latency_rollup (
    width_s INTEGER NOT NULL,
    start_s INTEGER NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    store_id TEXT NOT NULL,
    client_id INTEGER NOT NULL,
    metric TEXT NOT NULL,
    bin INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (width_s, start_s, backend, provider_model, store_id, client_id, metric, bin)
) WITHOUT ROWID;

-- the same summed over stores and clients: what a dashboard without a store or device filter
-- reads (a tenth of the rows, already in the order the percentiles are read in)
CREATE TABLE latency_rollup_all (
    width_s INTEGER NOT NULL,
    start_s INTEGER NOT NULL,
    backend TEXT NOT NULL,
    provider_model TEXT NOT NULL,
    metric TEXT NOT NULL,
    bin INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (width_s, start_s, backend, provider_model, metric, bin)
) WITHOUT ROWID;

-- requests: the routing decision against who answered (status 200; '' when none did)
CREATE TABLE request_rollup (
    width_s INTEGER NOT NULL,
    start_s INTEGER NOT NULL,
    store_id TEXT NOT NULL,
    client_id INTEGER NOT NULL,
    decided_backend TEXT NOT NULL,
    answered_backend TEXT NOT NULL,
    decision TEXT NOT NULL,
    requests INTEGER NOT NULL,
    spillover INTEGER NOT NULL,
    fallback INTEGER NOT NULL,
    refused_429 INTEGER NOT NULL,
    refused_503 INTEGER NOT NULL,
    PRIMARY KEY (width_s, start_s, store_id, client_id, decided_backend, answered_backend, decision)
) WITHOUT ROWID;

-- the recent requests of one device, newest first
CREATE INDEX requests_client ON requests(client_id, started_at);

-- the rows written before this migration
INSERT INTO usage_rollup
    SELECT w.width_s, CAST(strftime('%s', substr(a.started_at, 1, 19)) AS INTEGER) / w.width_s * w.width_s,
           a.backend, a.provider_model, coalesce(r.store_id, ''), coalesce(r.client_id, 0),
           count(*), sum(a.outcome = 'ok'), sum(a.outcome <> 'ok'), sum(a.outcome = 'timeout'),
           coalesce(sum(a.input_tokens), 0), coalesce(sum(a.output_tokens), 0), coalesce(sum(a.cached_tokens), 0),
           coalesce(sum(a.reasoning_tokens), 0), coalesce(sum(a.image_tokens), 0), sum(a.cost_usd)
    FROM attempts a JOIN requests r ON r.id = a.request_id
         CROSS JOIN (SELECT 3600 AS width_s UNION ALL SELECT 86400) w
    WHERE a.outcome <> 'queue_timeout'
    GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO latency_rollup
    WITH v AS (
        SELECT w.width_s, CAST(strftime('%s', substr(a.started_at, 1, 19)) AS INTEGER) / w.width_s * w.width_s AS start_s,
               a.backend, a.provider_model, coalesce(r.store_id, '') AS store_id, coalesce(r.client_id, 0) AS client_id,
               m.metric, CASE m.metric WHEN 'latency' THEN a.latency_ms ELSE a.ttft_ms END AS ms
        FROM attempts a JOIN requests r ON r.id = a.request_id
             CROSS JOIN (SELECT 3600 AS width_s UNION ALL SELECT 86400) w
             CROSS JOIN (SELECT 'latency' AS metric UNION ALL SELECT 'ttft') m
        WHERE a.outcome <> 'queue_timeout'
    )
    SELECT width_s, start_s, backend, provider_model, store_id, client_id, metric,
           CASE WHEN ms <= 1.0 THEN 0
                ELSE coalesce((SELECT b.bin FROM latency_bins b WHERE b.upper_ms >= v.ms ORDER BY b.upper_ms LIMIT 1), 1200)
           END AS bin,
           count(*)
    FROM v WHERE ms IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO latency_rollup_all
    SELECT width_s, start_s, backend, provider_model, metric, bin, sum(n)
    FROM latency_rollup GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO request_rollup
    SELECT w.width_s, CAST(strftime('%s', substr(r.started_at, 1, 19)) AS INTEGER) / w.width_s * w.width_s,
           coalesce(r.store_id, ''), coalesce(r.client_id, 0), coalesce(r.decided_backend, ''),
           CASE WHEN r.status = 200 THEN coalesce(r.final_backend, '') ELSE '' END, r.decision,
           count(*), sum(r.decision = 'spillover'), sum(r.fallback <> 0), sum(r.status = 429), sum(r.status = 503)
    FROM requests r CROSS JOIN (SELECT 3600 AS width_s UNION ALL SELECT 86400) w
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
