//! The dashboards' rollups (`migrations/0008_rollups.sql`): calls, tokens and cost, latency
//! histograms and the routing shares, summed per hour and per UTC day × backend × provider
//! model × store × client, so a dashboard reads thousands of rows, not the million of the
//! ledger.
//!
//! They are kept by the ledger's writer in the transaction that writes the rows they sum: the
//! batch is aggregated here, in Rust, and upserted (`INSERT … ON CONFLICT DO UPDATE`), rather
//! than by SQLite triggers, because the same code will write them on PostgreSQL, and a batch of
//! 256 requests becomes a handful of multi-row upserts rather than a trigger's statements for
//! every row. The migration fills them from the rows written before it with the same
//! definitions in SQL.
//!
//! `read` answers the dashboards from them; `page` reads the recent requests.

pub mod page;
pub mod read;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use sqlx::QueryBuilder;

use crate::ledger::RequestRow;

/// An hour and a UTC day, in seconds: the two widths of a bucket.
pub const HOUR_S: i64 = 3600;
pub const DAY_S: i64 = 86_400;
const WIDTHS: [i64; 2] = [HOUR_S, DAY_S];

/// The highest latency bin (`upper_ms(1200)` ≈ 243 days); longer values are counted in it.
pub const TOP_BIN: usize = 1200;

/// The upper edges of the latency bins: `upper(0) = 1 ms`, `upper(k) = upper(k-1) · 51 / 50`
/// (bins 2 % wide), by the same two IEEE operations as the migration's `latency_bins`.
static UPPER_MS: LazyLock<Vec<f64>> = LazyLock::new(|| {
    let mut edges = Vec::with_capacity(TOP_BIN + 1);
    let mut edge = 1.0_f64;
    for _ in 0..=TOP_BIN {
        edges.push(edge);
        edge = edge * 51.0 / 50.0;
    }
    edges
});

/// The upper edge of bin `k` in milliseconds (≈ 1.02^k); the top bin's for `k` past it.
pub fn upper_ms(bin: usize) -> f64 {
    UPPER_MS[bin.min(TOP_BIN)]
}

/// The bin of a value in milliseconds: the first whose upper edge is at least the value (1 ms
/// or less: bin 0; past the top bin: the top bin).
pub fn bin_of(ms: f64) -> usize {
    if ms.is_nan() || ms <= 1.0 {
        return 0;
    }
    UPPER_MS.partition_point(|&edge| edge < ms).min(TOP_BIN)
}

/// The nearest-rank percentile `p` (in percent) of a histogram given as `(bin, count)` in
/// ascending bins: the upper edge of the bin holding the value of rank ⌈p·n/100⌉. `None` when
/// it is empty.
pub fn percentile(bins: &[(usize, i64)], p: i64) -> Option<f64> {
    let total: i64 = bins.iter().map(|(_, n)| n).sum();
    if total <= 0 {
        return None;
    }
    let rank = (total * p + 99) / 100;
    let mut seen = 0;
    for &(bin, n) in bins {
        seen += n;
        if seen >= rank.max(1) {
            return Some(upper_ms(bin));
        }
    }
    bins.last().map(|&(bin, _)| upper_ms(bin))
}

