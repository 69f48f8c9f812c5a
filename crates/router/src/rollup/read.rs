//! The dashboard's series, read from the rollups for one window of whole buckets (the recent
//! requests are `page`).
//!
//! Filters: `backend` and `model` narrow the usage and latency series; `store` and `device`
//! narrow every series. The shares (the routing decision against the calls made) compare
//! backends, so a backend or model filter leaves them whole.

use std::collections::BTreeMap;

use protocol::admin::{
    BackendCount, Bucket, Dashboard, DashboardQuery, DeviceRef, FilterChoices, LatencyPoint,
    QueryWindow, SharePoint, UsagePoint,
};
use sqlx::Row;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{percentile, DAY_S, HOUR_S};

/// The longest range a dashboard covers.
pub const MAX_DAYS: i64 = 400;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A query value that cannot be used, with the reason (400 `invalid_request`).
    #[error("{0}")]
    Invalid(String),
    #[error("the ledger query failed: {0}")]
    Storage(#[from] sqlx::Error),
}

/// `[from_s, to_s)` in unix seconds, whole buckets of `width_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub bucket: Bucket,
    pub width_s: i64,
    pub from_s: i64,
    pub to_s: i64,
}

pub(super) fn parse_time(name: &str, text: &str) -> Result<OffsetDateTime, ReadError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        ReadError::Invalid(format!(
            "{name} is not an RFC 3339 time (like 2026-05-01T00:00:00Z): {text:?}"
        ))
    })
}

/// Unix seconds as RFC 3339, UTC.
pub fn rfc3339(unix_s: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_s)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Unix seconds as the ledger's text compares them: `YYYY-MM-DDTHH:MM:SS` without the zone,
/// which sorts before every time of that second (`…:SSZ`, `…:SS.5Z`) and after the second before.
pub(super) fn ledger_bound(unix_s: i64) -> String {
    rfc3339(unix_s).trim_end_matches('Z').to_owned()
}

impl Window {
    /// The window of a query at `now`: `to` (default now) rounded up and `from` (default 24 h
    /// before `to`) rounded down to whole buckets.
    pub fn of(query: &DashboardQuery, now: OffsetDateTime) -> Result<Self, ReadError> {
        let bucket = query.bucket.unwrap_or_default();
        let width_s = match bucket {
            Bucket::Hour => HOUR_S,
            Bucket::Day => DAY_S,
        };
        let to = query
            .to
            .as_deref()
            .map(|t| parse_time("to", t))
            .transpose()?
            .unwrap_or(now);
        let from = query
            .from
            .as_deref()
            .map(|t| parse_time("from", t))
            .transpose()?
            .unwrap_or(to - time::Duration::days(1));
        if from >= to {
            return Err(ReadError::Invalid(format!(
                "from ({}) must be before to ({})",
                from.format(&Rfc3339).unwrap_or_default(),
                to.format(&Rfc3339).unwrap_or_default()
            )));
        }
        if to - from > time::Duration::days(MAX_DAYS) {
            return Err(ReadError::Invalid(format!(
                "the range is {} days; a dashboard covers {MAX_DAYS} days at most",
                (to - from).whole_days()
            )));
        }
        let (from, to) = (from.unix_timestamp(), to.unix_timestamp());
        let ceil = to.div_euclid(width_s) * width_s;
        Ok(Self {
            bucket,
            width_s,
            from_s: from.div_euclid(width_s) * width_s,
            to_s: if ceil < to { ceil + width_s } else { ceil },
        })
    }

    pub fn wire(&self) -> QueryWindow {
        QueryWindow {
            from: rfc3339(self.from_s),
            to: rfc3339(self.to_s),
            bucket: self.bucket,
        }
    }
}

/// The filters, with empty values as none.
#[derive(Debug, Clone, Copy)]
pub(super) struct Filters<'a> {
    pub backend: Option<&'a str>,
    pub model: Option<&'a str>,
    pub store: Option<&'a str>,
    pub device: Option<i64>,
}

impl<'a> Filters<'a> {
    pub(super) fn of(query: &'a DashboardQuery) -> Self {
        let some = |v: &'a Option<String>| v.as_deref().filter(|v| !v.is_empty());
        Self {
            backend: some(&query.backend),
            model: some(&query.model),
            store: some(&query.store),
            device: query.device,
        }
    }
}

