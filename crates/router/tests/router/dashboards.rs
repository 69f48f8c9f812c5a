//! The dashboards against the raw rows: a few thousand requests written through the ledger's
//! own writer (varied backends, models, stores, devices, outcomes, latencies and streamed
//! calls over three days), then every number of the dashboard compared with a computation over
//! the `requests` and `attempts` rows made here, apart from the rollups: counts, tokens, cost
//! (to 1e-9), nearest-rank percentiles (the upper edge of the histogram bin holding the exact
//! value) and shares, for several filters, windows and both buckets. The migration's back-fill
//! of rows written before it must equal what the writer sums; and the admin API serves the same
//! over HTTP, pages the requests and refuses bad queries by name.
//!
//! Past 600 lines because the raw side (a generator of varied traffic and every series
//! computed again from the rows) is the test's independent half, kept beside its three scenarios.

use std::collections::{BTreeMap, BTreeSet};

use protocol::admin::{
    BackendCount, Bucket, Dashboard, DashboardQuery, DeviceRef, FilterChoices, RequestPage,
    SharePoint, UsagePoint,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::backend::Usage;
use router::db::{Db, Location};
use router::ledger::{AttemptRow, Ledger, RequestRow};
use router::rollup::read;
use serde_json::Value;
use sqlx::{Row, SqlitePool};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{setup, Options};

/// 2026-04-28T21:00:00Z: three hours before a UTC day starts, so days and hours both cut.
const BASE_S: i64 = 1_777_410_000;
const SPAN_S: i64 = 72 * 3600;

fn rfc3339_ns(unix_ns: i128) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(unix_ns)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

fn unix(text: &str) -> i64 {
    OffsetDateTime::parse(text, &Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// `n` requests of `clients` over three days, seeded.
fn requests(clients: &[i64], n: usize, seed: u64) -> Vec<RequestRow> {
    let mut rng = StdRng::seed_from_u64(seed);
    let stores = [None, Some("s1"), Some("s2"), Some("s3")];
    let model_of = |rng: &mut StdRng, backend: &str| -> String {
        match backend {
            "gemini" if rng.gen_bool(0.3) => "gemini-2.5-pro".into(),
            "gemini" => "gemini-2.5-flash".into(),
            _ => "qwen3-32b".into(),
        }
    };
    let latency = |rng: &mut StdRng| -> f64 {
        if rng.gen_bool(0.02) {
            rng.gen_range(0.0..=1.0)
        } else {
            10f64.powf(rng.gen_range(0.0..4.6))
        }
    };
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        // whole seconds now and then (the text then has no fraction)
        let start_ns = i128::from(BASE_S + rng.gen_range(0..SPAN_S)) * 1_000_000_000
            + if rng.gen_bool(0.1) {
                0
            } else {
                rng.gen_range(0..1_000_000_000)
            };
        let spill = rng.gen_bool(0.25);
        let stream = rng.gen_bool(0.3);
        let (primary, other) = if spill {
            ("bedrock", "gemini")
        } else {
            ("gemini", "bedrock")
        };
        let mut row = RequestRow {
            id: format!("req-{seed}-{i:05}"),
            client_id: clients[rng.gen_range(0..clients.len())],
            idempotency_key: None,
            store_id: stores[rng.gen_range(0..stores.len())].map(str::to_owned),
            requested_model: "reasoning".into(),
            stream,
            decision: if spill { "spillover" } else { "primary" },
            decision_reason: if spill { "busy" } else { "quiet" },
            decided_backend: Some(primary.into()),
            final_backend: None,
            status: 200,
            error_code: None,
            started_at: rfc3339_ns(start_ns),
            latency_ms: 0.0,
            ttft_ms: None,
            attempts: Vec::new(),
        };
        let mut at_ns = start_ns;
        let mut attempt = |rng: &mut StdRng, backend: &str, outcome: &'static str| {
            let ms = if outcome == "queue_timeout" {
                0.0
            } else {
                latency(rng)
            };
            let ok = outcome == "ok";
            let a = AttemptRow {
                backend: backend.into(),
                provider_model: model_of(rng, backend),
                outcome,
                http_status: match outcome {
                    "ok" => Some(200),
                    "quota" | "rate_limited" => Some(429),
                    "server_error" => Some(502),
                    "client_error" => Some(400),
                    _ => None,
                },
                provider_error: None,
                retry_after_ms: None,
                queue_wait_ms: rng.gen_range(0.0..50.0),
                latency_ms: ms,
                ttft_ms: (ok && stream).then(|| ms * rng.gen_range(0.05..0.6)),
                usage: if ok {
                    Usage {
                        input: Some(rng.gen_range(100..5000)),
                        output: Some(rng.gen_range(10..800)),
                        cached: rng.gen_bool(0.3).then(|| rng.gen_range(0..100)),
                        reasoning: rng.gen_bool(0.5).then(|| rng.gen_range(0..400)),
                        image: rng.gen_bool(0.2).then(|| rng.gen_range(0..1500)),
                    }
                } else {
                    Usage::default()
                },
                cost_usd: if ok { rng.gen_range(0.0..0.02) } else { 0.0 },
                started_at: rfc3339_ns(at_ns),
            };
            // the next attempt after this one and a backoff: some cross into the next hour
            at_ns += (ms * 1e6) as i128 + rng.gen_range(0..120_000_000_000_i128);
            a
        };
        match rng.gen_range(0..100) {
            // refused by the router before any call
            0..=4 => {
                row.decided_backend = None;
                row.status = 429;
                row.error_code = Some("rate_limited".into());
            }
            // no slot on either backend in time
            5..=8 => {
                row.attempts
                    .push(attempt(&mut rng, primary, "queue_timeout"));
                if rng.gen_bool(0.5) {
                    row.attempts.push(attempt(&mut rng, other, "queue_timeout"));
                }
                row.status = 503;
                row.error_code = Some("overloaded".into());
            }
            // a failure, then the other backend answers (or also fails)
            9..=28 => {
                let outcomes = ["quota", "rate_limited", "server_error", "timeout"];
                let first = outcomes[rng.gen_range(0..outcomes.len())];
                row.attempts.push(attempt(&mut rng, primary, first));
                if rng.gen_bool(0.85) {
                    row.attempts.push(attempt(&mut rng, other, "ok"));
                    row.final_backend = Some(other.into());
                } else {
                    row.attempts.push(attempt(&mut rng, other, "timeout"));
                    row.final_backend = Some(other.into());
                    row.status = 504;
                }
            }
            // a bad request, passed on
            29..=31 => {
                row.attempts
                    .push(attempt(&mut rng, primary, "client_error"));
                row.final_backend = Some(primary.into());
                row.status = 400;
            }
            _ => {
                row.attempts.push(attempt(&mut rng, primary, "ok"));
                row.final_backend = Some(primary.into());
            }
        }
        row.latency_ms = row.attempts.iter().map(|a| a.latency_ms).sum();
        row.ttft_ms = row.attempts.last().and_then(|a| a.ttft_ms);
        rows.push(row);
    }
    rows
}

/// The ledger's SQLite pool (these checks read the rows with SQL of their own).
fn sqlite(ledger: &Ledger) -> &SqlitePool {
    match ledger.db() {
        Db::Sqlite(pool) => pool,
        Db::Postgres(_) => panic!("these checks read a SQLite ledger"),
    }
}

/// A ledger in `dir` with four clients and `n` requests written by its writer; the clients.
async fn seeded(dir: &std::path::Path, n: usize, seed: u64) -> (Ledger, Vec<i64>) {
    seeded_at(&Location::Sqlite(dir.join("router.db")), n, seed).await
}

/// The same on any engine (a PostgreSQL URL: the router's own writer and rollups there).
async fn seeded_at(location: &Location, n: usize, seed: u64) -> (Ledger, Vec<i64>) {
    let ledger = Ledger::open(location).await.unwrap();
    let mut clients = Vec::new();
    for name in ["store-1-a", "store-1-b", "store-2", "api-client"] {
        clients.push(ledger.create_client(name).await.unwrap().0.id);
    }
    for row in requests(&clients, n, seed) {
        ledger.record(row).await;
    }
    ledger.flush().await;
    (ledger, clients)
}

/// The ledger's raw rows, as the dashboards need them.
struct Raw {
    requests: Vec<RawRequest>,
    attempts: Vec<RawAttempt>,
    clients: BTreeMap<i64, String>,
}

struct RawRequest {
    client: i64,
    store: Option<String>,
    at: i64,
    decision: String,
    decided: Option<String>,
    final_backend: Option<String>,
    fallback: bool,
    status: i64,
}

struct RawAttempt {
    client: i64,
    store: Option<String>,
    at: i64,
    backend: String,
    model: String,
    outcome: String,
    latency_ms: f64,
    ttft_ms: Option<f64>,
    tokens: [i64; 5],
    cost_usd: f64,
}

async fn raw(pool: &SqlitePool) -> Raw {
    let requests = sqlx::query(
        "SELECT client_id, store_id, started_at, decision, decided_backend, final_backend, fallback, status FROM requests",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| RawRequest {
        client: r.get(0),
        store: r.get(1),
        at: unix(r.get(2)),
        decision: r.get(3),
        decided: r.get(4),
        final_backend: r.get(5),
        fallback: r.get(6),
        status: r.get(7),
    })
    .collect();
    let attempts = sqlx::query(
        "SELECT r.client_id, r.store_id, a.started_at, a.backend, a.provider_model, a.outcome, a.latency_ms, a.ttft_ms,
                a.input_tokens, a.output_tokens, a.cached_tokens, a.reasoning_tokens, a.image_tokens, a.cost_usd
         FROM attempts a JOIN requests r ON r.id = a.request_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| RawAttempt {
        client: r.get(0),
        store: r.get(1),
        at: unix(r.get(2)),
        backend: r.get(3),
        model: r.get(4),
        outcome: r.get(5),
        latency_ms: r.get(6),
        ttft_ms: r.get(7),
        tokens: [8, 9, 10, 11, 12].map(|i| r.get::<Option<i64>, _>(i).unwrap_or(0)),
        cost_usd: r.get(13),
    })
    .collect();
    let clients = sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM clients")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    Raw {
        requests,
        attempts,
        clients,
    }
}