/// A time in the ledger's format (RFC 3339) as unix seconds.
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// `(width_s, start_s, store_id, client_id)`: the part of every key that is not a backend.
type Source = (i64, i64, String, i64);
type UsageKey = (Source, String, String);
type LatencyKey = (Source, String, String, &'static str, usize);
type LatencyAllKey = (i64, i64, String, String, &'static str, usize);
/// `(source, decided_backend, answered_backend, decision)`
type RequestKey = (Source, String, String, &'static str);

#[derive(Debug, Default, Clone, Copy)]
struct UsageSums {
    attempts: i64,
    ok: i64,
    errors: i64,
    timeouts: i64,
    input: i64,
    output: i64,
    cached: i64,
    reasoning: i64,
    image: i64,
    cost_usd: f64,
}

#[derive(Debug, Default, Clone, Copy)]
struct RequestSums {
    requests: i64,
    spillover: i64,
    fallback: i64,
    refused_429: i64,
    refused_503: i64,
}

/// One batch of requests, summed per rollup key; [`Rollup::write`] adds it to the tables.
/// Ordered maps: every writer upserts rows in one key order, so two replicas' batches on the same
/// hour's rows wait for each other on PostgreSQL instead of deadlocking.
#[derive(Debug, Default)]
pub struct Rollup {
    usage: BTreeMap<UsageKey, UsageSums>,
    latency: BTreeMap<LatencyKey, i64>,
    latency_all: BTreeMap<LatencyAllKey, i64>,
    requests: BTreeMap<RequestKey, RequestSums>,
}

/// Upserts per statement at most (SQLite allows 32766 bound values in one). The statements vary
/// in length, so they are not kept prepared: they would push the ledger's own inserts out of the
/// connection's statement cache.
const ROWS_PER_STATEMENT: usize = 500;

impl Rollup {
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.usage.is_empty()
    }

    /// Adds a request and its attempts (as the ledger writes them). A time that does not parse
    /// (never from the router's own clock) leaves that row out of the rollups, with an error
    /// in the log.
    pub fn add(&mut self, r: &RequestRow) {
        let store = r.store_id.clone().unwrap_or_default();
        let client = r.client_id;
        let Some(at) = unix_seconds(&r.started_at) else {
            tracing::error!(started_at = %r.started_at, id = %r.id, "a request's time does not parse: left out of the rollups");
            return;
        };
        let answered = match (r.status, &r.final_backend) {
            (200, Some(backend)) => backend.clone(),
            _ => String::new(),
        };
        let fallback = r.final_backend.is_some() && r.final_backend != r.decided_backend;
        for width in WIDTHS {
            let key = (
                (width, at.div_euclid(width) * width, store.clone(), client),
                r.decided_backend.clone().unwrap_or_default(),
                answered.clone(),
                r.decision,
            );
            let sums = self.requests.entry(key).or_default();
            sums.requests += 1;
            sums.spillover += i64::from(r.decision == "spillover");
            sums.fallback += i64::from(fallback);
            sums.refused_429 += i64::from(r.status == 429);
            sums.refused_503 += i64::from(r.status == 503);
        }
        for a in r.attempts.iter().filter(|a| a.outcome != "queue_timeout") {
            let Some(at) = unix_seconds(&a.started_at) else {
                tracing::error!(started_at = %a.started_at, id = %r.id, "an attempt's time does not parse: left out of the rollups");
                continue;
            };
            let bins = [
                Some(("latency", bin_of(a.latency_ms))),
                a.ttft_ms.map(|ms| ("ttft", bin_of(ms))),
            ];
            for width in WIDTHS {
                let start = at.div_euclid(width) * width;
                let source = (width, start, store.clone(), client);
                let sums = self
                    .usage
                    .entry((source.clone(), a.backend.clone(), a.provider_model.clone()))
                    .or_default();
                sums.attempts += 1;
                sums.ok += i64::from(a.outcome == "ok");
                sums.errors += i64::from(a.outcome != "ok");
                sums.timeouts += i64::from(a.outcome == "timeout");
                sums.input += a.usage.input.unwrap_or(0);
                sums.output += a.usage.output.unwrap_or(0);
                sums.cached += a.usage.cached.unwrap_or(0);
                sums.reasoning += a.usage.reasoning.unwrap_or(0);
                sums.image += a.usage.image.unwrap_or(0);
                sums.cost_usd += a.cost_usd;
                for (metric, bin) in bins.iter().flatten().copied() {
                    *self
                        .latency
                        .entry((
                            source.clone(),
                            a.backend.clone(),
                            a.provider_model.clone(),
                            metric,
                            bin,
                        ))
                        .or_default() += 1;
                    *self
                        .latency_all
                        .entry((
                            width,
                            start,
                            a.backend.clone(),
                            a.provider_model.clone(),
                            metric,
                            bin,
                        ))
                        .or_default() += 1;
                }
            }
        }
    }

    /// Adds the batch to the rollup tables (in the caller's transaction), on either engine.
    pub async fn write<C: RollupTarget>(&self, conn: &mut C) -> Result<(), sqlx::Error> {
        conn.write_rollups(self).await
    }
}

/// A connection the rollups can be written on: SQLite's and PostgreSQL's, the same statements
/// (multi-row upserts with `$N` placeholders) compiled for each.
pub trait RollupTarget {
    fn write_rollups<'a>(
        &'a mut self,
        rollup: &'a Rollup,
    ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'a;
}

macro_rules! rollup_target {
    ($conn:ty, $db:ty) => {
        impl RollupTarget for $conn {
            fn write_rollups<'a>(
                &'a mut self,
                rollup: &'a Rollup,
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'a {
                async move {
                    let conn = self;
                let usage: Vec<_> = rollup.usage.iter().collect();
                for chunk in usage.chunks(ROWS_PER_STATEMENT) {
                    let mut q: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO usage_rollup (width_s, start_s, store_id, client_id, backend, provider_model, attempts, ok, errors,
                            timeouts, input_tokens, output_tokens, cached_tokens, reasoning_tokens, image_tokens, cost_usd) ",
                    );
                    q.push_values(
                        chunk,
                        |mut row, (((width, start, store, client), backend, model), s)| {
                            row.push_bind(*width)
                                .push_bind(*start)
                                .push_bind(store)
                                .push_bind(*client)
                                .push_bind(backend)
                                .push_bind(model)
                                .push_bind(s.attempts)
                                .push_bind(s.ok)
                                .push_bind(s.errors)
                                .push_bind(s.timeouts)
                                .push_bind(s.input)
                                .push_bind(s.output)
                                .push_bind(s.cached)
                                .push_bind(s.reasoning)
                                .push_bind(s.image)
                                .push_bind(s.cost_usd);
                        },
                    );
                    q.push(
                        " ON CONFLICT (width_s, start_s, backend, provider_model, store_id, client_id) DO UPDATE SET
                            attempts = usage_rollup.attempts + excluded.attempts, ok = usage_rollup.ok + excluded.ok, errors = usage_rollup.errors + excluded.errors,
                            timeouts = usage_rollup.timeouts + excluded.timeouts, input_tokens = usage_rollup.input_tokens + excluded.input_tokens,
                            output_tokens = usage_rollup.output_tokens + excluded.output_tokens, cached_tokens = usage_rollup.cached_tokens + excluded.cached_tokens,
                            reasoning_tokens = usage_rollup.reasoning_tokens + excluded.reasoning_tokens, image_tokens = usage_rollup.image_tokens + excluded.image_tokens,
                            cost_usd = usage_rollup.cost_usd + excluded.cost_usd",
                    );
                    q.build().persistent(false).execute(&mut *conn).await?;
                }
                let latency: Vec<_> = rollup.latency.iter().collect();
                for chunk in latency.chunks(ROWS_PER_STATEMENT) {
                    let mut q: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO latency_rollup (width_s, start_s, store_id, client_id, backend, provider_model, metric, bin, n) ",
                    );
                    q.push_values(
                        chunk,
                        |mut row, (((width, start, store, client), backend, model, metric, bin), n)| {
                            row.push_bind(*width)
                                .push_bind(*start)
                                .push_bind(store)
                                .push_bind(*client)
                                .push_bind(backend)
                                .push_bind(model)
                                .push_bind(*metric)
                                .push_bind(*bin as i64)
                                .push_bind(**n);
                        },
                    );
                    q.push(
                        " ON CONFLICT (width_s, start_s, backend, provider_model, store_id, client_id, metric, bin)
                          DO UPDATE SET n = latency_rollup.n + excluded.n",
                    );
                    q.build().persistent(false).execute(&mut *conn).await?;
                }
                let latency_all: Vec<_> = rollup.latency_all.iter().collect();
                for chunk in latency_all.chunks(ROWS_PER_STATEMENT) {
                    let mut q: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO latency_rollup_all (width_s, start_s, backend, provider_model, metric, bin, n) ",
                    );
                    q.push_values(
                        chunk,
                        |mut row, ((width, start, backend, model, metric, bin), n)| {
                            row.push_bind(*width)
                                .push_bind(*start)
                                .push_bind(backend)
                                .push_bind(model)
                                .push_bind(*metric)
                                .push_bind(*bin as i64)
                                .push_bind(**n);
                        },
                    );
                    q.push(
                        " ON CONFLICT (width_s, start_s, backend, provider_model, metric, bin) DO UPDATE SET n = latency_rollup_all.n + excluded.n",
                    );
                    q.build().persistent(false).execute(&mut *conn).await?;
                }
                let requests: Vec<_> = rollup.requests.iter().collect();
                for chunk in requests.chunks(ROWS_PER_STATEMENT) {
                    let mut q: QueryBuilder<'_, $db> = QueryBuilder::new(
                        "INSERT INTO request_rollup (width_s, start_s, store_id, client_id, decided_backend, answered_backend, decision,
                            requests, spillover, fallback, refused_429, refused_503) ",
                    );
                    q.push_values(
                        chunk,
                        |mut row, (((width, start, store, client), decided, answered, decision), s)| {
                            row.push_bind(*width)
                                .push_bind(*start)
                                .push_bind(store)
                                .push_bind(*client)
                                .push_bind(decided)
                                .push_bind(answered)
                                .push_bind(*decision)
                                .push_bind(s.requests)
                                .push_bind(s.spillover)
                                .push_bind(s.fallback)
                                .push_bind(s.refused_429)
                                .push_bind(s.refused_503);
                        },
                    );
                    q.push(
                        " ON CONFLICT (width_s, start_s, store_id, client_id, decided_backend, answered_backend, decision) DO UPDATE SET
                            requests = request_rollup.requests + excluded.requests, spillover = request_rollup.spillover + excluded.spillover,
                            fallback = request_rollup.fallback + excluded.fallback, refused_429 = request_rollup.refused_429 + excluded.refused_429,
                            refused_503 = request_rollup.refused_503 + excluded.refused_503",
                    );
                    q.build().persistent(false).execute(&mut *conn).await?;
                }
                    Ok(())
                }
            }
        }
    };
}