/// Every series of the window, and the filters' choices.
pub async fn dashboard(
    db: &crate::db::Db,
    query: &DashboardQuery,
    now: OffsetDateTime,
) -> Result<Dashboard, ReadError> {
    let window = Window::of(query, now)?;
    let (usage, latency, shares, choices) = tokio::try_join!(
        usage(db, &window, query),
        latency(db, &window, query),
        shares(db, &window, query),
        choices(db),
    )?;
    Ok(Dashboard {
        window: window.wire(),
        usage,
        latency,
        shares,
        choices,
    })
}

/// Calls, tokens and cost per bucket × backend × provider model.
pub async fn usage(
    db: &crate::db::Db,
    window: &Window,
    query: &DashboardQuery,
) -> Result<Vec<UsagePoint>, ReadError> {
    crate::with_db!(db, pool => {
        let f = Filters::of(query);
        let rows = sqlx::query(
            "SELECT start_s, backend, provider_model, CAST(sum(attempts) AS BIGINT), CAST(sum(ok) AS BIGINT), CAST(sum(errors) AS BIGINT), CAST(sum(timeouts) AS BIGINT), CAST(sum(input_tokens) AS BIGINT),
                CAST(sum(output_tokens) AS BIGINT), CAST(sum(cached_tokens) AS BIGINT), CAST(sum(reasoning_tokens) AS BIGINT), CAST(sum(image_tokens) AS BIGINT), sum(cost_usd)
         FROM usage_rollup
         WHERE width_s = $1 AND start_s >= $2 AND start_s < $3 AND ($4 IS NULL OR backend = $4) AND ($5 IS NULL OR provider_model = $5)
           AND ($6 IS NULL OR store_id = $6) AND ($7 IS NULL OR client_id = $7)
         GROUP BY start_s, backend, provider_model ORDER BY start_s, backend, provider_model",
        )
        .bind(window.width_s)
        .bind(window.from_s)
        .bind(window.to_s)
        .bind(f.backend)
        .bind(f.model)
        .bind(f.store)
        .bind(f.device)
        .fetch_all(pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| UsagePoint {
                bucket: rfc3339(r.get(0)),
                backend: r.get(1),
                model: r.get(2),
                attempts: r.get(3),
                ok: r.get(4),
                errors: r.get(5),
                timeouts: r.get(6),
                input_tokens: r.get(7),
                output_tokens: r.get(8),
                cached_tokens: r.get(9),
                reasoning_tokens: r.get(10),
                image_tokens: r.get(11),
                cost_usd: r.get(12),
            })
            .collect())
    })
}

/// Latency and time-to-first-token percentiles per bucket × backend × provider model, from the
/// histograms (summed over stores and clients already when neither filters). Each histogram
/// comes as one row, its bins as text (`bin:n,…`): a week by hour is some 10⁵ bins, and SQLite
/// concatenates them far faster than they cross to Rust one row each.
pub async fn latency(
    db: &crate::db::Db,
    window: &Window,
    query: &DashboardQuery,
) -> Result<Vec<LatencyPoint>, ReadError> {
    crate::with_db!(db, pool => {
        let f = Filters::of(query);
        let sql = if f.store.is_none() && f.device.is_none() {
            "SELECT start_s, backend, provider_model, metric, BINS FROM latency_rollup_all
         WHERE width_s = $1 AND start_s >= $2 AND start_s < $3 AND ($4 IS NULL OR backend = $4) AND ($5 IS NULL OR provider_model = $5)
         GROUP BY start_s, backend, provider_model, metric ORDER BY start_s, backend, provider_model, metric"
        } else {
            "SELECT start_s, backend, provider_model, metric, BINS FROM (
             SELECT start_s, backend, provider_model, metric, bin, CAST(sum(n) AS BIGINT) AS n FROM latency_rollup
             WHERE width_s = $1 AND start_s >= $2 AND start_s < $3 AND ($4 IS NULL OR backend = $4) AND ($5 IS NULL OR provider_model = $5)
               AND ($6 IS NULL OR store_id = $6) AND ($7 IS NULL OR client_id = $7)
             GROUP BY start_s, backend, provider_model, metric, bin) AS h
         GROUP BY start_s, backend, provider_model, metric ORDER BY start_s, backend, provider_model, metric"
        };
        // one text per histogram: SQLite's group_concat, PostgreSQL's string_agg
        let bins = if db.is_postgres() {
            "string_agg(bin || ':' || n, ',')"
        } else {
            "group_concat(bin || ':' || n)"
        };
        let sql = sql.replace("BINS", bins);
        let mut q = sqlx::query_as::<_, (i64, String, String, String, String)>(&sql)
            .bind(window.width_s)
            .bind(window.from_s)
            .bind(window.to_s)
            .bind(f.backend)
            .bind(f.model);
        if f.store.is_some() || f.device.is_some() {
            q = q.bind(f.store).bind(f.device);
        }
        let rows = q.fetch_all(pool).await?;
        let mut points: Vec<LatencyPoint> = Vec::new();
        for (start, backend, model, metric, bins) in rows {
            let mut bins = parse_bins(&bins)?;
            bins.sort_unstable();
            let bucket = rfc3339(start);
            let fresh = points
                .last()
                .is_none_or(|p| p.bucket != bucket || p.backend != backend || p.model != model);
            if fresh {
                points.push(LatencyPoint {
                    bucket,
                    backend,
                    model,
                    calls: 0,
                    p50_ms: None,
                    p95_ms: None,
                    p99_ms: None,
                    streamed: 0,
                    ttft_p50_ms: None,
                    ttft_p95_ms: None,
                    ttft_p99_ms: None,
                });
            }
            let Some(point) = points.last_mut() else {
                continue;
            };
            let n = bins.iter().map(|(_, n)| n).sum();
            let p = [50, 95, 99].map(|p| percentile(&bins, p));
            if metric == "ttft" {
                point.streamed = n;
                [point.ttft_p50_ms, point.ttft_p95_ms, point.ttft_p99_ms] = p;
            } else {
                point.calls = n;
                [point.p50_ms, point.p95_ms, point.p99_ms] = p;
            }
        }
        Ok(points)
    })
}

