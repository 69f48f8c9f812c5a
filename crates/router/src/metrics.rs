//! Counters for `/metrics` (Prometheus text format) and the admins' live view: requests by
//! status, attempts by backend and outcome. The rates, in-flight counts and rotation are read
//! from the traffic manager as they are.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use crate::state::AppState;

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    requests: BTreeMap<u16, u64>,
    attempts: BTreeMap<(String, &'static str), u64>,
}

impl Metrics {
    pub fn request(&self, status: u16) {
        *self.lock().requests.entry(status).or_default() += 1;
    }

    pub fn attempt(&self, backend: &str, outcome: &'static str) {
        *self
            .lock()
            .attempts
            .entry((backend.to_owned(), outcome))
            .or_default() += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // counters only: a panic elsewhere cannot leave them inconsistent
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Prometheus text exposition of everything the router counts.
/// With Redis configured, the rates, in-flight counts and rotation are every replica's; a value
/// Redis cannot give now is written as NaN.
pub async fn render(state: &AppState) -> String {
    let mut out = String::new();
    write_counts(state, &mut out);
    let now = Instant::now();
    let rates = state.rates(now).await.ok();
    let nan = || "NaN".to_owned();
    let _ = writeln!(out, "# HELP router_requests_last_minute Requests in the last 60 s (drives spillover).\n# TYPE router_requests_last_minute gauge");
    let _ = writeln!(
        out,
        "router_requests_last_minute {}",
        rates.map_or_else(nan, |r| r.rpm.to_string())
    );
    let _ = writeln!(out, "# HELP router_requests_last_10s Requests in the last 10 s (drives spillover).\n# TYPE router_requests_last_10s gauge");
    let _ = writeln!(
        out,
        "router_requests_last_10s {}",
        rates.map_or_else(nan, |r| r.rps10.to_string())
    );
    let _ = writeln!(
        out,
        "# HELP router_in_flight Requests in flight per backend.\n# TYPE router_in_flight gauge"
    );
    for slot in &state.slots {
        let in_flight = slot.in_flight().await.ok();
        let _ = writeln!(
            out,
            "router_in_flight{{backend=\"{}\"}} {}",
            slot.backend.name,
            in_flight.map_or_else(nan, |n| n.to_string())
        );
    }
    let _ = writeln!(out, "# HELP router_in_flight_cap The in-flight cap per backend.\n# TYPE router_in_flight_cap gauge");
    for slot in &state.slots {
        let _ = writeln!(
            out,
            "router_in_flight_cap{{backend=\"{}\"}} {}",
            slot.backend.name, slot.cap
        );
    }
    if let Some(shared) = &state.shared {
        let _ = writeln!(out, "# HELP router_redis_round_trips_total Requests this process sent to Redis (shared traffic state).\n# TYPE router_redis_round_trips_total counter");
        let _ = writeln!(
            out,
            "router_redis_round_trips_total {}",
            shared.round_trips()
        );
    }
    let _ = writeln!(out, "# HELP router_backend_in_rotation 1 when the backend takes traffic.\n# TYPE router_backend_in_rotation gauge");
    for slot in &state.slots {
        let up = match slot.out_for(now).await {
            Ok(out) => u8::from(out.is_none()).to_string(),
            Err(_) => nan(),
        };
        let _ = writeln!(
            out,
            "router_backend_in_rotation{{backend=\"{}\"}} {up}",
            slot.backend.name
        );
    }
    out
}

/// This process's request and attempt counters.
fn write_counts(state: &AppState, out: &mut String) {
    let counts = state.metrics.lock();
    let _ = writeln!(out, "# HELP router_requests_total Requests answered, by HTTP status.\n# TYPE router_requests_total counter");
    for (status, n) in &counts.requests {
        let _ = writeln!(out, "router_requests_total{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP router_attempts_total Calls to backends, by outcome.\n# TYPE router_attempts_total counter");
    for ((backend, outcome), n) in &counts.attempts {
        let _ = writeln!(
            out,
            "router_attempts_total{{backend=\"{backend}\",outcome=\"{outcome}\"}} {n}"
        );
    }
}
