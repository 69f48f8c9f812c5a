//! The router against its peers, side by side in one run, on this machine: the fake provider
//! answering after 50 ms, reached directly, through `review-router` (release build) and through
//! the LiteLLM proxy (pinned, from PyPI, offline), at 1, 50 and 500 concurrent connections.
//! Prints the latency each adds over the direct call (p50, p99), requests per second, and the
//! router's memory. A benchmark prints numbers; it asserts nothing.
//!
//!     cargo bench -p router --bench router_bench            # LiteLLM: tools/router_bench/setup.sh
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark program

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{listening, load, rss_kib, RUN, WARMUP};
use fake_llm::{FakeConfig, Provider, Script};

const LEVELS: [usize; 3] = [1, 50, 500];

fn start_router(fake_url: &str, dir: &std::path::Path) -> (Child, String, String) {
    let (config, key) = common::router_config(dir, fake_url, "router.db", "");
    let bin = env!("CARGO_BIN_EXE_review-router");
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .env("REVIEW_ROUTER_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let address = listening(&mut child);
    (child, format!("http://{address}/v1/chat/completions"), key)
}

fn start_litellm(fake_url: &str, dir: &std::path::Path) -> Option<(Child, String)> {
    let home = std::env::var("HOME").ok()?;
    let bin = std::path::Path::new(&home).join(".cache/review-station/venv-litellm/bin/litellm");
    if !bin.exists() {
        println!(
            "LiteLLM proxy: not installed ({} missing; run tools/router_bench/setup.sh)",
            bin.display()
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let config = dir.join("litellm.yaml");
    std::fs::write(
        &config,
        format!("model_list:\n  - model_name: reasoning\n    litellm_params:\n      model: openai/fake-model\n      api_base: {fake_url}\n      api_key: none\nlitellm_settings:\n  telemetry: false\n"),
    )
    .ok()?;
    let child = Command::new(bin)
        .args(["--config"])
        .arg(&config)
        .args([
            "--port",
            &port.to_string(),
            "--host",
            "127.0.0.1",
            "--num_workers",
            "1",
        ])
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_LOG", "ERROR")
        .env("NO_PROXY", "*")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, format!("{url}/v1/chat/completions")));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    println!("LiteLLM proxy: did not start in 120 s");
    None
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let script = Script::from_json(r#"{"latency":{"fixed_ms":50}}"#).unwrap();
        let fake = fake_llm::spawn(FakeConfig { models: vec!["fake-model".into()], ..FakeConfig::new(Provider::OpenAi) }.with_script(script)).await.unwrap();
        let fake_url = fake.base_url();
        let dir = tempfile::tempdir().unwrap();
        let (mut router, router_url, key) = start_router(&fake_url, dir.path());
        let litellm = start_litellm(&fake_url, dir.path());
        println!("router benchmark: fake provider at 50 ms, {}; {} s per run after {} s warm-up", common::cpu(), RUN.as_secs(), WARMUP.as_secs());
        println!("{:<8} {:>5} {:>10} {:>10} {:>12} {:>12} {:>10} {:>7}", "target", "conns", "p50 ms", "p99 ms", "added p50", "added p99", "req/s", "errors");
        let mut targets: Vec<(&str, String, String)> = vec![("direct", format!("{fake_url}/chat/completions"), String::new()), ("router", router_url, key)];
        if let Some((_, url)) = &litellm {
            targets.push(("litellm", url.clone(), "none".into()));
        }
        for connections in LEVELS {
            let mut direct: Option<(f64, f64)> = None;
            for (name, url, key) in &targets {
                let m = load(std::slice::from_ref(url), key, connections).await;
                let (added50, added99) = direct.map_or((String::new(), String::new()), |(p50, p99)| (format!("{:+.2}", m.p50_ms - p50), format!("{:+.2}", m.p99_ms - p99)));
                if *name == "direct" {
                    direct = Some((m.p50_ms, m.p99_ms));
                }
                println!("{name:<8} {connections:>5} {:>10.2} {:>10.2} {added50:>12} {added99:>12} {:>10.1} {:>7}", m.p50_ms, m.p99_ms, m.rps, m.errors);
            }
        }
        let (rss, hwm) = rss_kib(router.id());
        println!("router memory: {:.1} MiB resident now, {:.1} MiB at most", rss as f64 / 1024.0, hwm as f64 / 1024.0);
        if let Some((mut child, _)) = litellm {
            let (rss, hwm) = rss_kib(child.id());
            println!("litellm memory: {:.1} MiB resident now, {:.1} MiB at most (parent process)", rss as f64 / 1024.0, hwm as f64 / 1024.0);
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = router.kill();
        let _ = router.wait();
        drop(fake);
    });
}