/// A histogram as `group_concat` gives it: `bin:n,bin:n,…`.
fn parse_bins(text: &str) -> Result<Vec<(usize, i64)>, ReadError> {
    text.split(',')
        .map(|pair| {
            let (bin, n) = pair.split_once(':')?;
            Some((bin.parse().ok()?, n.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            ReadError::Storage(sqlx::Error::Protocol(format!(
                "a latency histogram does not read: {text:.40}"
            )))
        })
}

/// The routing decision against who answered and the calls made, per bucket.
pub async fn shares(
    db: &crate::db::Db,
    window: &Window,
    query: &DashboardQuery,
) -> Result<Vec<SharePoint>, ReadError> {
    crate::with_db!(db, pool => {
        let f = Filters::of(query);
        /// start, decided, answered, requests, spillover, fallback, 429, 503
        type RequestSums = (i64, String, String, i64, i64, i64, i64, i64);
        let requests: Vec<RequestSums> = sqlx::query_as(
            "SELECT start_s, decided_backend, answered_backend, CAST(sum(requests) AS BIGINT), CAST(sum(spillover) AS BIGINT), CAST(sum(fallback) AS BIGINT), CAST(sum(refused_429) AS BIGINT), CAST(sum(refused_503) AS BIGINT)
         FROM request_rollup
         WHERE width_s = $1 AND start_s >= $2 AND start_s < $3 AND ($4 IS NULL OR store_id = $4) AND ($5 IS NULL OR client_id = $5)
         GROUP BY start_s, decided_backend, answered_backend",
        )
        .bind(window.width_s)
        .bind(window.from_s)
        .bind(window.to_s)
        .bind(f.store)
        .bind(f.device)
        .fetch_all(pool)
        .await?;
        let calls: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT start_s, backend, CAST(sum(attempts) AS BIGINT), CAST(sum(timeouts) AS BIGINT) FROM usage_rollup
         WHERE width_s = $1 AND start_s >= $2 AND start_s < $3 AND ($4 IS NULL OR store_id = $4) AND ($5 IS NULL OR client_id = $5)
         GROUP BY start_s, backend",
        )
        .bind(window.width_s)
        .bind(window.from_s)
        .bind(window.to_s)
        .bind(f.store)
        .bind(f.device)
        .fetch_all(pool)
        .await?;

        #[derive(Default)]
        struct Sums {
            point: Option<SharePoint>,
            decided: BTreeMap<String, i64>,
            answered: BTreeMap<String, i64>,
            calls: BTreeMap<String, i64>,
        }
        let mut buckets: BTreeMap<i64, Sums> = BTreeMap::new();
        let empty = |start: i64| SharePoint {
            bucket: rfc3339(start),
            requests: 0,
            decided: Vec::new(),
            answered: Vec::new(),
            calls: Vec::new(),
            spillover: 0,
            fallback: 0,
            timeouts: 0,
            refused_429: 0,
            refused_503: 0,
        };
        for (start, decided, answered, n, spillover, fallback, r429, r503) in requests {
            let sums = buckets.entry(start).or_default();
            let point = sums.point.get_or_insert_with(|| empty(start));
            point.requests += n;
            point.spillover += spillover;
            point.fallback += fallback;
            point.refused_429 += r429;
            point.refused_503 += r503;
            if !decided.is_empty() {
                *sums.decided.entry(decided).or_default() += n;
            }
            if !answered.is_empty() {
                *sums.answered.entry(answered).or_default() += n;
            }
        }
        for (start, backend, n, timeouts) in calls {
            let sums = buckets.entry(start).or_default();
            let point = sums.point.get_or_insert_with(|| empty(start));
            point.timeouts += timeouts;
            *sums.calls.entry(backend).or_default() += n;
        }
        let counts = |map: BTreeMap<String, i64>| {
            map.into_iter()
                .map(|(backend, n)| BackendCount { backend, n })
                .collect()
        };
        Ok(buckets
            .into_values()
            .filter_map(|sums| {
                let mut point = sums.point?;
                point.decided = counts(sums.decided);
                point.answered = counts(sums.answered);
                point.calls = counts(sums.calls);
                Some(point)
            })
            .collect())
    })
}

/// Every backend, model, store and device seen in the ledger.
pub async fn choices(db: &crate::db::Db) -> Result<FilterChoices, ReadError> {
    crate::with_db!(db, pool => {
        let backends = sqlx::query_scalar(
            "SELECT DISTINCT backend FROM usage_rollup WHERE width_s = 86400 ORDER BY backend",
        )
        .fetch_all(pool)
        .await?;
        let models = sqlx::query_scalar(
            "SELECT DISTINCT provider_model FROM usage_rollup WHERE width_s = 86400 ORDER BY provider_model",
        )
        .fetch_all(pool)
        .await?;
        let stores = sqlx::query_scalar(
            "SELECT DISTINCT store_id FROM request_rollup WHERE width_s = 86400 AND store_id <> '' ORDER BY store_id",
        )
        .fetch_all(pool)
        .await?;
        let devices = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, name FROM clients WHERE id IN (SELECT DISTINCT client_id FROM request_rollup WHERE width_s = 86400) ORDER BY id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(id, name)| DeviceRef { id, name })
        .collect();
        Ok(FilterChoices {
            backends,
            models,
            stores,
            devices,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    fn query(from: Option<&str>, to: Option<&str>, bucket: Option<Bucket>) -> DashboardQuery {
        DashboardQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            bucket,
            ..DashboardQuery::default()
        }
    }

    #[test]
    fn a_window_covers_whole_buckets() {
        let now = at("2026-05-03T10:20:00Z");
        let w = Window::of(&query(None, None, None), now).map(|w| w.wire());
        assert_eq!(
            w.ok(),
            Some(QueryWindow {
                from: "2026-05-02T10:00:00Z".into(),
                to: "2026-05-03T11:00:00Z".into(),
                bucket: Bucket::Hour
            })
        );
        let w = Window::of(
            &query(
                Some("2026-04-01T01:00:00+02:00"),
                Some("2026-04-03T00:00:00Z"),
                Some(Bucket::Day),
            ),
            now,
        )
        .map(|w| w.wire());
        assert_eq!(
            w.ok().map(|w| (w.from, w.to)),
            Some(("2026-03-31T00:00:00Z".into(), "2026-04-03T00:00:00Z".into()))
        );
    }

    #[test]
    fn bad_windows_say_why() {
        let now = at("2026-05-03T10:20:00Z");
        let message = |q: DashboardQuery| match Window::of(&q, now) {
            Err(ReadError::Invalid(m)) => m,
            other => format!("not refused: {other:?}"),
        };
        assert!(message(query(Some("yesterday"), None, None))
            .starts_with("from is not an RFC 3339 time"));
        assert!(message(query(None, Some("2026-13-01T00:00:00Z"), None)).starts_with("to is not"));
        assert!(message(query(
            Some("2026-05-02T00:00:00Z"),
            Some("2026-05-02T00:00:00Z"),
            None
        ))
        .contains("must be before"));
        assert!(message(query(
            Some("2025-01-01T00:00:00Z"),
            Some("2026-05-02T00:00:00Z"),
            None
        ))
        .contains("400 days at most"));
    }
}
