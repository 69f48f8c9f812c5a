//! What the router's benchmark programs share: a closed-loop load of N connections, the
//! percentiles, where a child process listens, its memory, and the CPU line printed beside
//! every figure.
#![allow(dead_code)] // each benchmark uses its own share of these

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const RUN: Duration = Duration::from_secs(8);
pub const WARMUP: Duration = Duration::from_secs(1);

pub struct Measured {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rps: f64,
    pub errors: usize,
    /// Requests answered over the whole load, warm-up included.
    pub answered: usize,
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// `connections` clients in a loop, each with its own connection, for `RUN` after a warm-up;
/// connection i sends to `urls[i % urls.len()]` (several replicas behind no proxy).
pub async fn load(urls: &[String], key: &str, connections: usize) -> Measured {
    let answered = Arc::new(AtomicUsize::new(0));
    let body = serde_json::json!({"model": "reasoning", "messages": [{"role": "user", "content": "Is the price tag on the shelf edge readable?"}]});
    let body = Arc::new(serde_json::to_vec(&body).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..connections {
        let url = &urls[i % urls.len()];
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .unwrap();
        let (url, key, body, stop, measuring, answered) = (
            url.to_owned(),
            key.to_owned(),
            Arc::clone(&body),
            Arc::clone(&stop),
            Arc::clone(&measuring),
            Arc::clone(&answered),
        );
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut errors = 0;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let ok = match client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.to_vec())
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        times.push(began.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                }
            }
            (times, errors)
        }));
    }
    tokio::time::sleep(WARMUP).await;
    measuring.store(true, Ordering::Relaxed);
    let began = Instant::now();
    tokio::time::sleep(RUN).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (times, e) = task.await.unwrap();
        all.extend(times);
        errors += e;
    }
    all.sort_by(f64::total_cmp);
    Measured {
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
        rps: all.len() as f64 / elapsed,
        errors,
        answered: answered.load(Ordering::Relaxed),
    }
}

/// The address a child prints as `listening on ADDR` (stderr), or LiteLLM's port once it answers.
pub fn listening(child: &mut Child) -> String {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("the process printed where it listens")
            .unwrap();
        if let Some(address) = line.strip_prefix("listening on ") {
            std::thread::spawn(move || for _ in lines {});
            return address.to_owned();
        }
    }
}

pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The CPU line printed beside every figure.
pub fn cpu() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores of {model}, no GPU used")
}

/// A router config in `dir` for the benchmarks: two backends on the fake at `fake_url`, limits
/// far above any load here, the ledger at `database` (a file in `dir` or a PostgreSQL URL), and
/// `extra` appended (`[shared]`). Returns the config's path and a client key created on it.
pub fn router_config(dir: &Path, fake_url: &str, database: &str, extra: &str) -> (PathBuf, String) {
    let config = dir.join("router.toml");
    std::fs::write(
        &config,
        format!(
            r#"listen = "127.0.0.1:0"
database = "{database}"
[admission]
per_key_rps = 100000
per_key_burst = 100000
[routing]
primary = "primary"
secondary = "secondary"
spill_rpm = 100000000
spill_rps10 = 100000000
spill_share = 0.5
[[backends]]
name = "primary"
base_url = "{fake_url}"
max_in_flight = 1000
[[backends]]
name = "secondary"
base_url = "{fake_url}"
max_in_flight = 1000
[[models]]
name = "reasoning"
[models.serve.primary]
model = "fake-model"
prices = [{{ from = "2026-01-01", input = 0.30, output = 2.50 }}]
[models.serve.secondary]
model = "fake-model"
prices = [{{ from = "2026-01-01", input = 0.15, output = 0.60 }}]
{extra}"#
        ),
    )
    .unwrap();
    let key = Command::new(env!("CARGO_BIN_EXE_review-router"))
        .arg("--config")
        .arg(&config)
        .args(["keys", "create", "bench"])
        .output()
        .unwrap();
    (
        config,
        String::from_utf8_lossy(&key.stdout).trim().to_owned(),
    )
}
