//! The peer: what a dashboard screen shows, by direct queries over the raw `requests` /
//! `attempts` rows (nearest-rank percentiles with window functions, as the admin API did before
//! the rollups), on either engine. The SQL is written once for both: `$N` placeholders, counts
//! of a condition as `CASE … THEN 1 ELSE 0`, PostgreSQL's numeric sums cast back to the types
//! decoded.

use protocol::admin::Dashboard;
use router::db::Db;

#[derive(Debug, Default)]
pub struct PeerNumbers {
    attempts: i64,
    cost_usd: f64,
    requests: i64,
    /// (bucket text, backend, model) → p95 of latency
    p95: Vec<(String, String, String, f64)>,
}

/// The screen's figures for `[from, to)` (ledger text times), by day or by hour, optionally
/// for one store and one device.
pub async fn numbers(
    db: &Db,
    from: &str,
    to: &str,
    day: bool,
    store: Option<&str>,
    device: Option<i64>,
) -> PeerNumbers {
    let width: i32 = if day { 10 } else { 13 };
    router::with_db!(db, pool => {
        let usage: (i64, f64) = sqlx::query_as(
            "SELECT count(*), CAST(coalesce(sum(a.cost_usd), 0) + 0 * coalesce(sum(a.input_tokens) + sum(a.output_tokens)
                    + sum(a.cached_tokens) + sum(a.reasoning_tokens) + sum(a.image_tokens)
                    + sum(CASE WHEN a.outcome = 'ok' THEN 1 ELSE 0 END)
                    + sum(CASE WHEN a.outcome = 'timeout' THEN 1 ELSE 0 END), 0) AS DOUBLE PRECISION)
             FROM attempts a JOIN requests r ON r.id = a.request_id
             WHERE a.started_at >= $1 AND a.started_at < $2 AND a.outcome <> 'queue_timeout'
               AND ($3 IS NULL OR r.store_id = $3) AND ($4 IS NULL OR r.client_id = $4)",
        )
        .bind(from)
        .bind(to)
        .bind(store)
        .bind(device)
        .fetch_one(pool)
        .await
        .unwrap();
        // the usage table itself, per bucket × backend × model (what the screen draws)
        let _: Vec<(String, String, String, i64, f64)> = sqlx::query_as(
            "SELECT substr(a.started_at, 1, $5), a.backend, a.provider_model, count(*), sum(a.cost_usd)
             FROM attempts a JOIN requests r ON r.id = a.request_id
             WHERE a.started_at >= $1 AND a.started_at < $2 AND a.outcome <> 'queue_timeout'
               AND ($3 IS NULL OR r.store_id = $3) AND ($4 IS NULL OR r.client_id = $4)
             GROUP BY 1, 2, 3",
        )
        .bind(from)
        .bind(to)
        .bind(store)
        .bind(device)
        .bind(width)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut p95 = Vec::new();
        for metric in ["latency_ms", "ttft_ms"] {
            let rows: Vec<(String, String, String, Option<f64>)> = sqlx::query_as(&format!(
                "WITH a AS (
                    SELECT substr(a.started_at, 1, $5) AS bucket, a.backend, a.provider_model, a.{metric} AS ms
                    FROM attempts a JOIN requests r ON r.id = a.request_id
                    WHERE a.started_at >= $1 AND a.started_at < $2 AND a.outcome <> 'queue_timeout' AND a.{metric} IS NOT NULL
                      AND ($3 IS NULL OR r.store_id = $3) AND ($4 IS NULL OR r.client_id = $4)),
                 ranked AS (
                    SELECT *, ROW_NUMBER() OVER (PARTITION BY bucket, backend, provider_model ORDER BY ms) AS rn,
                              COUNT(*) OVER (PARTITION BY bucket, backend, provider_model) AS n FROM a)
                 SELECT bucket, backend, provider_model, max(CASE WHEN rn = (n * 95 + 99) / 100 THEN ms END)
                 FROM ranked WHERE rn IN ((n * 50 + 99) / 100, (n * 95 + 99) / 100, (n * 99 + 99) / 100)
                 GROUP BY bucket, backend, provider_model ORDER BY bucket, backend, provider_model"
            ))
            .bind(from)
            .bind(to)
            .bind(store)
            .bind(device)
            .bind(width)
            .fetch_all(pool)
            .await
            .unwrap();
            if metric == "latency_ms" {
                p95 = rows
                    .into_iter()
                    .map(|(b, be, m, v)| (b, be, m, v.unwrap_or(0.0)))
                    .collect();
            }
        }
        let requests: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM requests WHERE started_at >= $1 AND started_at < $2
               AND ($3 IS NULL OR store_id = $3) AND ($4 IS NULL OR client_id = $4)",
        )
        .bind(from)
        .bind(to)
        .bind(store)
        .bind(device)
        .fetch_one(pool)
        .await
        .unwrap();
        // the shares: decided, answered, spillover, fallback, refusals per bucket
        type ShareRow = (String, Option<String>, Option<String>, i64, i64, i64, i64);
        let _: Vec<ShareRow> = sqlx::query_as(
            "SELECT substr(started_at, 1, $5), decided_backend, CASE WHEN status = 200 THEN final_backend END, count(*),
                    CAST(sum(CASE WHEN decision = 'spillover' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(sum(CASE WHEN fallback THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(sum(CASE WHEN status = 429 THEN 1 ELSE 0 END) AS BIGINT)
             FROM requests WHERE started_at >= $1 AND started_at < $2
               AND ($3 IS NULL OR store_id = $3) AND ($4 IS NULL OR client_id = $4)
             GROUP BY 1, 2, 3",
        )
        .bind(from)
        .bind(to)
        .bind(store)
        .bind(device)
        .bind(width)
        .fetch_all(pool)
        .await
        .unwrap();
        // the filters' choices
        let _: Vec<String> = sqlx::query_scalar("SELECT DISTINCT backend FROM attempts")
            .fetch_all(pool)
            .await
            .unwrap();
        let _: Vec<String> = sqlx::query_scalar("SELECT DISTINCT provider_model FROM attempts")
            .fetch_all(pool)
            .await
            .unwrap();
        let _: Vec<Option<String>> = sqlx::query_scalar("SELECT DISTINCT store_id FROM requests")
            .fetch_all(pool)
            .await
            .unwrap();
        PeerNumbers {
            attempts: usage.0,
            cost_usd: usage.1,
            requests,
            p95,
        }
    })
}

/// The recent-requests page as before: the page, then each request's attempts by one query
/// each. Answers the attempts read.
pub async fn page_one_query_each(db: &Db) -> usize {
    router::with_db!(db, pool => {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM requests ORDER BY started_at DESC, id DESC LIMIT 50")
                .fetch_all(pool)
                .await
                .unwrap();
        let mut n = 0;
        for id in &ids {
            let attempts: Vec<(String, f64)> = sqlx::query_as(
                "SELECT backend, latency_ms FROM attempts WHERE request_id = $1 ORDER BY n",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .unwrap();
            n += attempts.len();
        }
        n
    })
}

/// Whether the dashboard says what the raw rows say: calls, cost (to rounding: the sums add
/// millions of terms in another order), requests, and every p95 the upper edge of the bin of
/// the exact value.
pub fn agree(d: &Dashboard, p: &PeerNumbers) -> String {
    let attempts: i64 = d.usage.iter().map(|u| u.attempts).sum();
    let cost: f64 = d.usage.iter().map(|u| u.cost_usd).sum();
    let requests: i64 = d.shares.iter().map(|s| s.requests).sum();
    let mut p95_ok = d.latency.len() == p.p95.len();
    for (l, (_, backend, model, exact)) in d.latency.iter().zip(&p.p95) {
        let edge = router::rollup::upper_ms(router::rollup::bin_of(*exact));
        // (parsed back from JSON: to the last bits)
        p95_ok &= l.backend == *backend
            && l.model == *model
            && l.p95_ms.is_some_and(|p| (p / edge - 1.0).abs() < 1e-12);
    }
    let same = attempts == p.attempts
        && (cost - p.cost_usd).abs() <= 1e-9 * p.cost_usd.abs().max(1.0)
        && requests == p.requests
        && p95_ok;
    format!(
        "{} (calls {attempts} / {}, requests {requests} / {}, p95 points {})",
        if same { "agree" } else { "DIFFER" },
        p.attempts,
        p.requests,
        d.latency.len()
    )
}
