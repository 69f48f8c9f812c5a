//! The admin dashboards at 1,000,000 ledger rows: what the dashboard screen loads when it opens,
//! timed over real HTTP on loopback against the real router (`router::serve`), beside the same
//! numbers computed by direct queries over the raw rows (the peer: window functions over
//! `attempts`, as the admin API did before the rollups). A benchmark prints numbers; it asserts
//! nothing (it says whether the two sides agree).
//!
//! The ledger is seeded in a temp folder through the ledger's own writer (`Ledger::record`, the
//! batches and the rollups the router writes): ≈ 900k requests, ≈ 1M attempts, 2 backends,
//! 3 provider models, 5 stores, 8 devices, 30 days up to now; about 3 % refused 429, quota and
//! other failures retried on the other backend, timeouts, a third of the calls streamed.
//!
//!     cargo run --release -p router --example dashboard_bench [-- REQUESTS]
//!
//! (`DASHBOARD_BENCH_KEEP=1` keeps the seeded ledger and says where.)
//!
//! Past 600 lines because it is one program: the traffic mix, the admin's sign-in, the timed
//! screens and the peer's queries are read together to judge the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark program

use std::time::{Duration, Instant};

use protocol::account::Role;
use protocol::admin::{Dashboard, RequestPage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::accounts::{Accounts, Sealer};
use router::backend::Usage;
use router::ledger::{AttemptRow, Ledger, RequestRow};
use sqlx::SqlitePool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const REQUESTS: usize = 900_000;
const DAYS: i64 = 30;
const RUNS: usize = 20;
/// The peer is slow: fewer runs.
const PEER_RUNS: usize = 3;

/// What `Admin` needs today to open the admin endpoints: a device key and a signed-in admin's
/// session on that device (password, then a TOTP code from the enrolment's otpauth URL). The one
/// place to change when the admin's authentication changes. Answers the request headers.
async fn admin_headers(ledger: &Ledger) -> reqwest::header::HeaderMap {
    const NAME: &str = "bench-admin";
    const PASSWORD: &str = "a long passphrase for the bench";
    let (device, key) = ledger.create_client("bench-admin-device").await.unwrap();
    let sealer = Sealer::from_hex(&hex::encode(rand::random::<[u8; 32]>())).unwrap();
    let accounts = Accounts::new(ledger.db().clone(), Some(sealer));
    accounts.create(NAME, Role::Admin, PASSWORD).await.unwrap();
    let challenge = accounts.login(NAME, PASSWORD, device.id).await.unwrap();
    let url = challenge.otpauth_url.expect("an enrolment");
    let secret = totp_rs::Totp::from_url(&url)
        .unwrap()
        .secret()
        .as_ref()
        .to_vec();
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    let code = router::accounts::totp::code_at(&secret, now);
    let signed = accounts
        .second_factor(&challenge.challenge, Some(&code), None, device.id)
        .await
        .unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {key}").parse().unwrap());
    headers.insert(
        protocol::account::SESSION_HEADER,
        signed.token.parse().unwrap(),
    );
    headers
}

fn rfc3339_ns(ns: i128) -> String {
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

struct Device {
    id: i64,
    store: String,
}

/// One request at `at_ns`, as the router would have recorded it.
fn request(rng: &mut StdRng, at_ns: i128, devices: &[Device]) -> RequestRow {
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

struct Stats {
    first_ms: f64,
    p50_ms: f64,
    p95_ms: f64,
    max_ms: f64,
    runs: usize,
}

fn stats(times: &[f64]) -> Stats {
    let mut sorted = times[1..].to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank =
        |p: f64| sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1];
    Stats {
        first_ms: times[0],
        p50_ms: rank(0.5),
        p95_ms: rank(0.95),
        max_ms: sorted[sorted.len() - 1],
        runs: sorted.len(),
    }
}

/// A first (untimed in the figures, shown apart) run and `runs` timed ones.
async fn timed<F, Fut, T>(runs: usize, mut f: F) -> (Stats, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(runs + 1);
    let mut last = None;
    for _ in 0..=runs {
        let began = Instant::now();
        last = Some(f().await);
        times.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    (stats(&times), last.unwrap())
}

/// The peer's numbers for a window: what the dashboard shows, by direct queries over the raw
/// rows (nearest-rank percentiles with window functions, as the admin API did before).
#[derive(Debug, Default)]
struct PeerNumbers {
    attempts: i64,
    cost_usd: f64,
    requests: i64,
    /// (bucket text, backend, model) → p95 of latency
    p95: Vec<(String, String, String, f64)>,
}

async fn peer(
    pool: &SqlitePool,
    from: &str,
    to: &str,
    day: bool,
    store: Option<&str>,
    device: Option<i64>,
) -> PeerNumbers {
    let width = if day { 10 } else { 13 };
    let usage: (i64, f64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(a.cost_usd), 0) + 0 * coalesce(sum(a.input_tokens) + sum(a.output_tokens) + sum(a.cached_tokens)
                + sum(a.reasoning_tokens) + sum(a.image_tokens) + sum(a.outcome = 'ok') + sum(a.outcome = 'timeout'), 0)
         FROM attempts a JOIN requests r ON r.id = a.request_id
         WHERE a.started_at >= ?1 AND a.started_at < ?2 AND a.outcome <> 'queue_timeout' AND (?3 IS NULL OR r.store_id = ?3) AND (?4 IS NULL OR r.client_id = ?4)",
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
        "SELECT substr(a.started_at, 1, ?5), a.backend, a.provider_model, count(*), sum(a.cost_usd)
         FROM attempts a JOIN requests r ON r.id = a.request_id
         WHERE a.started_at >= ?1 AND a.started_at < ?2 AND a.outcome <> 'queue_timeout' AND (?3 IS NULL OR r.store_id = ?3) AND (?4 IS NULL OR r.client_id = ?4)
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
                SELECT substr(a.started_at, 1, ?5) AS bucket, a.backend, a.provider_model, a.{metric} AS ms
                FROM attempts a JOIN requests r ON r.id = a.request_id
                WHERE a.started_at >= ?1 AND a.started_at < ?2 AND a.outcome <> 'queue_timeout' AND a.{metric} IS NOT NULL
                  AND (?3 IS NULL OR r.store_id = ?3) AND (?4 IS NULL OR r.client_id = ?4)),
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
        "SELECT count(*) FROM requests WHERE started_at >= ?1 AND started_at < ?2 AND (?3 IS NULL OR store_id = ?3) AND (?4 IS NULL OR client_id = ?4)",
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
        "SELECT substr(started_at, 1, ?5), decided_backend, CASE WHEN status = 200 THEN final_backend END, count(*),
                sum(decision = 'spillover'), sum(fallback), sum(status = 429)
         FROM requests WHERE started_at >= ?1 AND started_at < ?2 AND (?3 IS NULL OR store_id = ?3) AND (?4 IS NULL OR client_id = ?4)
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
}

/// Whether the dashboard says what the raw rows say: calls, cost, requests, and every p95 the
/// upper edge of the bin of the exact value.
fn agree(d: &Dashboard, p: &PeerNumbers) -> String {
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
        && (cost - p.cost_usd).abs() < 1e-6
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

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn row(name: &str, s: &Stats, note: &str) {
    println!(
        "{name:<44} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>5}  {note}",
        s.first_ms, s.p50_ms, s.p95_ms, s.max_ms, s.runs
    );
}

#[tokio::main]
async fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(REQUESTS);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("router.db");
    let ledger = Ledger::open(&router::db::Location::Sqlite(db.clone()))
        .await
        .unwrap();
    let mut devices = Vec::new();
    for d in 0..8 {
        let (client, _) = ledger
            .create_client(&format!("station-{}", d + 1))
            .await
            .unwrap();
        devices.push(Device {
            id: client.id,
            store: format!("store-{}", d % 5 + 1),
        });
    }

    // seed: through the ledger's writer, oldest first, as the router writes them
    let now = OffsetDateTime::now_utc();
    let span_ns = i128::from(DAYS * 86_400) * 1_000_000_000;
    let start_ns = now.unix_timestamp_nanos() - span_ns;
    let mut rng = StdRng::seed_from_u64(2026);
    let began = Instant::now();
    for i in 0..requests {
        let at =
            start_ns + span_ns * i as i128 / requests as i128 + rng.gen_range(0..1_000_000_000);
        ledger.record(request(&mut rng, at, &devices)).await;
        if i % 100_000 == 99_999 {
            eprintln!(
                "seeded {} requests in {:.0} s",
                i + 1,
                began.elapsed().as_secs_f64()
            );
        }
    }
    ledger.flush().await;
    let seeded_s = began.elapsed().as_secs_f64();
    let router::db::Db::Sqlite(pool) = ledger.db().clone() else {
        unreachable!("the bench's ledger is a SQLite file")
    };
    let count = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let headers = admin_headers(&ledger).await;

    // the router, on this ledger
    let config = dir.path().join("router.toml");
    std::fs::write(
        &config,
        r#"database = "router.db"
[routing]
primary = "gemini"
secondary = "bedrock"
spill_rpm = 600
spill_rps10 = 150
spill_share = 0.2
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "http://127.0.0.1:9/v1beta/openai"
max_in_flight = 120
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
max_in_flight = 80
[[models]]
name = "reasoning"
[models.serve.gemini]
model = "gemini-2.5-flash"
prices = [{ from = "2026-01-01", input = 0.30, output = 2.50 }]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{ from = "2026-01-01", input = 0.15, output = 0.60 }]
"#,
    )
    .unwrap();
    let config = router::RouterConfig::load(&config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(router::serve(config, listener, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .tcp_nodelay(true)
        .build()
        .unwrap();
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    println!(
        "dashboard_bench: the admin dashboards over the rollups, at {} attempts",
        count("attempts").await
    );
    println!(
        "cpu: {} ({} logical CPUs)",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "ledger: {} requests, {} attempts over {DAYS} days, 8 devices in 5 stores, 2 backends, 3 models; seeded in {seeded_s:.0} s through the ledger's writer; file {:.0} MB",
        count("requests").await,
        count("attempts").await,
        std::fs::metadata(&db).map_or(0, |m| m.len()) as f64 / 1e6
    );
    println!(
        "rollups: usage_rollup {} rows, latency_rollup {}, latency_rollup_all {}, request_rollup {}",
        count("usage_rollup").await,
        count("latency_rollup").await,
        count("latency_rollup_all").await,
        count("request_rollup").await
    );
    let statuses: Vec<(i64, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM requests GROUP BY status ORDER BY status")
            .fetch_all(&pool)
            .await
            .unwrap();
    let outcomes: Vec<(String, i64)> =
        sqlx::query_as("SELECT outcome, count(*) FROM attempts GROUP BY outcome ORDER BY outcome")
            .fetch_all(&pool)
            .await
            .unwrap();
    println!("mix: statuses {statuses:?}; outcomes {outcomes:?}");
    println!();
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9} {:>5}",
        "over HTTP on loopback (ms)", "first", "p50", "p95", "max", "runs"
    );

    let fmt = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
    let now = OffsetDateTime::now_utc();
    let (store, device) = ("store-2", devices[1].id);
    let screens: Vec<(&str, OffsetDateTime, bool, bool)> = vec![
        (
            "dashboard 24 h by hour",
            now - time::Duration::hours(24),
            false,
            false,
        ),
        (
            "dashboard 7 days by hour",
            now - time::Duration::days(7),
            false,
            false,
        ),
        (
            "dashboard 30 days by day",
            now - time::Duration::days(30),
            true,
            false,
        ),
        (
            "dashboard 7 days by hour, store + device",
            now - time::Duration::days(7),
            false,
            true,
        ),
        (
            "dashboard 30 days by day, store + device",
            now - time::Duration::days(30),
            true,
            true,
        ),
    ];
    let mut dashboards = Vec::new();
    for (name, from, day, filtered) in &screens {
        let mut url = format!(
            "{base}/admin/v1/dashboard?from={}&to={}&bucket={}",
            fmt(*from),
            fmt(now),
            if *day { "day" } else { "hour" }
        );
        if *filtered {
            url.push_str(&format!("&store={store}&device={device}"));
        }
        let (s, d) = timed(RUNS, || async {
            let response = http.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
            response.json::<Dashboard>().await.unwrap()
        })
        .await;
        row(
            name,
            &s,
            &format!(
                "{} usage, {} latency, {} share points",
                d.usage.len(),
                d.latency.len(),
                d.shares.len()
            ),
        );
        dashboards.push(d);
    }
    let (s, live) = timed(RUNS, || async {
        http.get(format!("{base}/admin/v1/live"))
            .send()
            .await
            .unwrap()
            .json::<protocol::admin::Live>()
            .await
            .unwrap()
    })
    .await;
    row("live", &s, &format!("{} backends", live.backends.len()));
    let (s, page) = timed(RUNS, || async {
        http.get(format!("{base}/admin/v1/requests?limit=50"))
            .send()
            .await
            .unwrap()
            .json::<RequestPage>()
            .await
            .unwrap()
    })
    .await;
    row(
        "requests?limit=50 (attempts in one query)",
        &s,
        &format!(
            "{} requests, {} attempts",
            page.requests.len(),
            page.requests
                .iter()
                .map(|r| r.attempts.len())
                .sum::<usize>()
        ),
    );

    println!();
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9} {:>5}",
        "peer: direct queries over the raw rows (ms)", "first", "p50", "p95", "max", "runs"
    );
    for ((name, from, day, filtered), d) in screens.iter().zip(&dashboards) {
        // the dashboard's own window, whole buckets
        // (as the ledger's text compares: `…T10:00:00` sorts before every time of that second)
        let (from_s, to_s) = (
            d.window.from.trim_end_matches('Z').to_owned(),
            d.window.to.trim_end_matches('Z').to_owned(),
        );
        let _ = from;
        let (s, numbers) = timed(PEER_RUNS, || {
            peer(
                &pool,
                &from_s,
                &to_s,
                *day,
                filtered.then_some(store),
                filtered.then_some(device),
            )
        })
        .await;
        row(name, &s, &agree(d, &numbers));
    }
    let (s, n) = timed(PEER_RUNS, || async {
        // the page, then each request's attempts by one query each (as before)
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM requests ORDER BY started_at DESC, id DESC LIMIT 50",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut n = 0;
        for id in &ids {
            let attempts: Vec<(String, f64)> = sqlx::query_as(
                "SELECT backend, latency_ms FROM attempts WHERE request_id = ? ORDER BY n",
            )
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
            n += attempts.len();
        }
        n
    })
    .await;
    row(
        "requests?limit=50 (a query per request)",
        &s,
        &format!("{n} attempts"),
    );

    let _ = stop.send(());
    let _ = server.await;
    if std::env::var_os("DASHBOARD_BENCH_KEEP").is_some() {
        eprintln!("the ledger is kept in {}", dir.keep().display());
    }
}