/// The exact nearest-rank percentile of `values`, as the dashboards report it: the upper edge
/// 1.02^k of the 2 %-bin holding it (k = 0 for 1 ms or less).
fn reported(values: &mut [f64], p: usize) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (values.len() * p).div_ceil(100).max(1);
    let value = values[rank - 1];
    let mut k = 0;
    while 1.02_f64.powi(k) < value {
        k += 1;
    }
    Some(1.02_f64.powi(k))
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: {a} against {b}"
        ),
        _ => panic!("{what}: {a:?} against {b:?}"),
    }
}

/// A latency point: (bucket, backend, model), calls, streamed, [p50, p95, p99, ttft p50, p95, p99].
type LatencyRow = ((String, String, String), i64, i64, [Option<f64>; 6]);
/// A share point with its counts per backend: decided, answered, calls.
type ShareSums = (SharePoint, [BTreeMap<String, i64>; 3]);
/// The latencies and times to first token of a bucket × backend × model.
type Samples = BTreeMap<(i64, String, String), (Vec<f64>, Vec<f64>)>;

/// What the dashboard must say, computed from the raw rows.
struct Expected {
    from_s: i64,
    to_s: i64,
    usage: Vec<UsagePoint>,
    /// (bucket, backend, model) → calls, streamed, [p50, p95, p99, ttft p50, p95, p99]
    latency: Vec<LatencyRow>,
    shares: Vec<SharePoint>,
    choices: FilterChoices,
}

