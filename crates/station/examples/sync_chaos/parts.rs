//! The real processes: the two fake LLM providers (with the fault script) and `review-router`
//! (killed with SIGKILL and started again on the same port, the same ledger).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::Layout;

pub const ADMIN_KEY: &str = "admin-key-of-sync-chaos";
/// The key sealing the router's TOTP secrets in this run.
pub const SECRET_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// The password of the run's account (the station works under a router account).
pub const PASSWORD: &str = "sync chaos passphrase";
/// The model the stations' jobs run on (the router's `jobs_model`).
pub const JOBS_MODEL: &str = "reasoning";

/// The binaries `cargo build -p router -p fake-llm --bins` made, beside this example's folder.
#[derive(Debug)]
pub struct Bins {
    router: PathBuf,
    fake: PathBuf,
}

impl Bins {
    pub fn find() -> Self {
        let me = std::env::current_exe().expect("this program's path");
        // target/<profile>/examples/sync_chaos → target/<profile>/
        let dir = me
            .parent()
            .and_then(Path::parent)
            .expect("the target folder");
        let bins = Self {
            router: dir.join("review-router"),
            fake: dir.join("fake-llm"),
        };
        for bin in [&bins.router, &bins.fake] {
            assert!(
                bin.is_file(),
                "{} is missing: run `cargo build -p router -p fake-llm --bins` first (same profile)",
                bin.display()
            );
        }
        bins
    }
}

fn log_file(path: &Path) -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("a log file"),
    )
}

/// The fault script of both fakes: some 429s, 503s, answers later than the router's backend
/// timeout (2.5 s) and answers cut mid-body; the rest answered in 20–300 ms.
fn script(seed: u64) -> String {
    format!(
        r#"{{"seed": {seed}, "latency": {{"uniform_ms": [20, 300]}}, "faults": [
            {{"kind": "rate_limit", "share": 0.05, "retry_after_ms": 200}},
            {{"kind": "server_error", "share": 0.05, "status": 503}},
            {{"kind": "timeout", "share": 0.03, "delay_ms": 4000}},
            {{"kind": "cut_stream", "share": 0.04}}
        ]}}"#
    )
}

/// The two fake providers: Gemini's wire format (the primary) and OpenAI's (the secondary).
#[derive(Debug)]
pub struct Fakes {
    gemini: Child,
    openai: Child,
    pub gemini_url: String,
    pub openai_url: String,
}