rollup_target!(sqlx::SqliteConnection, sqlx::Sqlite);
rollup_target!(sqlx::PgConnection, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_two_percent_wide_and_hold_their_upper_edge() {
        assert_eq!(bin_of(0.0), 0);
        assert_eq!(bin_of(1.0), 0);
        assert_eq!(bin_of(1.01), 1);
        assert_eq!(bin_of(1.02), 1);
        assert_eq!(bin_of(1.0201), 2);
        for k in [1_usize, 10, 100, 500, 1000] {
            let edge = upper_ms(k);
            assert!((edge / 1.02_f64.powi(k as i32) - 1.0).abs() < 1e-12, "{k}");
            assert_eq!(bin_of(edge), k, "the upper edge is in its bin");
            assert_eq!(bin_of(edge * (1.0 + 1e-12)), k + 1, "just past it is not");
        }
        assert_eq!(bin_of(1e30), TOP_BIN);
    }

    #[test]
    fn percentiles_are_nearest_rank_upper_edges() {
        // 100 values: 90 in bin 10, 9 in bin 20, 1 in bin 30
        let bins = [(10, 90), (20, 9), (30, 1)];
        assert_eq!(percentile(&bins, 50), Some(upper_ms(10)));
        assert_eq!(percentile(&bins, 90), Some(upper_ms(10)));
        assert_eq!(percentile(&bins, 95), Some(upper_ms(20)));
        assert_eq!(percentile(&bins, 99), Some(upper_ms(20)));
        assert_eq!(percentile(&bins, 100), Some(upper_ms(30)));
        assert_eq!(percentile(&[(3, 1)], 50), Some(upper_ms(3)));
        assert_eq!(percentile(&[], 50), None);
    }
}
