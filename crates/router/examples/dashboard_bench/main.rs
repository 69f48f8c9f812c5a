//! The admin dashboards at millions of ledger rows: what the dashboard screen loads when it opens,
//! timed over real HTTP on loopback against the real router (`router::serve`), beside the same
//! numbers computed by direct queries over the raw rows (the peer: window functions over
//! `attempts`, as the admin API did before the rollups). A benchmark prints numbers; it asserts
//! nothing (it says whether the two sides agree).
//!
//! The ledger is seeded through the ledger's own writer (`Ledger::record`, the batches and the
//! rollups the router writes; the traffic in `seed.rs`): by default ≈ 900k requests, ≈ 1M
//! attempts, 2 backends, 3 provider models, 5 stores, 8 devices, 30 days up to now. It is a
//! SQLite file in a temp folder, or with `--postgres` a database on a PostgreSQL server this
//! program starts on loopback (Debian's package, throwaway cluster, stopped at the end).
//!
//!     cargo run --release -p router --example dashboard_bench [-- REQUESTS] [--postgres]
//!
//! (8,940,000 requests make ≈ 10M attempts. `DASHBOARD_BENCH_KEEP=1` keeps a SQLite ledger
//! and says where. The peer runs once per screen past 2M requests: a run takes minutes.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark program

use std::time::{Duration, Instant};

use protocol::account::Role;
use protocol::admin::{Dashboard, RequestPage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::accounts::{Accounts, Sealer};
use router::db::{Db, Location};
use router::ledger::Ledger;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

mod peer;
mod seed;

use seed::{request, Device};

const REQUESTS: usize = 900_000;
const DAYS: i64 = 30;
const RUNS: usize = 20;
/// The peer is slow: fewer runs (and one past `MANY_REQUESTS`).
const PEER_RUNS: usize = 3;
const MANY_REQUESTS: usize = 2_000_000;

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let requests: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(REQUESTS);
    let on_postgres = args.iter().any(|a| a == "--postgres");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("router.db");
    // kept to the end: dropping it stops the server
    let server = on_postgres.then(testbed::Postgres::start);
    let location = match &server {
        Some(pg) => Location::Postgres(pg.create_database("dashboards")),
        None => Location::Sqlite(file.clone()),
    };
    let ledger = Ledger::open(&location).await.unwrap();
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
        if i % 500_000 == 499_999 {
            eprintln!(
                "seeded {} requests in {:.0} s",
                i + 1,
                began.elapsed().as_secs_f64()
            );
        }
    }
    ledger.flush().await;
    let seeded_s = began.elapsed().as_secs_f64();
    let db: Db = ledger.db().clone();
    if let Db::Postgres(pool) = &db {
        // what autovacuum does on its own a while after a bulk of inserts: fresh planner
        // statistics and the visibility map, so the figures are not those of a cold, unanalysed table
        let began = Instant::now();
        sqlx::query("VACUUM ANALYZE").execute(pool).await.unwrap();
        eprintln!("VACUUM ANALYZE in {:.0} s", began.elapsed().as_secs_f64());
    }
    let count = |table: &'static str| {
        let db = db.clone();
        async move {
            router::with_db!(&db, pool => sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(pool)
                .await
                .unwrap())
        }
    };
    let headers = admin_headers(&ledger).await;

    // the router, on this ledger
    let config = dir.path().join("router.toml");
    std::fs::write(
        &config,
        format!(
            r#"database = "{}"
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
prices = [{{ from = "2026-01-01", input = 0.30, output = 2.50 }}]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{{ from = "2026-01-01", input = 0.15, output = 0.60 }}]
"#,
            match &location {
                Location::Postgres(url) => url.as_str(),
                Location::Sqlite(_) => "router.db",
            }
        ),
    )
    .unwrap();
    let config = router::RouterConfig::load(&config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = tokio::spawn(router::serve(config, listener, async move {
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
    let size = match &db {
        Db::Postgres(pool) => {
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await
                .unwrap() as f64
        }
        Db::Sqlite(_) => std::fs::metadata(&file).map_or(0, |m| m.len()) as f64,
    };
    println!(
        "ledger: {} requests, {} attempts over {DAYS} days, 8 devices in 5 stores, 2 backends, 3 models; seeded in {seeded_s:.0} s through the ledger's writer; {} {:.0} MB",
        count("requests").await,
        count("attempts").await,
        if server.is_some() { "PostgreSQL (fsync off, a throwaway cluster) database" } else { "SQLite file" },
        size / 1e6
    );
    println!(
        "rollups: usage_rollup {} rows, latency_rollup {}, latency_rollup_all {}, request_rollup {}",
        count("usage_rollup").await,
        count("latency_rollup").await,
        count("latency_rollup_all").await,
        count("request_rollup").await
    );
    let (statuses, outcomes) = router::with_db!(&db, pool => {
        let statuses: Vec<(i64, i64)> =
            sqlx::query_as("SELECT status, count(*) FROM requests GROUP BY status ORDER BY status")
                .fetch_all(pool)
                .await
                .unwrap();
        let outcomes: Vec<(String, i64)> =
            sqlx::query_as("SELECT outcome, count(*) FROM attempts GROUP BY outcome ORDER BY outcome")
                .fetch_all(pool)
                .await
                .unwrap();
        (statuses, outcomes)
    });
    println!("mix: statuses {statuses:?}; outcomes {outcomes:?}");
    eprintln!("timing the screens now");
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

    let peer_runs = if requests > MANY_REQUESTS {
        1
    } else {
        PEER_RUNS
    };
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
        let (s, numbers) = timed(peer_runs, || {
            peer::numbers(
                &db,
                &from_s,
                &to_s,
                *day,
                filtered.then_some(store),
                filtered.then_some(device),
            )
        })
        .await;
        row(name, &s, &peer::agree(d, &numbers));
    }
    let (s, n) = timed(peer_runs, || peer::page_one_query_each(&db)).await;
    row(
        "requests?limit=50 (a query per request)",
        &s,
        &format!("{n} attempts"),
    );

    let _ = stop.send(());
    let _ = router.await;
    drop(server);
    if std::env::var_os("DASHBOARD_BENCH_KEEP").is_some() && !on_postgres {
        eprintln!("the ledger is kept in {}", dir.keep().display());
    }
}