async fn start_fake(
    bins: &Bins,
    layout: &Layout,
    name: &str,
    provider: &str,
    model: &str,
    seed: u64,
) -> (Child, String) {
    let dir = layout.router();
    let script_path = dir.join(format!("{name}.script.json"));
    std::fs::write(&script_path, script(seed)).expect("the fake's script");
    let port_file = dir.join(format!("{name}.port"));
    let child = Command::new(&bins.fake)
        .arg("--provider")
        .arg(provider)
        .arg("--model")
        .arg(model)
        .arg("--script")
        .arg(&script_path)
        .arg("--port-file")
        .arg(&port_file)
        .stdout(Stdio::null())
        .stderr(log_file(&dir.join(format!("{name}.log"))))
        .kill_on_drop(true)
        .spawn()
        .expect("fake-llm starts");
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            let address: SocketAddr = text.trim().parse().expect("an address");
            return (child, format!("http://{address}/v1"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "fake-llm {name} wrote no port file"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Fakes {
    pub async fn start(bins: &Bins, layout: &Layout, seed: u64) -> Self {
        let (gemini, gemini_url) =
            start_fake(bins, layout, "gemini", "gemini", "gemini-2.5-flash", seed).await;
        let (openai, openai_url) =
            start_fake(bins, layout, "openai", "openai", "qwen3-32b", seed ^ 1).await;
        Self {
            gemini,
            openai,
            gemini_url,
            openai_url,
        }
    }

    /// Each fake's `/_fake/stats`: requests and the faults the script injected.
    pub async fn stats(&self) -> Vec<(String, serde_json::Value)> {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for (name, url) in [("gemini", &self.gemini_url), ("openai", &self.openai_url)] {
            let stats = match http
                .get(url.replace("/v1", "/_fake/stats"))
                .timeout(Duration::from_secs(10))
                .send()
                .await
            {
                Ok(response) => response.json().await.unwrap_or_default(),
                Err(_) => serde_json::Value::Null,
            };
            out.push((name.to_owned(), stats));
        }
        out
    }

    pub async fn stop(mut self) {
        for child in [&mut self.gemini, &mut self.openai] {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }
}

/// `review-router` as its own process, on a port chosen once so it comes back where the proxy
/// sends the station.
#[derive(Debug)]
pub struct RouterProcess {
    bin: PathBuf,
    config: PathBuf,
    log: PathBuf,
    pub address: SocketAddr,
    child: Option<Child>,
    pub starts: u32,
}

impl RouterProcess {
    pub async fn start(bins: &Bins, layout: &Layout, fakes: &Fakes) -> Self {
        let dir = layout.router();
        let address = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address")
        };
        let config = format!(
            r#"listen = "{address}"
database = "router.db"
blob_dir = "blobs"
jobs_model = "{JOBS_MODEL}"
[admission]
per_key_rps = 200
per_key_burst = 2000
[routing]
primary = "gemini"
secondary = "bedrock"
spill_rpm = 100000
spill_rps10 = 100000
spill_share = 0.5
max_attempts = 3
quota_disable_secs = 5
daily_exception_limit = 1000000
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "{g}"
max_in_flight = 16
queue_wait_ms = 2000
timeout_ms = 2500
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "{b}"
max_in_flight = 16
queue_wait_ms = 2000
timeout_ms = 2500
[[models]]
name = "{JOBS_MODEL}"
[models.serve.gemini]
model = "gemini-2.5-flash"
prices = [{{ from = "2026-01-01", input = 0.30, output = 2.50 }}]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{{ from = "2026-01-01", input = 0.15, output = 0.60 }}]
"#,
            g = fakes.gemini_url,
            b = fakes.openai_url,
        );
        let config_path = dir.join("router.toml");
        std::fs::write(&config_path, config).expect("the router's config");
        let mut router = Self {
            bin: bins.router.clone(),
            config: config_path,
            log: dir.join("router.log"),
            address,
            child: None,
            starts: 0,
        };
        router.restart().await;
        router
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().and_then(Child::id).unwrap_or(0)
    }

    pub fn log_path(&self) -> PathBuf {
        self.log.clone()
    }

    /// Starts it (again), and waits until it answers `/healthz`.
    pub async fn restart(&mut self) {
        let child = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .env("REVIEW_ROUTER_ADMIN_KEY", ADMIN_KEY)
            .env("REVIEW_ROUTER_SECRET_KEY", SECRET_KEY)
            .env("REVIEW_ROUTER_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log_file(&self.log))
            .kill_on_drop(true)
            .spawn()
            .expect("review-router starts");
        self.child = Some(child);
        self.starts += 1;
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let up = http
                .get(format!("http://{}/healthz", self.address))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "review-router exited at start ({status}): see {}",
                        self.log.display()
                    );
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "review-router did not answer /healthz in 30 s: see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and reaped.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub async fn ensure_up(&mut self) {
        let running = match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        };
        if !running {
            self.restart().await;
        }
    }

    /// SIGTERM: the router finishes its requests and flushes its ledger.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(30), child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }

    /// An admin account `name` (reviewer and auditor at once), as the operator makes it with
    /// `review-router users add`.
    pub async fn add_account(&self, name: &str) {
        use tokio::io::AsyncWriteExt;
        let mut child = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(["users", "add", name, "--role", "admin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("review-router users add");
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(format!("{PASSWORD}\n").as_bytes())
                .await
                .expect("the password goes in");
        }
        let out = child.wait_with_output().await.expect("users add ends");
        assert!(
            out.status.success(),
            "users add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A one-time enrolment code, as an admin makes it.
    pub async fn enrolment_code(&self) -> String {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("http://{}/admin/v1/enrolment-codes", self.address))
            .bearer_auth(ADMIN_KEY)
            .json(&serde_json::json!({"note": "sync_chaos"}))
            .send()
            .await
            .expect("the router answers")
            .json()
            .await
            .expect("JSON");
        answer["code"]
            .as_str()
            .expect("an enrolment code")
            .to_owned()
    }
}
