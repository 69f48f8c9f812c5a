//! The router at scale, side by side in one run on this machine: 1 and 3 replicas, with the
//! traffic state in each process or shared in Redis (Debian's redis-server on a loopback port),
//! the ledger in one SQLite file or on PostgreSQL (Debian's, on a loopback port, fsync off), in
//! front of the fake provider answering after 50 ms. Prints,
//! per setup: requests per second, the latency added over calling the fake directly (p50,
//! p99), Redis round trips per request (the replicas' own `router_redis_round_trips_total`)
//! and the commands Redis ran per request, its scripts' included (Redis's `INFO commandstats`).
//! A benchmark prints numbers; it asserts nothing.
//!
//!     cargo bench -p router --bench replicas_bench
//!
//! All processes share this machine's cores (load generator, fake, replicas, Redis): on a small
//! machine 3 replicas cannot be faster than 1, and the figures show what sharing costs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark program

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{listening, load, RUN, WARMUP};
use fake_llm::{FakeConfig, Provider, Script};
use testbed::Redis;

const CONNECTIONS: [usize; 2] = [1, 50];

struct Deployment {
    replicas: Vec<Child>,
    urls: Vec<String>,
    key: String,
    _dir: tempfile::TempDir,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for child in &mut self.replicas {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `n` replicas on one ledger (a SQLite file, or `postgres`' database); with `redis`, sharing
/// their traffic state there.
fn deploy(fake_url: &str, n: usize, redis: Option<&Redis>, postgres: Option<&str>) -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let database = postgres.unwrap_or("router.db");
    let shared = if redis.is_some() {
        "[shared]\nredis_url_env = \"REVIEW_ROUTER_REDIS_URL\"\nkey_prefix = \"bench\"\n"
    } else {
        ""
    };
    let (config, key) = common::router_config(dir.path(), fake_url, database, shared);
    let bin = env!("CARGO_BIN_EXE_review-router");
    let mut replicas = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..n {
        let (child, url) = start(bin, &config, redis);
        replicas.push(child);
        urls.push(url);
    }
    Deployment {
        replicas,
        urls,
        key,
        _dir: dir,
    }
}

fn start(bin: &str, config: &Path, redis: Option<&Redis>) -> (Child, String) {
    let mut command = Command::new(bin);
    command
        .arg("--config")
        .arg(config)
        .env("REVIEW_ROUTER_LOG", "warn")
        .stderr(Stdio::piped());
    if let Some(redis) = redis {
        command.env("REVIEW_ROUTER_REDIS_URL", redis.url());
    }
    let mut child = command.spawn().unwrap();
    let address = listening(&mut child);
    (child, format!("http://{address}/v1/chat/completions"))
}

/// Commands Redis has run so far, those its scripts ran included (every `cmdstat_*` line's
/// `calls=`: Redis's own count).
fn redis_commands(redis: &Redis) -> u64 {
    let output = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "INFO", "commandstats"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Requests the replicas sent to Redis (their `router_redis_round_trips_total`).
async fn round_trips(urls: &[String]) -> u64 {
    let mut total = 0;
    for url in urls {
        let metrics = url.replace("/v1/chat/completions", "/metrics");
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        total += text
            .lines()
            .find_map(|l| l.strip_prefix("router_redis_round_trips_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let script = Script::from_json(r#"{"latency":{"fixed_ms":50}}"#).unwrap();
        let fake = fake_llm::spawn(
            FakeConfig {
                models: vec!["fake-model".into()],
                ..FakeConfig::new(Provider::OpenAi)
            }
            .with_script(script),
        )
        .await
        .unwrap();
        let fake_url = fake.base_url();
        let redis = Redis::start();
        let pg = testbed::Postgres::start();
        println!(
            "replicas benchmark: fake provider at 50 ms, ledger SQLite (one file) or PostgreSQL 15 (fsync off), {}; {} s per run after {} s warm-up",
            common::cpu(),
            RUN.as_secs(),
            WARMUP.as_secs()
        );
        println!(
            "{:<32} {:>5} {:>10} {:>10} {:>12} {:>12} {:>10} {:>7} {:>10} {:>13}",
            "setup", "conns", "p50 ms", "p99 ms", "added p50", "added p99", "req/s", "errors", "trips/req", "commands/req"
        );
        let setups: [(&str, usize, bool, bool); 6] = [
            ("1 replica, SQLite", 1, false, false),
            ("1 replica, PostgreSQL", 1, false, true),
            ("1 replica, SQLite, Redis", 1, true, false),
            ("3 replicas, SQLite, Redis", 3, true, false),
            ("3 replicas, PostgreSQL, Redis", 3, true, true),
            ("3 replicas, SQLite, in process", 3, false, false),
        ];
        let mut databases = 0;
        for connections in CONNECTIONS {
            let direct = load(&[format!("{fake_url}/chat/completions")], "", connections).await;
            println!(
                "{:<32} {connections:>5} {:>10.2} {:>10.2} {:>12} {:>12} {:>10.1} {:>7} {:>10} {:>13}",
                "direct to the fake", direct.p50_ms, direct.p99_ms, "", "", direct.rps, direct.errors, "", ""
            );
            for (name, n, shared, on_postgres) in setups {
                let url = on_postgres.then(|| {
                    databases += 1;
                    pg.create_database(&format!("bench{databases}"))
                });
                let deployment = deploy(&fake_url, n, shared.then_some(&redis), url.as_deref());
                let (commands_before, trips_before) =
                    (redis_commands(&redis), round_trips(&deployment.urls).await);
                let m = load(&deployment.urls, &deployment.key, connections).await;
                let per_request = |n: u64| format!("{:.1}", n as f64 / m.answered.max(1) as f64);
                let (trips, commands) = if shared {
                    (
                        per_request(round_trips(&deployment.urls).await - trips_before),
                        per_request(redis_commands(&redis) - commands_before),
                    )
                } else {
                    ("-".into(), "-".into())
                };
                println!(
                    "{name:<32} {connections:>5} {:>10.2} {:>10.2} {:>+12.2} {:>+12.2} {:>10.1} {:>7} {trips:>10} {commands:>13}",
                    m.p50_ms,
                    m.p99_ms,
                    m.p50_ms - direct.p50_ms,
                    m.p99_ms - direct.p99_ms,
                    m.rps,
                    m.errors
                );
            }
        }
        println!("(\"3 replicas, SQLite, in process\" is not a valid deployment — each process keeps its own caps — and is shown for what Redis costs)");
        drop(fake);
    });
}
