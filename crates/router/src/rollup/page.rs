//! The recent requests of the admin screen: a page of the ledger's rows, newest first, with
//! their attempts fetched in one query; `next_before` pages back.

use std::collections::HashMap;

use protocol::admin::{AttemptView, DashboardQuery, RequestPage, RequestView};
use sqlx::{QueryBuilder, Row};
use time::OffsetDateTime;

use super::read::{ledger_bound, parse_time, Filters, ReadError, Window};

/// Requests per page at most (and by default, 50).
pub const MAX_PAGE: u32 = 500;
pub const DEFAULT_PAGE: u32 = 50;

/// Where a page of requests starts: before a time, or after a request of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Before {
    /// Requests started before this (the ledger's text of a whole second).
    Time(String),
    /// Requests after this one in the page's order (`started_at`, `id`, both descending).
    Request { started_at: String, id: String },
}

/// The separator of a `next_before` cursor: `<started_at>~<id>`.
const CURSOR: char = '~';

fn parse_before(text: &str) -> Result<Before, ReadError> {
    if let Some((started_at, id)) = text.split_once(CURSOR) {
        parse_time("before", started_at)?;
        return Ok(Before::Request {
            started_at: started_at.to_owned(),
            id: id.to_owned(),
        });
    }
    let at = parse_time("before", text)?;
    // a fraction of a second rounds up: the requests of that second up to it are kept
    let whole = at.unix_timestamp() + i64::from(at.nanosecond() > 0);
    Ok(Before::Time(ledger_bound(whole)))
}

/// A page of requests, newest first, with their attempts (one query for all of them).
/// `before`: an RFC 3339 time, or a page's `next_before`; `limit`: 1 to 500.
pub async fn requests(
    db: &crate::db::Db,
    query: &DashboardQuery,
    before: Option<&str>,
    limit: Option<u32>,
    now: OffsetDateTime,
) -> Result<RequestPage, ReadError> {
    crate::with_db!(db, pool => {
        let window = Window::of(query, now)?;
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ReadError::Invalid(format!(
                "limit is 1 to {MAX_PAGE}, not {limit}"
            )));
        }
        let before = before
            .filter(|b| !b.is_empty())
            .map(parse_before)
            .transpose()?;
        let f = Filters::of(query);
        let mut q: QueryBuilder<'_, _> = QueryBuilder::new(
            "SELECT id, client_id, store_id, requested_model, stream, decision, decision_reason, decided_backend, final_backend,
                fallback, status, error_code, started_at, latency_ms, ttft_ms, cost_usd
         FROM requests WHERE started_at >= ",
        );
        q.push_bind(ledger_bound(window.from_s));
        // one upper bound on the index: the window's end or the page's start, whichever is first
        let to = ledger_bound(window.to_s);
        match &before {
            Some(Before::Time(at)) => {
                q.push(" AND started_at < ").push_bind(at.min(&to).clone());
            }
            Some(Before::Request { started_at, id }) if *started_at < to => {
                q.push(" AND started_at <= ")
                    .push_bind(started_at.clone())
                    .push(" AND (started_at < ")
                    .push_bind(started_at.clone())
                    .push(" OR id < ")
                    .push_bind(id.clone())
                    .push(")");
            }
            _ => {
                q.push(" AND started_at < ").push_bind(to);
            }
        }
        if let Some(device) = f.device {
            q.push(" AND client_id = ").push_bind(device);
        }
        if let Some(store) = f.store {
            q.push(" AND store_id = ").push_bind(store.to_owned());
        }
        if let Some(backend) = f.backend {
            q.push(" AND EXISTS (SELECT 1 FROM attempts a WHERE a.request_id = requests.id AND a.backend = ")
                .push_bind(backend.to_owned())
                .push(")");
        }
        if let Some(model) = f.model {
            q.push(" AND EXISTS (SELECT 1 FROM attempts a WHERE a.request_id = requests.id AND a.provider_model = ")
                .push_bind(model.to_owned())
                .push(")");
        }
        q.push(" ORDER BY started_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(pool).await?;
        let mut page: Vec<RequestView> = rows
            .iter()
            .map(|r| RequestView {
                id: r.get(0),
                device: r.get(1),
                store: r.get(2),
                requested_model: r.get(3),
                stream: r.get(4),
                decision: r.get(5),
                decision_reason: r.get(6),
                decided_backend: r.get(7),
                final_backend: r.get(8),
                fallback: r.get(9),
                status: r.get(10),
                error_code: r.get(11),
                started_at: r.get(12),
                latency_ms: r.get(13),
                ttft_ms: r.get(14),
                cost_usd: r.get(15),
                attempts: Vec::new(),
            })
            .collect();
        if !page.is_empty() {
            let mut q: QueryBuilder<'_, _> = QueryBuilder::new(
                "SELECT request_id, backend, provider_model, outcome, http_status, provider_error, retry_after_ms, queue_wait_ms,
                    latency_ms, ttft_ms, input_tokens, output_tokens, cost_usd
             FROM attempts WHERE request_id IN (",
            );
            let mut ids = q.separated(", ");
            for r in &page {
                ids.push_bind(r.id.clone());
            }
            q.push(") ORDER BY request_id, n");
            let mut attempts: HashMap<String, Vec<AttemptView>> = HashMap::new();
            for a in q.build().persistent(false).fetch_all(pool).await? {
                attempts.entry(a.get(0)).or_default().push(AttemptView {
                    backend: a.get(1),
                    provider_model: a.get(2),
                    outcome: a.get(3),
                    http_status: a.get(4),
                    provider_error: a.get(5),
                    retry_after_ms: a.get(6),
                    queue_wait_ms: a.get(7),
                    latency_ms: a.get(8),
                    ttft_ms: a.get(9),
                    input_tokens: a.get(10),
                    output_tokens: a.get(11),
                    cost_usd: a.get(12),
                });
            }
            for r in &mut page {
                r.attempts = attempts.remove(&r.id).unwrap_or_default();
            }
        }
        let next_before = (page.len() == limit as usize)
            .then(|| {
                page.last()
                    .map(|r| format!("{}{CURSOR}{}", r.started_at, r.id))
            })
            .flatten();
        Ok(RequestPage {
            window: window.wire(),
            requests: page,
            next_before,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_ledger_bound_sorts_around_its_second() {
        let bound = ledger_bound(at("2026-05-01T12:00:00Z").unix_timestamp());
        assert_eq!(bound, "2026-05-01T12:00:00");
        assert!(*"2026-05-01T12:00:00Z" >= *bound.as_str());
        assert!(*"2026-05-01T12:00:00.000001Z" >= *bound.as_str());
        assert!(*"2026-05-01T11:59:59.999Z" < *bound.as_str());
        assert_eq!(
            parse_before("2026-05-01T12:00:00.5Z").ok(),
            Some(Before::Time("2026-05-01T12:00:01".into()))
        );
        assert!(matches!(
            parse_before("2026-05-01T12:00:00.5Z~abc"),
            Ok(Before::Request { .. })
        ));
        assert!(parse_before("soon").is_err());
    }
}
