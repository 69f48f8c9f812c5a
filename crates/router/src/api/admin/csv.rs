//! The admin tables as CSV: the first line is the header, each column named with its unit
//! (`_ms`, `_usd`, `_tokens`; counts bare); the file's exact window is in its name:
//! `usage_20260501T000000Z_20260502T000000Z_hour.csv` (`[from, to)`, UTC), `live_<at>.csv`.

use std::fmt::Write as _;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use protocol::admin::{LatencyPoint, Live, QueryWindow, RequestView, SharePoint, UsagePoint};

/// An RFC 3339 time as a file name takes it: `20260501T000000Z`.
fn stamp(rfc3339: &str) -> String {
    rfc3339
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect()
}

/// A CSV download named after its table and window.
pub(super) fn response(table: &str, window: &QueryWindow, body: String) -> Response {
    let name = format!(
        "{table}_{}_{}_{}.csv",
        stamp(&window.from),
        stamp(&window.to),
        window.bucket
    );
    attachment(&name, body)
}

fn attachment(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

// names of stores, devices and models are typed by people: defused as every export is
use protocol::csv::field;

fn ms(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.3}"))
}

pub(super) fn usage(rows: &[UsagePoint]) -> String {
    let mut out = String::from(
        "bucket,backend,model,attempts,ok,errors,timeouts,input_tokens,output_tokens,cached_tokens,reasoning_tokens,image_tokens,cost_usd\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{:.9}",
            r.bucket,
            field(&r.backend),
            field(&r.model),
            r.attempts,
            r.ok,
            r.errors,
            r.timeouts,
            r.input_tokens,
            r.output_tokens,
            r.cached_tokens,
            r.reasoning_tokens,
            r.image_tokens,
            r.cost_usd
        );
    }
    out
}

pub(super) fn latency(rows: &[LatencyPoint]) -> String {
    let mut out = String::from(
        "bucket,backend,model,calls,p50_ms,p95_ms,p99_ms,streamed,ttft_p50_ms,ttft_p95_ms,ttft_p99_ms\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            r.bucket,
            field(&r.backend),
            field(&r.model),
            r.calls,
            ms(r.p50_ms),
            ms(r.p95_ms),
            ms(r.p99_ms),
            r.streamed,
            ms(r.ttft_p50_ms),
            ms(r.ttft_p95_ms),
            ms(r.ttft_p99_ms)
        );
    }
    out
}

/// Per bucket, a row for all backends (`backend` empty: requests, spillover, fallback,
/// timeouts, refusals), then a row per backend (requests decided for it, answered by it, calls).
pub(super) fn shares(rows: &[SharePoint]) -> String {
    let mut out = String::from(
        "bucket,backend,requests,decided_requests,answered_requests,calls,spillover,fallback,timeouts,refused_429,refused_503\n",
    );
    for p in rows {
        let _ = writeln!(
            out,
            "{},,{},,,,{},{},{},{},{}",
            p.bucket, p.requests, p.spillover, p.fallback, p.timeouts, p.refused_429, p.refused_503
        );
        let mut backends: Vec<&str> = p
            .decided
            .iter()
            .chain(&p.answered)
            .chain(&p.calls)
            .map(|c| c.backend.as_str())
            .collect();
        backends.sort_unstable();
        backends.dedup();
        let count = |list: &[protocol::admin::BackendCount], backend: &str| {
            list.iter()
                .find(|c| c.backend == backend)
                .map_or(0, |c| c.n)
        };
        for backend in backends {
            let _ = writeln!(
                out,
                "{},{},,{},{},{},,,,,",
                p.bucket,
                field(backend),
                count(&p.decided, backend),
                count(&p.answered, backend),
                count(&p.calls, backend)
            );
        }
    }
    out
}

pub(super) fn live_response(live: &Live) -> Response {
    let mut out = String::from(
        "at,backend,in_flight,cap,in_rotation,disabled_reason,disabled_until,errors_today,rpm,rps10\n",
    );
    for b in &live.backends {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            live.at,
            field(&b.name),
            b.in_flight,
            b.cap,
            b.in_rotation,
            b.disabled_reason.as_deref().unwrap_or(""),
            b.disabled_until.as_deref().unwrap_or(""),
            b.errors_today,
            live.rpm,
            live.rps10
        );
    }
    attachment(&format!("live_{}.csv", stamp(&live.at)), out)
}

pub(super) fn requests(rows: &[RequestView]) -> String {
    let mut out = String::from(
        "id,started_at,device,store,requested_model,stream,decision,decision_reason,decided_backend,final_backend,fallback,status,error_code,attempts,latency_ms,ttft_ms,cost_usd\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{:.9}",
            field(&r.id),
            r.started_at,
            r.device.map_or(String::new(), |d| d.to_string()),
            field(r.store.as_deref().unwrap_or("")),
            field(&r.requested_model),
            r.stream,
            r.decision,
            r.decision_reason,
            field(r.decided_backend.as_deref().unwrap_or("")),
            field(r.final_backend.as_deref().unwrap_or("")),
            r.fallback,
            r.status,
            field(r.error_code.as_deref().unwrap_or("")),
            r.attempts.len(),
            r.latency_ms,
            ms(r.ttft_ms),
            r.cost_usd
        );
    }
    out
}