fn expected(raw: &Raw, q: &DashboardQuery, from: &str, to: &str) -> Expected {
    let width = match q.bucket.unwrap_or_default() {
        Bucket::Hour => 3600,
        Bucket::Day => 86_400,
    };
    let (from, to) = (unix(from), unix(to));
    let from_s = from.div_euclid(width) * width;
    let to_s = (to + width - 1).div_euclid(width) * width;
    let start = |at: i64| -> Option<i64> {
        (at >= from_s && at < to_s).then_some(at.div_euclid(width) * width)
    };
    let bucket = |s: i64| rfc3339_ns(i128::from(s) * 1_000_000_000);
    let source = |client: i64, store: &Option<String>| {
        q.device.is_none_or(|d| d == client)
            && q.store.as_ref().is_none_or(|s| store.as_ref() == Some(s))
    };
    let calls = raw.attempts.iter().filter(|a| a.outcome != "queue_timeout");

    let mut usage: BTreeMap<(i64, String, String), UsagePoint> = BTreeMap::new();
    let mut latency: Samples = BTreeMap::new();
    for a in calls.clone().filter(|a| {
        source(a.client, &a.store)
            && q.backend.as_ref().is_none_or(|b| *b == a.backend)
            && q.model.as_ref().is_none_or(|m| *m == a.model)
    }) {
        let Some(s) = start(a.at) else { continue };
        let key = (s, a.backend.clone(), a.model.clone());
        let u = usage.entry(key.clone()).or_insert_with(|| UsagePoint {
            bucket: bucket(s),
            backend: a.backend.clone(),
            model: a.model.clone(),
            attempts: 0,
            ok: 0,
            errors: 0,
            timeouts: 0,
            input_tokens: 0,
            output_tokens: 0,
            cached_tokens: 0,
            reasoning_tokens: 0,
            image_tokens: 0,
            cost_usd: 0.0,
        });
        u.attempts += 1;
        u.ok += i64::from(a.outcome == "ok");
        u.errors += i64::from(a.outcome != "ok");
        u.timeouts += i64::from(a.outcome == "timeout");
        u.input_tokens += a.tokens[0];
        u.output_tokens += a.tokens[1];
        u.cached_tokens += a.tokens[2];
        u.reasoning_tokens += a.tokens[3];
        u.image_tokens += a.tokens[4];
        u.cost_usd += a.cost_usd;
        let l = latency.entry(key).or_default();
        l.0.push(a.latency_ms);
        l.1.extend(a.ttft_ms);
    }

    let mut shares: BTreeMap<i64, ShareSums> = BTreeMap::new();
    for r in raw.requests.iter().filter(|r| source(r.client, &r.store)) {
        let Some(s) = start(r.at) else { continue };
        let (p, maps) = share_point(&mut shares, s);
        p.requests += 1;
        p.spillover += i64::from(r.decision == "spillover");
        p.fallback += i64::from(r.fallback);
        p.refused_429 += i64::from(r.status == 429);
        p.refused_503 += i64::from(r.status == 503);
        if let Some(d) = &r.decided {
            *maps[0].entry(d.clone()).or_default() += 1;
        }
        if let (200, Some(f)) = (r.status, &r.final_backend) {
            *maps[1].entry(f.clone()).or_default() += 1;
        }
    }
    for a in calls.clone().filter(|a| source(a.client, &a.store)) {
        let Some(s) = start(a.at) else { continue };
        let (p, maps) = share_point(&mut shares, s);
        p.timeouts += i64::from(a.outcome == "timeout");
        *maps[2].entry(a.backend.clone()).or_default() += 1;
    }
    let counts = |m: &BTreeMap<String, i64>| -> Vec<BackendCount> {
        m.iter()
            .map(|(b, n)| BackendCount {
                backend: b.clone(),
                n: *n,
            })
            .collect()
    };
    let shares = shares
        .into_values()
        .map(|(mut p, maps)| {
            p.decided = counts(&maps[0]);
            p.answered = counts(&maps[1]);
            p.calls = counts(&maps[2]);
            p
        })
        .collect();

    let latency = latency
        .into_iter()
        .map(|((s, b, m), (mut l, mut t))| {
            (
                (bucket(s), b, m),
                l.len() as i64,
                t.len() as i64,
                [
                    reported(&mut l, 50),
                    reported(&mut l, 95),
                    reported(&mut l, 99),
                    reported(&mut t, 50),
                    reported(&mut t, 95),
                    reported(&mut t, 99),
                ],
            )
        })
        .collect();
    let clients_seen: BTreeSet<i64> = raw.requests.iter().map(|r| r.client).collect();
    let choices = FilterChoices {
        backends: calls
            .clone()
            .map(|a| a.backend.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        models: calls
            .map(|a| a.model.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        stores: raw
            .requests
            .iter()
            .filter_map(|r| r.store.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        devices: clients_seen
            .into_iter()
            .map(|id| DeviceRef {
                id,
                name: raw.clients[&id].clone(),
            })
            .collect(),
    };
    Expected {
        from_s,
        to_s,
        usage: usage.into_values().collect(),
        latency,
        shares,
        choices,
    }
}

/// The share point of bucket `s`, with its counts per backend (decided, answered, calls).
fn share_point(shares: &mut BTreeMap<i64, ShareSums>, s: i64) -> &mut ShareSums {
    shares.entry(s).or_insert_with(|| {
        (
            SharePoint {
                bucket: rfc3339_ns(i128::from(s) * 1_000_000_000),
                requests: 0,
                decided: Vec::new(),
                answered: Vec::new(),
                calls: Vec::new(),
                spillover: 0,
                fallback: 0,
                timeouts: 0,
                refused_429: 0,
                refused_503: 0,
            },
            Default::default(),
        )
    })
}

fn compare(got: &Dashboard, want: &Expected, what: &str) {
    assert_eq!(
        (unix(&got.window.from), unix(&got.window.to)),
        (want.from_s, want.to_s),
        "{what}: window"
    );
    assert_eq!(got.usage.len(), want.usage.len(), "{what}: usage points");
    for (g, w) in got.usage.iter().zip(&want.usage) {
        let strip = |u: &UsagePoint| UsagePoint {
            cost_usd: 0.0,
            ..u.clone()
        };
        assert_eq!(strip(g), strip(w), "{what}: usage");
        assert!(
            (g.cost_usd - w.cost_usd).abs() <= 1e-9,
            "{what}: cost {} against {}",
            g.cost_usd,
            w.cost_usd
        );
    }
    assert_eq!(
        got.latency.len(),
        want.latency.len(),
        "{what}: latency points"
    );
    for (g, (key, calls, streamed, p)) in got.latency.iter().zip(&want.latency) {
        assert_eq!(
            (&g.bucket, &g.backend, &g.model, g.calls, g.streamed),
            (&key.0, &key.1, &key.2, *calls, *streamed),
            "{what}: latency"
        );
        let gp = [
            g.p50_ms,
            g.p95_ms,
            g.p99_ms,
            g.ttft_p50_ms,
            g.ttft_p95_ms,
            g.ttft_p99_ms,
        ];
        for (i, (a, b)) in gp.into_iter().zip(p).enumerate() {
            close(a, *b, &format!("{what}: percentile {i} of {key:?}"));
        }
    }
    assert_eq!(got.shares, want.shares, "{what}: shares");
    assert_eq!(got.choices, want.choices, "{what}: choices");
}

fn at(unix_s: i64) -> String {
    rfc3339_ns(i128::from(unix_s) * 1_000_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_equals_a_direct_computation_over_the_raw_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, clients) = seeded(dir.path(), 3000, 17).await;
    // the same rows written by the same writer into PostgreSQL (Debian's, on a loopback port):
    // every dashboard below is read from both and held to the same direct computation
    let pg = testbed::Postgres::start();
    let (on_postgres, pg_clients) =
        seeded_at(&Location::Postgres(pg.create_database("ledger")), 3000, 17).await;
    assert_eq!(pg_clients, clients, "the same client ids on both engines");
    let raw = raw(sqlite(&ledger)).await;
    assert_eq!(raw.requests.len(), 3000);
    assert!(raw.attempts.iter().any(|a| a.outcome == "queue_timeout"));
    assert!(raw.attempts.iter().filter(|a| a.ttft_ms.is_some()).count() > 500);

    let windows = [
        // everything, and a window cutting through hours and days
        (at(BASE_S - 1800), at(BASE_S + SPAN_S + 3600)),
        (at(BASE_S + 5 * 3600 + 1000), at(BASE_S + 40 * 3600 + 180)),
    ];
    let filter = |backend: Option<&str>,
                  model: Option<&str>,
                  store: Option<&str>,
                  device: Option<i64>| DashboardQuery {
        backend: backend.map(str::to_owned),
        model: model.map(str::to_owned),
        store: store.map(str::to_owned),
        device,
        ..DashboardQuery::default()
    };
    let filters = [
        ("no filter", filter(None, None, None, None)),
        ("a store", filter(None, None, Some("s1"), None)),
        ("a device", filter(None, None, None, Some(clients[1]))),
        (
            "a store and a device",
            filter(None, None, Some("s2"), Some(clients[2])),
        ),
        ("a backend", filter(Some("gemini"), None, None, None)),
        ("a model", filter(None, Some("qwen3-32b"), None, None)),
        (
            "a backend and a store",
            filter(Some("gemini"), None, Some("s3"), None),
        ),
    ];
    for bucket in [Bucket::Hour, Bucket::Day] {
        for (from, to) in &windows {
            for (name, f) in &filters {
                let q = DashboardQuery {
                    from: Some(from.clone()),
                    to: Some(to.clone()),
                    bucket: Some(bucket),
                    ..f.clone()
                };
                let what = format!("{name}, by {bucket}, {from} to {to}");
                let want = expected(&raw, &q, from, to);
                assert!(
                    !want.usage.is_empty() && !want.shares.is_empty() && !want.latency.is_empty(),
                    "{what}: the filter selects calls"
                );
                let got = read::dashboard(ledger.db(), &q, OffsetDateTime::now_utc())
                    .await
                    .unwrap();
                compare(&got, &want, &what);
                let got = read::dashboard(on_postgres.db(), &q, OffsetDateTime::now_utc())
                    .await
                    .unwrap();
                compare(&got, &want, &format!("PostgreSQL: {what}"));
            }
        }
    }
}

/// The migrations up to (not including) 0008, copied into `dir`.
fn migrations_before_rollups(dir: &std::path::Path) -> std::path::PathBuf {
    let target = dir.join("migrations-before-0008");
    std::fs::create_dir_all(&target).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let version: u32 = name.split('_').next().unwrap().parse().unwrap();
        if version < 8 {
            std::fs::copy(&path, target.join(&name)).unwrap();
        }
    }
    target
}

/// Every row of the rollup tables as text (cost apart), in key order.
async fn rollup_rows(pool: &SqlitePool) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT 'u' || width_s || ',' || start_s || ',' || backend || ',' || provider_model || ',' || store_id || ',' || client_id || ',' ||
                attempts || ',' || ok || ',' || errors || ',' || timeouts || ',' || input_tokens || ',' || output_tokens || ',' ||
                cached_tokens || ',' || reasoning_tokens || ',' || image_tokens, cost_usd
         FROM usage_rollup ORDER BY width_s, start_s, backend, provider_model, store_id, client_id",
        "SELECT 'l' || width_s || ',' || start_s || ',' || backend || ',' || provider_model || ',' || store_id || ',' || client_id || ',' ||
                metric || ',' || bin || ',' || n, 0.0
         FROM latency_rollup ORDER BY width_s, start_s, backend, provider_model, store_id, client_id, metric, bin",
        "SELECT 'a' || width_s || ',' || start_s || ',' || backend || ',' || provider_model || ',' || metric || ',' || bin || ',' || n, 0.0
         FROM latency_rollup_all ORDER BY width_s, start_s, backend, provider_model, metric, bin",
        "SELECT 'r' || width_s || ',' || start_s || ',' || store_id || ',' || client_id || ',' || decided_backend || ',' ||
                answered_backend || ',' || decision || ',' || requests || ',' || spillover || ',' || fallback || ',' ||
                refused_429 || ',' || refused_503, 0.0
         FROM request_rollup ORDER BY width_s, start_s, store_id, client_id, decided_backend, answered_backend, decision",
    ] {
        rows.extend(
            sqlx::query_as::<_, (String, f64)>(sql)
                .fetch_all(pool)
                .await
                .unwrap(),
        );
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migrations_back_fill_equals_what_the_writer_sums() {
    let dir = tempfile::tempdir().unwrap();
    // the writer's rollups, row by row as the router writes them
    let (ledger, _) = seeded(dir.path(), 1500, 5).await;
    let live = rollup_rows(sqlite(&ledger)).await;
    assert!(live.len() > 3000, "{} rollup rows", live.len());

    // a ledger as it was before 0008, holding the same rows, then migrated
    let before = dir.path().join("before.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&before)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let old = sqlx::migrate::Migrator::new(migrations_before_rollups(dir.path()))
        .await
        .unwrap();
    old.run(&pool).await.unwrap();
    let source = dir.path().join("router.db");
    sqlx::query("ATTACH DATABASE ? AS live")
        .bind(source.to_string_lossy().into_owned())
        .execute(&pool)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO clients (id, name, key_hash, created_at, revoked_at, kind) SELECT id, name, key_hash, created_at, revoked_at, kind FROM live.clients",
        "INSERT INTO requests (id, client_id, idempotency_key, requested_model, stream, decision, decision_reason, decided_backend, final_backend,
            fallback, status, error_code, attempts, started_at, latency_ms, ttft_ms, cost_usd, store_id)
         SELECT id, client_id, idempotency_key, requested_model, stream, decision, decision_reason, decided_backend, final_backend,
            fallback, status, error_code, attempts, started_at, latency_ms, ttft_ms, cost_usd, store_id FROM live.requests",
        "INSERT INTO attempts (request_id, n, backend, provider_model, outcome, http_status, provider_error, retry_after_ms, queue_wait_ms,
            latency_ms, ttft_ms, input_tokens, output_tokens, cached_tokens, reasoning_tokens, image_tokens, cost_usd, started_at)
         SELECT request_id, n, backend, provider_model, outcome, http_status, provider_error, retry_after_ms, queue_wait_ms,
            latency_ms, ttft_ms, input_tokens, output_tokens, cached_tokens, reasoning_tokens, image_tokens, cost_usd, started_at FROM live.attempts",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    sqlx::query("DETACH DATABASE live")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    let filled = rollup_rows(&pool).await;

    assert_eq!(filled.len(), live.len(), "as many rollup rows");
    for (f, l) in filled.iter().zip(&live) {
        assert_eq!(f.0, l.0, "the back-fill's row against the writer's");
        assert!(
            (f.1 - l.1).abs() <= 1e-9,
            "{}: cost {} against {}",
            f.0,
            f.1,
            l.1
        );
    }
    // the migration's bins are the writer's, to the bit
    let bins: Vec<(i64, f64)> =
        sqlx::query_as("SELECT bin, upper_ms FROM latency_bins ORDER BY bin")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(bins.len(), router::rollup::TOP_BIN + 1);
    for (bin, upper) in bins {
        assert_eq!(
            upper.to_bits(),
            router::rollup::upper_ms(bin as usize).to_bits(),
            "bin {bin}"
        );
    }
}

/// A query string value, percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A request page's ids and its attempts' backends, as the API answered.
fn page_rows(page: &RequestPage) -> Vec<(String, Vec<String>)> {
    page.requests
        .iter()
        .map(|r| {
            (
                r.id.clone(),
                r.attempts.iter().map(|a| a.backend.clone()).collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_serves_the_dashboard_pages_the_requests_and_refuses_bad_queries() {
    let s = setup(Options::default()).await;
    let admin = s.admin().await;
    // a second writer on the router's ledger: the same code path as the router's own
    let ledger = Ledger::open(&s.location).await.unwrap();
    let mut clients = Vec::new();
    for name in ["store-1-a", "store-2"] {
        clients.push(ledger.create_client(name).await.unwrap().0.id);
    }
    for row in requests(&clients, 1200, 3) {
        ledger.record(row).await;
    }
    ledger.flush().await;
    let get = |path: &str, query: &[(&str, String)]| {
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        s.get_as(&admin, &format!("{path}?{}", query.join("&")))
            .send()
    };
    let (from, to) = (at(BASE_S), at(BASE_S + SPAN_S));
    let window = |extra: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
        let mut q = vec![("from", from.clone()), ("to", to.clone())];
        q.extend(extra.iter().cloned());
        q
    };

    // the dashboard over HTTP is the rollups' reading
    for (extra, filters) in [
        (
            vec![("bucket", "hour".to_owned())],
            DashboardQuery::default(),
        ),
        (
            vec![
                ("bucket", "day".to_owned()),
                ("store", "s1".to_owned()),
                ("device", clients[0].to_string()),
            ],
            DashboardQuery {
                bucket: Some(Bucket::Day),
                store: Some("s1".into()),
                device: Some(clients[0]),
                ..DashboardQuery::default()
            },
        ),
    ] {
        let answer = get("/admin/v1/dashboard", &window(&extra)).await.unwrap();
        assert_eq!(answer.status(), 200);
        let text = answer.text().await.unwrap();
        let q = DashboardQuery {
            from: Some(from.clone()),
            to: Some(to.clone()),
            ..filters
        };
        let direct = read::dashboard(ledger.db(), &q, OffsetDateTime::now_utc())
            .await
            .unwrap();
        // as text: serde_json's default float parsing may miss the last bit
        assert_eq!(text, serde_json::to_string(&direct).unwrap());
        let dashboard: Dashboard = serde_json::from_str(&text).unwrap();
        assert!(!dashboard.usage.is_empty() && !dashboard.latency.is_empty());
        assert!(dashboard.window.from <= from && dashboard.window.to >= to);
    }
    let dashboard: Dashboard = get("/admin/v1/dashboard", &window(&[]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // its parts one by one, with their window
    let usage: Value = get("/admin/v1/usage", &window(&[]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage["window"]["from"], from.as_str());
    assert_eq!(
        usage["usage"].as_array().map(Vec::len),
        Some(dashboard.usage.len())
    );
    let latency: Value = get("/admin/v1/latency", &window(&[]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        latency["latency"].as_array().map(Vec::len),
        Some(dashboard.latency.len())
    );
    let shares: Value = get("/admin/v1/shares", &window(&[]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_value::<Vec<SharePoint>>(shares["shares"].clone()).unwrap(),
        dashboard.shares
    );

    // CSV: a header with units, the window in the file's name
    let stamp = |t: &str| t.replace(['-', ':'], "");
    for (table, header, rows) in [
        ("usage", "bucket,backend,model,attempts,ok,errors,timeouts,input_tokens,output_tokens,cached_tokens,reasoning_tokens,image_tokens,cost_usd", dashboard.usage.len()),
        ("latency", "bucket,backend,model,calls,p50_ms,p95_ms,p99_ms,streamed,ttft_p50_ms,ttft_p95_ms,ttft_p99_ms", dashboard.latency.len()),
    ] {
        let answer = get(&format!("/admin/v1/{table}"), &window(&[("format", "csv".into())])).await.unwrap();
        assert_eq!(answer.status(), 200);
        let disposition = answer.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"{table}_{}_{}_hour.csv\"", stamp(&from), stamp(&to))
        );
        let text = answer.text().await.unwrap();
        assert_eq!(text.lines().next(), Some(header));
        assert_eq!(text.lines().count(), rows + 1, "{text}");
    }
    let shares_csv = get("/admin/v1/shares", &window(&[("format", "csv".into())]))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let total: i64 = shares_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1].is_empty())
        .map(|f| f[2].parse::<i64>().unwrap())
        .sum();
    assert_eq!(
        total,
        dashboard.shares.iter().map(|p| p.requests).sum::<i64>()
    );
    let live_csv = get("/admin/v1/live", &[("format", "csv".into())])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(live_csv.starts_with("at,backend,in_flight,cap,in_rotation,disabled_reason,disabled_until,errors_today,rpm,rps10\n"), "{live_csv}");
    let live: protocol::admin::Live = get("/admin/v1/live", &[])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        live.backends
            .iter()
            .map(|b| (b.name.as_str(), b.in_rotation))
            .collect::<Vec<_>>(),
        [("gemini", true), ("bedrock", true)]
    );

    // an empty range: empty series, with its window
    let empty: Dashboard = get(
        "/admin/v1/dashboard",
        &[
            ("from", "2020-01-01T00:00:00Z".into()),
            ("to", "2020-01-02T00:00:00Z".into()),
        ],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(empty.usage.is_empty() && empty.latency.is_empty() && empty.shares.is_empty());
    assert_eq!(empty.window.from, "2020-01-01T00:00:00Z");
    assert!(
        !empty.choices.backends.is_empty(),
        "the choices are the ledger's"
    );

    // bad values: 400 invalid_request, naming what is wrong
    for (path, query, says) in [
        (
            "dashboard",
            vec![("from", "yesterday".to_owned())],
            "from is not an RFC 3339 time",
        ),
        (
            "dashboard",
            vec![("from", to.clone()), ("to", to.clone())],
            "must be before",
        ),
        (
            "dashboard",
            vec![("from", to.clone()), ("to", from.clone())],
            "must be before",
        ),
        (
            "usage",
            vec![("bucket", "week".to_owned())],
            "bucket is hour or day",
        ),
        (
            "dashboard",
            vec![
                ("from", "2025-01-01T00:00:00Z".to_owned()),
                ("to", "2026-05-01T00:00:00Z".to_owned()),
            ],
            "400 days at most",
        ),
        (
            "latency",
            vec![("device", "abc".to_owned())],
            "device is a device id",
        ),
        (
            "shares",
            vec![("format", "xml".to_owned())],
            "format is csv or json",
        ),
        (
            "requests",
            vec![("limit", "501".to_owned())],
            "limit is 1 to 500",
        ),
        (
            "requests",
            vec![("limit", "0".to_owned())],
            "limit is 1 to 500",
        ),
        (
            "requests",
            vec![("before", "soon".to_owned())],
            "before is not an RFC 3339 time",
        ),
    ] {
        let answer = get(&format!("/admin/v1/{path}"), &query).await.unwrap();
        assert_eq!(answer.status(), 400, "{path} {query:?}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "invalid_request", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{path} {query:?}: {body}"
        );
    }

    // the requests, paged back newest first, each with its attempts; filtered
    let rows: Vec<(String, String, Option<String>)> = router::with_db!(ledger.db(), pool => {
        sqlx::query_as("SELECT id, started_at, store_id FROM requests")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    let attempts: Vec<(String, i64, String)> = router::with_db!(ledger.db(), pool => {
        sqlx::query_as("SELECT request_id, n, backend FROM attempts")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    let mut by_request: BTreeMap<&str, BTreeMap<i64, String>> = BTreeMap::new();
    for (id, n, backend) in &attempts {
        by_request
            .entry(id)
            .or_default()
            .insert(*n, backend.clone());
    }
    for (extra, keep) in [
        (
            vec![("store", "s1".to_owned())],
            Box::new(|r: &(String, String, Option<String>), _: &[String]| {
                r.2.as_deref() == Some("s1")
            }) as Box<dyn Fn(&(String, String, Option<String>), &[String]) -> bool>,
        ),
        (
            vec![("backend", "bedrock".to_owned())],
            Box::new(
                |_: &(String, String, Option<String>), backends: &[String]| {
                    backends.iter().any(|b| b == "bedrock")
                },
            ),
        ),
    ] {
        let (from_s, to_s) = (BASE_S, BASE_S + SPAN_S);
        let mut want: Vec<(&str, &str, Vec<String>)> = rows
            .iter()
            .filter(|r| (from_s..to_s).contains(&unix(&r.1)))
            .map(|r| {
                let backends: Vec<String> = by_request
                    .get(r.0.as_str())
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                (r, backends)
            })
            .filter(|(r, backends)| keep(r, backends))
            .map(|(r, backends)| (r.1.as_str(), r.0.as_str(), backends))
            .collect();
        // newest first, as the ledger's text of the time sorts
        want.sort_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)));
        let want: Vec<(String, Vec<String>)> = want
            .into_iter()
            .map(|(_, id, b)| (id.to_owned(), b))
            .collect();
        assert!(want.len() > 120, "{extra:?}: {} requests", want.len());

        let mut got = Vec::new();
        let mut before: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut q = window(&extra);
            q.push(("limit", "50".into()));
            if let Some(b) = &before {
                q.push(("before", b.clone()));
            }
            let page: RequestPage = get("/admin/v1/requests", &q)
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(page.requests.len() <= 50);
            got.extend(page_rows(&page));
            pages += 1;
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        assert!(pages >= 3);
        assert_eq!(got, want, "{extra:?}");
    }
    let csv = get(
        "/admin/v1/requests",
        &window(&[("format", "csv".into()), ("limit", "10".into())]),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(csv.starts_with("id,started_at,device,store,requested_model,stream,decision,decision_reason,decided_backend,final_backend,fallback,status,error_code,attempts,latency_ms,ttft_ms,cost_usd\n"));
    assert_eq!(csv.lines().count(), 11);
}
