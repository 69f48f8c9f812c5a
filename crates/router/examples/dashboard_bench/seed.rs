//! The traffic the ledger is seeded with: one request at a time as the router would have
//! recorded it (admission refusals, slot timeouts, quota / rate / server failures retried on the
//! other backend, timeouts, a third streamed), latencies log-normal per model.

use rand::rngs::StdRng;
use rand::Rng;
use router::backend::Usage;
use router::ledger::{AttemptRow, RequestRow};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn rfc3339_ns(ns: i128) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ns)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

/// A log-normal latency in milliseconds.
fn lognormal(rng: &mut StdRng, median_ms: f64, sigma: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (median_ms.ln() + sigma * z).exp()
}

pub struct Device {
    pub id: i64,
    pub store: String,
}

/// One request at `at_ns`, as the router would have recorded it.
pub fn request(rng: &mut StdRng, at_ns: i128, devices: &[Device]) -> RequestRow {
    let device = &devices[rng.gen_range(0..devices.len())];
    let spill = rng.gen_bool(0.2);
    let stream = rng.gen_bool(0.35);
    let (decided, other) = if spill {
        ("bedrock", "gemini")
    } else {
        ("gemini", "bedrock")
    };
    let mut row = RequestRow {
        id: uuid::Uuid::new_v4().to_string(),
        client_id: device.id,
        idempotency_key: None,
        store_id: Some(device.store.clone()),
        requested_model: "reasoning".into(),
        stream,
        decision: if spill { "spillover" } else { "primary" },
        decision_reason: if spill { "busy" } else { "quiet" },
        decided_backend: Some(decided.into()),
        final_backend: None,
        status: 200,
        error_code: None,
        started_at: rfc3339_ns(at_ns),
        latency_ms: 0.0,
        ttft_ms: None,
        attempts: Vec::new(),
    };
    let mut t = at_ns;
    let mut attempt = |rng: &mut StdRng, backend: &str, outcome: &'static str| {
        let (model, median, input_price, output_price) = match backend {
            "gemini" if rng.gen_bool(0.3) => ("gemini-2.5-pro", 1800.0, 1.25, 10.0),
            "gemini" => ("gemini-2.5-flash", 700.0, 0.30, 2.50),
            _ => ("qwen3-32b", 1100.0, 0.15, 0.60),
        };
        let ms = match outcome {
            "queue_timeout" => 0.0,
            "timeout" => 30_000.0 + rng.gen_range(0.0..50.0),
            "quota" | "rate_limited" | "client_error" => lognormal(rng, 120.0, 0.5),
            _ => lognormal(rng, median, 0.7),
        };
        let ok = outcome == "ok";
        let usage = if ok {
            Usage {
                input: Some(rng.gen_range(300..6000)),
                output: Some(rng.gen_range(20..900)),
                cached: rng.gen_bool(0.3).then(|| rng.gen_range(0..300)),
                reasoning: (model != "qwen3-32b").then(|| rng.gen_range(0..600)),
                image: rng.gen_bool(0.4).then(|| rng.gen_range(258..1800)),
            }
        } else {
            Usage::default()
        };
        let cost = (usage.input.unwrap_or(0) as f64 * input_price
            + usage.output.unwrap_or(0) as f64 * output_price)
            / 1e6;
        let a = AttemptRow {
            backend: backend.into(),
            provider_model: model.into(),
            outcome,
            http_status: match outcome {
                "ok" => Some(200),
                "quota" | "rate_limited" => Some(429),
                "server_error" => Some(503),
                "client_error" => Some(400),
                _ => None,
            },
            provider_error: (outcome == "quota").then(|| "RESOURCE_EXHAUSTED".into()),
            retry_after_ms: (outcome == "rate_limited").then_some(1000),
            queue_wait_ms: if outcome == "queue_timeout" {
                2000.0
            } else {
                rng.gen_range(0.0..5.0)
            },
            latency_ms: ms,
            ttft_ms: (ok && stream).then(|| ms * rng.gen_range(0.1..0.4)),
            usage,
            cost_usd: cost,
            started_at: rfc3339_ns(t),
        };
        t += (ms * 1e6) as i128 + rng.gen_range(50..400) * 1_000_000;
        a
    };
    match rng.gen_range(0..1000) {
        // refused at admission
        0..30 => {
            row.decided_backend = None;
            row.status = 429;
            row.error_code = Some("rate_limited".into());
        }
        // no slot on either backend in time
        30..40 => {
            row.attempts.push(attempt(rng, decided, "queue_timeout"));
            row.attempts.push(attempt(rng, other, "queue_timeout"));
            row.status = 503;
            row.error_code = Some("overloaded".into());
        }
        // a failure, then the other backend
        r @ 40..180 => {
            let first = match r {
                40..90 => "quota",
                90..130 => "rate_limited",
                130..160 => "server_error",
                _ => "timeout",
            };
            row.attempts.push(attempt(rng, decided, first));
            let second = if rng.gen_bool(0.95) { "ok" } else { "timeout" };
            row.attempts.push(attempt(rng, other, second));
            row.final_backend = Some(other.into());
            if second != "ok" {
                row.status = 504;
                row.error_code = Some("upstream_timeout".into());
            }
        }
        180..190 => {
            row.attempts.push(attempt(rng, decided, "client_error"));
            row.final_backend = Some(decided.into());
            row.status = 400;
        }
        _ => {
            row.attempts.push(attempt(rng, decided, "ok"));
            row.final_backend = Some(decided.into());
        }
    }
    row.latency_ms = row
        .attempts
        .iter()
        .map(|a| a.latency_ms + a.queue_wait_ms)
        .sum();
    row.ttft_ms = row.attempts.last().and_then(|a| a.ttft_ms);
    row
}
