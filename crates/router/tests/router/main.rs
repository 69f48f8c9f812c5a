//! The router as deployed: the `review-router` binary as its own process, over real HTTP on
//! loopback, in front of two fake providers (the one fake: an LLM provider cannot exist here)
//! speaking Gemini's and OpenAI's wire formats, with faults scripted. The ledger is read from
//! its SQLite file.
//!
//! One integration binary per crate (the project's rule); past 600 lines because each point of
//! the router's contract (routing, caps, quota rotation, idempotency, the station API, the
//! stress window) is its own scenario against the real processes. The station's sync is in
//! modules on the same harness: `station_sync.rs` (hello, audit heads, blob downloads) and
//! `shared_queue.rs` (the team's shared review queue); replicas on one Redis in
//! `shared_traffic.rs` (Debian's redis-server on a loopback port).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod accounts;
mod dashboards;
mod postgres_router;
mod postgres_schema;
mod shared_queue;
mod shared_traffic;
mod station_sync;
mod updates;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fake_llm::{FakeConfig, FakeServer, Provider, Script};
use serde_json::{json, Value};

const ADMIN_KEY: &str = "admin-key-of-the-tests";
/// The key that seals TOTP secrets in the tests' routers.
const SECRET_KEY: &str = "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e";

/// Two fake backends and a router in front of them, stopped (by PID) when dropped.
struct Setup {
    gemini: FakeServer,
    bedrock: FakeServer,
    router: Child,
    base: String,
    key: String,
    db: PathBuf,
    config_path: PathBuf,
    redis: Option<String>,
    /// Where the router keeps its ledger (a SQLite file or a PostgreSQL URL).
    location: router::db::Location,
    http: reqwest::Client,
    /// Stopped (by PID) after the router, when the ledger is there.
    _postgres: Option<testbed::Postgres>,
    _dir: tempfile::TempDir,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.router.kill();
        let _ = self.router.wait();
    }
}

struct Options {
    caps: (u32, u32),
    queue_wait_ms: u64,
    spill_rpm: u32,
    spill_share: f64,
    burst: u32,
    max_body: usize,
    /// `[shared]` on this Redis (replicas share admission, counters, slots, rotation).
    redis: Option<String>,
    slot_ttl_ms: u64,
    /// The ledger on a PostgreSQL server of its own instead of a SQLite file.
    postgres: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            caps: (120, 80),
            queue_wait_ms: 2000,
            spill_rpm: 100_000,
            spill_share: 0.5,
            burst: 1000,
            max_body: 1 << 20,
            redis: None,
            slot_ttl_ms: 15_000,
            // `ROUTER_TEST_LEDGER=postgres`: every scenario on PostgreSQL
            postgres: std::env::var("ROUTER_TEST_LEDGER").is_ok_and(|v| v == "postgres"),
        }
    }
}

fn script(json: &str) -> Script {
    Script::from_json(json).expect("a valid fake script")
}

async fn setup(options: Options) -> Setup {
    let gemini = fake_llm::spawn(
        FakeConfig {
            models: vec!["gemini-2.5-flash".into()],
            ..FakeConfig::new(Provider::Gemini)
        }
        .with_script(script(r#"{"latency":{"fixed_ms":20}}"#)),
    )
    .await
    .expect("gemini fake");
    let bedrock = fake_llm::spawn(
        FakeConfig {
            models: vec!["qwen3-32b".into()],
            ..FakeConfig::new(Provider::OpenAi)
        }
        .with_script(script(r#"{"latency":{"fixed_ms":20}}"#)),
    )
    .await
    .expect("bedrock fake");
    let dir = tempfile::tempdir().expect("tempdir");
    let postgres = options.postgres.then(testbed::Postgres::start);
    let database = postgres
        .as_ref()
        .map_or_else(|| "router.db".to_owned(), |pg| pg.create_database("router"));
    let config = format!(
        r#"listen = "127.0.0.1:0"
database = "{database}"
max_body_bytes = {max_body}
[admission]
per_key_rps = 1
per_key_burst = {burst}
[routing]
primary = "gemini"
secondary = "bedrock"
spill_rpm = {spill_rpm}
spill_rps10 = 100000
spill_share = {share}
max_attempts = 3
quota_disable_secs = 30
daily_exception_limit = 100000
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "{g}"
max_in_flight = {cap0}
queue_wait_ms = {wait}
timeout_ms = 3000
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "{b}"
max_in_flight = {cap1}
queue_wait_ms = {wait}
timeout_ms = 3000
[[models]]
name = "reasoning"
[models.serve.gemini]
model = "gemini-2.5-flash"
prices = [{{ from = "2026-01-01", input = 0.30, output = 2.50, cached_input = 0.075 }}]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{{ from = "2026-01-01", input = 0.15, output = 0.60 }}]
[updates]
dir = "updates"
{shared}"#,
        max_body = options.max_body,
        burst = options.burst,
        spill_rpm = options.spill_rpm,
        share = options.spill_share,
        g = gemini.base_url(),
        b = bedrock.base_url(),
        cap0 = options.caps.0,
        cap1 = options.caps.1,
        wait = options.queue_wait_ms,
        shared = if options.redis.is_some() {
            format!(
                "[shared]\nredis_url_env = \"REVIEW_ROUTER_REDIS_URL\"\nslot_ttl_ms = {}\n",
                options.slot_ttl_ms
            )
        } else {
            String::new()
        },
    );
    let config_path = dir.path().join("router.toml");
    std::fs::write(&config_path, config).expect("write config");
    let bin = env!("CARGO_BIN_EXE_review-router");
    let created = Command::new(bin)
        .args(["--config"])
        .arg(&config_path)
        .args(["keys", "create", "station-1"])
        .output()
        .expect("keys create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(key.starts_with("rr-"), "a key is printed: {key}");
    let redis = options.redis.clone();
    let (router, address) = spawn_router(&config_path, redis.as_deref());
    Setup {
        gemini,
        bedrock,
        router,
        base: format!("http://{address}"),
        key,
        db: dir.path().join("router.db"),
        config_path,
        redis,
        location: if postgres.is_some() {
            router::db::Location::Postgres(database)
        } else {
            router::db::Location::Sqlite(dir.path().join("router.db"))
        },
        http: reqwest::Client::new(),
        _postgres: postgres,
        _dir: dir,
    }
}

/// A `review-router` process on `config_path` (its own port); returns it and where it listens.
fn spawn_router(config_path: &std::path::Path, redis: Option<&str>) -> (Child, SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_review-router"));
    command
        .arg("--config")
        .arg(config_path)
        .env("REVIEW_ROUTER_LOG", "warn")
        .env("REVIEW_ROUTER_ADMIN_KEY", ADMIN_KEY)
        .env("REVIEW_ROUTER_SECRET_KEY", SECRET_KEY)
        .stderr(Stdio::piped());
    if let Some(url) = redis {
        command.env("REVIEW_ROUTER_REDIS_URL", url);
    }
    let mut router = command.spawn().expect("start review-router");
    let stderr = router.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = tx.send(address.parse::<SocketAddr>().expect("an address"));
                    sent = true;
                    continue;
                }
            }
            eprintln!("router: {line}");
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the router says where it listens");
    (router, address)
}

fn chat(text: &str) -> Value {
    json!({"model": "reasoning", "messages": [{"role": "user", "content": text}]})
}

impl Setup {
    async fn post(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/chat/completions", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("a response")
    }

    /// The ledger's rows once `n` requests are written (the router writes them off the request path).
    async fn ledger(&self, n: i64) -> router::db::Db {
        let db = self.open_db().await;
        // up to 30 s: on a loaded machine, replicas sharing one SQLite file wait on each
        // other's write locks (busy_timeout 5 s, then the writer retries)
        let mut count = 0;
        for _ in 0..1200 {
            count =
                router::with_db!(&db, pool => sqlx::query_scalar("SELECT count(*) FROM requests")
                .fetch_one(pool)
                .await)
                .unwrap_or(0);
            if count >= n {
                return db;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the ledger never had {n} requests: {count} after 30 s");
    }
}

/// Whether the answer is a stored one, given again (`Idempotent-Replayed: true`).
fn replayed(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        == Some("true")
}

async fn error_of(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_to_the_primary_and_is_recorded_with_tokens_and_cost() {
    let s = setup(Options::default()).await;
    let response = s.post(&chat("Is the shelf full?")).await;
    assert_eq!(response.status(), 200);
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("a request id");
    let body: Value = response.json().await.expect("json");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert_eq!(s.gemini.stats().requests, 1);
    assert_eq!(s.bedrock.stats().requests, 0);

    let ledger = s.ledger(1).await;
    let (decision, backend, status, cost): (String, String, i64, f64) =
        router::with_db!(&ledger, pool => sqlx::query_as(
        "SELECT decision, final_backend, status, cost_usd FROM requests WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(pool)
    .await)
        .expect("the request row");
    assert_eq!(
        (decision.as_str(), backend.as_str(), status),
        ("primary", "gemini", 200)
    );
    let (input, output, model): (i64, i64, String) =
        router::with_db!(&ledger, pool => sqlx::query_as(
        "SELECT input_tokens, output_tokens, provider_model FROM attempts WHERE request_id = $1",
    )
    .bind(&id)
    .fetch_one(pool)
    .await)
        .expect("the attempt row");
    assert!(input > 0 && output > 0);
    assert_eq!(model, "gemini-2.5-flash");
    let expected = (input as f64 * 0.30 + output as f64 * 2.50) / 1e6;
    assert!(
        (cost - expected).abs() < 1e-12,
        "cost {cost} at the configured price, {expected}"
    );
    // the dashboards' rollups, in the transaction of the rows: one call, per hour and per day
    let rollup: Vec<(i64, i64, i64)> = router::with_db!(&ledger, pool => sqlx::query_as(
        "SELECT width_s, attempts, input_tokens FROM usage_rollup WHERE backend = 'gemini' ORDER BY width_s",
    )
    .fetch_all(pool)
    .await)
    .expect("the rollup");
    assert_eq!(rollup, [(3600, 1, input), (86_400, 1, input)]);

    let models: Value = s
        .http
        .get(format!("{}/v1/models", s.base))
        .bearer_auth(&s.key)
        .send()
        .await
        .expect("models")
        .json()
        .await
        .expect("json");
    assert_eq!(models["data"][0]["id"], "reasoning");
    let ready = s
        .http
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_specific_error_and_reach_no_backend() {
    let s = setup(Options {
        max_body: 10_000,
        burst: 1000,
        ..Options::default()
    })
    .await;
    let url = format!("{}/v1/chat/completions", s.base);
    let no_key = s
        .http
        .post(&url)
        .json(&chat("hi"))
        .send()
        .await
        .expect("a response");
    let (status, _, body) = error_of(no_key).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    let bad_key = s
        .http
        .post(&url)
        .bearer_auth("rr-not-a-key")
        .json(&chat("hi"))
        .send()
        .await
        .expect("a response");
    assert_eq!(error_of(bad_key).await.0, 401);
    let malformed = s
        .http
        .post(&url)
        .bearer_auth(&s.key)
        .body("{\"model\": ")
        .send()
        .await
        .expect("a response");
    let (status, _, body) = error_of(malformed).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    assert_eq!(
        body["error"]["code"], "malformed_json",
        "OpenAI's error object too: {body}"
    );
    let unknown = s.post(&json!({"model": "gpt-9", "messages": []})).await;
    let (status, _, body) = error_of(unknown).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_model"))
    );
    let huge = s.post(&chat(&"x".repeat(20_000))).await;
    let (status, _, body) = error_of(huge).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        0,
        "nothing reached a backend"
    );
    // the router is still up
    assert_eq!(s.post(&chat("still there?")).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_rate_waits_before_any_work() {
    let s = setup(Options {
        burst: 3,
        ..Options::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(s.post(&chat("hi")).await.status(), 200);
    }
    let (status, retry, body) = error_of(s.post(&chat("hi")).await).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    assert!(
        retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| (1..=2).contains(&s))),
        "Retry-After in seconds"
    );
    assert_eq!(
        s.gemini.stats().requests,
        3,
        "the refused request did no work"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_moves_traffic_to_the_secondary_and_both_spent_is_503() {
    let s = setup(Options::default()).await;
    s.gemini.set_script(script(
        r#"{"latency":{"fixed_ms":5},"faults":[{"kind":"quota"}]}"#,
    ));
    let first = s.post(&chat("one")).await;
    assert_eq!(first.status(), 200, "rescued by the secondary");
    let second = s.post(&chat("two")).await;
    assert_eq!(second.status(), 200);
    assert_eq!(
        s.gemini.stats().requests,
        1,
        "the primary is out of rotation after its quota error"
    );
    assert_eq!(s.bedrock.stats().requests, 2);
    let ledger = s.ledger(2).await;
    let rows: Vec<(String, String, String, bool)> =
        router::with_db!(&ledger, pool => sqlx::query_as("SELECT decision_reason, decided_backend, final_backend, fallback FROM requests ORDER BY started_at").fetch_all(pool).await).expect("rows");
    assert_eq!(rows[0].1, "gemini");
    assert_eq!((rows[0].2.as_str(), rows[0].3), ("bedrock", true));
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_str(), rows[1].3),
        ("primary_unavailable", "bedrock", false)
    );
    let quota: (String, i64) =
        router::with_db!(&ledger, pool => sqlx::query_as("SELECT provider_error, http_status FROM attempts WHERE backend = 'gemini'")
            .fetch_one(pool)
            .await)
            .expect("the quota attempt");
    assert_eq!(quota, ("RESOURCE_EXHAUSTED".to_owned(), 429));

    s.bedrock
        .set_script(script(r#"{"faults":[{"kind":"quota"}]}"#));
    let (status, retry, body) = error_of(s.post(&chat("three")).await).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")));
    let retry: u64 = retry.and_then(|r| r.parse().ok()).expect("Retry-After");
    assert!(
        (1..=30).contains(&retry),
        "back when the first quota pause ends: {retry} s"
    );
    assert_eq!(body["retry_after_seconds"].as_u64(), Some(retry));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_request_is_passed_on_as_the_provider_said_it_and_not_retried() {
    let s = setup(Options::default()).await;
    s.gemini
        .set_script(script(r#"{"faults":[{"kind":"bad_request"}]}"#));
    let response = s.post(&chat("hi")).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body[0]["error"]["status"], "INVALID_ARGUMENT",
        "Gemini's own body: {body}"
    );
    assert_eq!(
        (s.gemini.stats().requests, s.bedrock.stats().requests),
        (1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_elsewhere_and_streams_pass_through() {
    let s = setup(Options::default()).await;
    s.gemini.set_script(script(
        r#"{"faults":[{"kind":"server_error","status":503}]}"#,
    ));
    assert_eq!(s.post(&chat("hi")).await.status(), 200);
    assert_eq!(
        (s.gemini.stats().requests, s.bedrock.stats().requests),
        (1, 1)
    );

    s.gemini
        .set_script(script(r#"{"latency":{"fixed_ms":30},"stream_chunk_ms":5}"#));
    let mut body = chat("stream it");
    body["stream"] = Value::Bool(true);
    let response = s.post(&body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let text = response.text().await.expect("the stream");
    assert!(
        text.contains("chat.completion.chunk") && text.trim_end().ends_with("data: [DONE]"),
        "{text}"
    );
    let ledger = s.ledger(2).await;
    let (outcome, ttft, output): (String, Option<f64>, Option<i64>) =
        router::with_db!(&ledger, pool => sqlx::query_as("SELECT a.outcome, a.ttft_ms, a.output_tokens FROM attempts a JOIN requests r ON r.id = a.request_id WHERE r.stream")
            .fetch_one(pool)
            .await)
            .expect("the stream's attempt");
    assert_eq!(outcome, "ok");
    assert!(
        ttft.is_some_and(|t| t >= 20.0),
        "time to first token recorded: {ttft:?}"
    );
    assert!(output.is_some_and(|o| o > 0), "the usage chunk was read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_caps_hold_and_a_full_backend_overflows_to_the_other() {
    let s = setup(Options {
        caps: (2, 3),
        queue_wait_ms: 50,
        ..Options::default()
    })
    .await;
    for fake in [&s.gemini, &s.bedrock] {
        fake.set_script(script(r#"{"latency":{"fixed_ms":300}}"#));
    }
    let bodies: Vec<Value> = (0..8).map(|i| chat(&format!("q{i}"))).collect();
    let sends = bodies.iter().map(|body| s.post(body));
    let answers = futures_util::future::join_all(sends).await;
    let ok = answers.iter().filter(|r| r.status() == 200).count();
    let refused = answers.iter().filter(|r| r.status() == 503).count();
    assert_eq!(ok + refused, 8, "every request answered or refused");
    assert!(
        s.gemini.stats().max_in_flight <= 2,
        "primary cap: {}",
        s.gemini.stats().max_in_flight
    );
    assert!(
        s.bedrock.stats().max_in_flight <= 3,
        "secondary cap: {}",
        s.bedrock.stats().max_in_flight
    );
    assert!(
        s.bedrock.stats().requests > 0,
        "overflow went to the secondary"
    );
    assert_eq!(
        ok as u64,
        s.gemini.stats().requests + s.bedrock.stats().requests
    );
}

/// A stress window as production saw one: traffic past the spill threshold, then the primary's
/// quota runs out mid-run. Traffic moves; the decisions (mostly primary) and the calls actually
/// made (mostly secondary) differ; and the counts reconcile exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stress_window_spills_and_fails_over_and_every_request_is_accounted_for() {
    use futures_util::StreamExt;
    const REQUESTS: usize = 300;
    const CONCURRENCY: usize = 24;
    let s = setup(Options {
        caps: (8, 6),
        queue_wait_ms: 400,
        spill_rpm: 60,
        spill_share: 0.25,
        ..Options::default()
    })
    .await;
    s.gemini.set_script(script(
        r#"{"latency":{"uniform_ms":[5,25]},"faults":[{"kind":"quota","after_requests":120}]}"#,
    ));
    s.bedrock
        .set_script(script(r#"{"latency":{"uniform_ms":[5,25]}}"#));
    let bodies: Vec<Value> = (0..REQUESTS)
        .map(|i| chat(&format!("photo {i}: is the shelf compliant?")))
        .collect();
    let answers: Vec<(u16, bool)> = futures_util::stream::iter(bodies.iter().map(|b| async {
        let response = s.post(b).await;
        (
            response.status().as_u16(),
            response.headers().contains_key("retry-after"),
        )
    }))
    .buffer_unordered(CONCURRENCY)
    .collect()
    .await;

    let ok = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != 200)
        .collect();
    assert!(
        refused
            .iter()
            .all(|(status, retry)| (*status == 503 || *status == 429) && *retry),
        "refusals say when to retry: {refused:?}"
    );
    assert_eq!(
        ok + refused.len(),
        REQUESTS,
        "every request answered or refused"
    );
    assert!(
        ok > REQUESTS * 9 / 10,
        "the secondary rescued the traffic: {ok} of {REQUESTS}"
    );

    let (g, b) = (s.gemini.stats(), s.bedrock.stats());
    assert!(
        g.max_in_flight <= 8 && b.max_in_flight <= 6,
        "caps held: {} / {}",
        g.max_in_flight,
        b.max_in_flight
    );
    assert!(
        g.by_status.get("429").copied().unwrap_or(0) >= 1,
        "the primary ran out of quota"
    );

    let ledger = s.ledger(REQUESTS as i64).await;
    let requests: i64 =
        router::with_db!(&ledger, pool => sqlx::query_scalar("SELECT count(*) FROM requests")
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!(requests, REQUESTS as i64, "each request recorded once");
    // every call the backends saw is an attempt in the ledger, and the other way round
    let attempts = |backend: &'static str| {
        let ledger = ledger.clone();
        async move {
            router::with_db!(&ledger, pool => sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM attempts WHERE backend = $1 AND outcome <> 'queue_timeout'",
            )
            .bind(backend)
            .fetch_one(pool)
            .await)
            .unwrap()
        }
    };
    assert_eq!(attempts("gemini").await, g.requests as i64);
    assert_eq!(attempts("bedrock").await, b.requests as i64);
    let answered: i64 = router::with_db!(&ledger, pool => sqlx::query_scalar("SELECT count(*) FROM requests WHERE status = 200")
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!(answered, ok as i64);
    // charged once: a request's cost is the sum of its attempts', and only answers cost
    let (request_cost, attempt_cost): (f64, f64) =
        router::with_db!(&ledger, pool => sqlx::query_as(
        "SELECT (SELECT sum(cost_usd) FROM requests), (SELECT sum(cost_usd) FROM attempts)",
    )
    .fetch_one(pool)
    .await)
        .unwrap();
    assert!((request_cost - attempt_cost).abs() < 1e-9 && request_cost > 0.0);

    // the primary was decided more often than it answered: the decision share and the
    // actual-call share differ, as in production
    let decided_primary: i64 =
        router::with_db!(&ledger, pool => sqlx::query_scalar("SELECT count(*) FROM requests WHERE decided_backend = 'gemini'")
            .fetch_one(pool)
            .await)
            .unwrap();
    let answered_primary: i64 = router::with_db!(&ledger, pool => sqlx::query_scalar(
        "SELECT count(*) FROM requests WHERE final_backend = 'gemini' AND status = 200",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    let spilled: i64 =
        router::with_db!(&ledger, pool => sqlx::query_scalar("SELECT count(*) FROM requests WHERE decision = 'spillover'")
            .fetch_one(pool)
            .await)
            .unwrap();
    let fallbacks: i64 = router::with_db!(&ledger, pool => sqlx::query_scalar("SELECT count(*) FROM requests WHERE fallback")
        .fetch_one(pool)
        .await)
        .unwrap();
    eprintln!(
        "stress window: {REQUESTS} requests, {ok} answered; decided primary {decided_primary}, answered by primary {answered_primary}; \
         spilled {spilled}; fallbacks {fallbacks}; calls gemini {} / bedrock {}; max in flight {} / {}",
        g.requests, b.requests, g.max_in_flight, b.max_in_flight
    );
    assert!(spilled > 0, "past the threshold, a share spilled");

    // the admin API says the same as the ledger
    let signed = s.admin().await;
    let admin = |path: &str| s.get_as(&signed, &format!("/admin/v1/{path}")).send();
    let dashboard: Value = admin("dashboard").await.unwrap().json().await.unwrap();
    let sum = |series: &str, field: &str| {
        dashboard[series]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[field].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(sum("shares", "requests"), REQUESTS as i64, "{dashboard}");
    assert_eq!(sum("shares", "spillover"), spilled);
    assert_eq!(sum("shares", "fallback"), fallbacks);
    let calls = |backend: &str| {
        dashboard["shares"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["calls"].as_array().unwrap())
            .filter(|c| c["backend"] == backend)
            .map(|c| c["n"].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(
        (calls("gemini"), calls("bedrock")),
        (g.requests as i64, b.requests as i64)
    );
    assert_eq!(
        dashboard["choices"]["backends"],
        json!(["bedrock", "gemini"])
    );
    let usage: Value = admin("usage?bucket=day")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage["window"]["bucket"], "day");
    let rows = usage["usage"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["attempts"].as_i64().unwrap())
            .sum::<i64>(),
        (g.requests + b.requests) as i64
    );
    let latency: Value = admin("latency?bucket=day")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for row in latency["latency"].as_array().unwrap() {
        let (p50, p95, p99) = (
            row["p50_ms"].as_f64().unwrap(),
            row["p95_ms"].as_f64().unwrap(),
            row["p99_ms"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p50 <= p95 && p95 <= p99, "{row}");
    }
    let csv = admin("usage?bucket=hour&format=csv")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("bucket,backend,model,attempts,") && csv.lines().count() >= 3,
        "{csv}"
    );
    let recent: Value = admin("requests?limit=5")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(recent["requests"].as_array().map(Vec::len), Some(5));
    assert!(recent["requests"][0]["attempts"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
    let shares_csv = admin("shares?format=csv")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // the rows for all backends (backend empty) hold the requests
    let csv_requests: i64 = shares_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1].is_empty())
        .map(|f| f[2].parse::<i64>().unwrap())
        .sum();
    assert_eq!(csv_requests, REQUESTS as i64, "{shares_csv}");
    let live_csv = admin("live?format=csv")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        live_csv.starts_with("at,backend,in_flight,cap,") && live_csv.lines().count() == 3,
        "{live_csv}"
    );
    let live: Value = admin("live").await.unwrap().json().await.unwrap();
    assert_eq!(live["backends"][0]["cap"], 8);
    assert_eq!(
        live["backends"][0]["in_rotation"], false,
        "the primary is out after its quota: {live}"
    );
    assert_eq!(live["backends"][0]["disabled_reason"], "quota", "{live}");
    let anonymous = s
        .http
        .get(format!("{}/admin/v1/live", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(
        fallbacks > 0,
        "quota errors were rescued by the other backend"
    );
    assert!(
        decided_primary > answered_primary,
        "decision share and actual-call share differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_the_first_answer_and_is_never_charged_twice() {
    let s = setup(Options::default()).await;
    s.gemini
        .set_script(script(r#"{"latency":{"fixed_ms":300}}"#));
    let url = format!("{}/v1/chat/completions", s.base);
    let send = |key: &'static str, body: Value| {
        s.http
            .post(&url)
            .bearer_auth(&s.key)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    // a repeat while the first still runs is 409
    let (first, running) = tokio::join!(send("job-1", chat("invoice 7")), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        send("job-1", chat("invoice 7")).await
    });
    let first = first.expect("first");
    assert_eq!(first.status(), 200);
    let first_body = first.text().await.expect("body");
    let (status, retry, body) = error_of(running.expect("second")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("idempotency_in_progress"))
    );
    assert!(retry.is_some());
    // a repeat afterwards replays the stored answer without reaching a backend
    let replay = send("job-1", chat("invoice 7")).await.expect("replay");
    assert_eq!(replay.status(), 200);
    assert!(replayed(&replay), "answered again, as the first time");
    assert_eq!(replay.text().await.expect("body"), first_body);
    assert_eq!(s.gemini.stats().requests, 1);
    // the same key with another body is 422
    let (status, _, body) =
        error_of(send("job-1", chat("invoice 8")).await.expect("other body")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_mismatch"))
    );
    // an answer that says "try later" frees the key for the retry
    s.gemini
        .set_script(script(r#"{"faults":[{"kind":"quota"}]}"#));
    s.bedrock
        .set_script(script(r#"{"faults":[{"kind":"quota"}]}"#));
    assert_eq!(
        send("job-2", chat("invoice 9"))
            .await
            .expect("refused")
            .status(),
        503
    );
    assert!(send("job-2", chat("invoice 9"))
        .await
        .expect("again")
        .headers()
        .get("idempotent-replayed")
        .is_none());

    let ledger = s.ledger(2).await;
    let charged: i64 =
        router::with_db!(&ledger, pool => sqlx::query_scalar("SELECT count(*) FROM requests WHERE idempotency_key = 'job-1'")
            .fetch_one(pool)
            .await)
            .unwrap();
    assert_eq!(charged, 1, "recorded and charged once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_enrols_once_and_its_revoked_key_stops_working() {
    let s = setup(Options::default()).await;
    let admin = s
        .http
        .post(format!("{}/admin/v1/enrolment-codes", s.base))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"note": "Main Street tablet"}));
    let code: Value = admin.send().await.unwrap().json().await.unwrap();
    let code = code["code"].as_str().unwrap().to_owned();
    let enrol = |code: String| {
        s.http
            .post(format!("{}/station/v1/enrol", s.base))
            .json(&json!({"code": code, "name": "main-street-1"}))
            .send()
    };
    let enrolled = enrol(code.clone()).await.unwrap();
    assert_eq!(enrolled.status(), 201);
    let enrolled: Value = enrolled.json().await.unwrap();
    let key = enrolled["key"]
        .as_str()
        .expect("the router made the key")
        .to_owned();
    let models = |key: String| {
        s.http
            .get(format!("{}/v1/models", s.base))
            .bearer_auth(key)
            .send()
    };
    assert_eq!(
        models(key.clone()).await.unwrap().status(),
        200,
        "the device key works"
    );

    let (status, _, body) = error_of(enrol(code).await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("enrolment_used")),
        "a replayed code"
    );
    let (status, _, body) = error_of(enrol("enr-0000".into()).await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("enrolment_invalid"))
    );

    let id = enrolled["device_id"].as_i64().unwrap();
    let revoked = s
        .http
        .post(format!("{}/admin/v1/devices/{id}/revoke", s.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (status, _, body) = error_of(models(key).await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "this key was revoked");

    // a station that makes its own key sends only its hash; a repeat (the answer lost on the
    // way) is answered again, and the router never held the key
    let code: Value = s
        .http
        .post(format!("{}/admin/v1/enrolment-codes", s.base))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own_key = "rd-made-by-the-station-0123456789abcdef0123456789abcdef";
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(own_key.as_bytes()));
    let request = json!({"code": code["code"], "name": "elm-road-1", "key_sha256": hash});
    let post = || {
        s.http
            .post(format!("{}/station/v1/enrol", s.base))
            .json(&request)
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert!(first.get("key").is_none(), "no key is sent back: {first}");
    let again = post().await.unwrap();
    assert_eq!(again.status(), 200);
    assert!(replayed(&again), "answered again, as the first time");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["device_id"], first["device_id"]);
    assert_eq!(
        models(own_key.to_owned()).await.unwrap().status(),
        200,
        "the station's own key works"
    );
    let other = json!({"code": code["code"], "name": "elm-road-1", "key_sha256": "c".repeat(64)});
    let stolen = s
        .http
        .post(format!("{}/station/v1/enrol", s.base))
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(stolen).await.0,
        409,
        "the code is spent for any other key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_upload_in_pieces_resume_after_a_cut_and_must_hash_to_their_name() {
    use sha2::Digest;
    use tokio::io::AsyncWriteExt;
    let s = setup(Options::default()).await;
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/grocery/queries/Packages/Sour-Milk-Arla-Sour-Milk_002.jpg"
    ))
    .unwrap();
    let sha = hex::encode(sha2::Sha256::digest(&photo));
    let url = format!("{}/station/v1/blobs/{sha}", s.base);
    let head = || s.http.head(&url).bearer_auth(&s.key).send();
    let offset_of = |r: &reqwest::Response| {
        r.headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
    };
    assert_eq!(head().await.unwrap().status(), 404, "never started");

    // the first third, then a connection cut mid-body: what arrived is kept
    let third = photo.len() / 3;
    let first = s
        .http
        .patch(&url)
        .bearer_auth(&s.key)
        .header("upload-offset", "0")
        .header("upload-length", photo.len().to_string())
        .body(photo[..third].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(offset_of(&first), Some(third));
    let address = s.base.trim_start_matches("http://").to_owned();
    let mut raw = tokio::net::TcpStream::connect(&address).await.unwrap();
    let sent = third / 2;
    let head_bytes = format!(
        "PATCH /station/v1/blobs/{sha} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\nupload-offset: {third}\r\ncontent-length: {}\r\n\r\n",
        s.key,
        photo.len() - third
    );
    raw.write_all(head_bytes.as_bytes()).await.unwrap();
    raw.write_all(&photo[third..third + sent]).await.unwrap();
    raw.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(raw);
    let mut resumed_at = 0;
    for _ in 0..50 {
        resumed_at = head().await.ok().as_ref().and_then(offset_of).unwrap_or(0);
        if resumed_at == third + sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(resumed_at, third + sent, "the cut upload kept what arrived");

    // a piece at the wrong offset is refused with where to continue
    let wrong = s
        .http
        .patch(&url)
        .bearer_auth(&s.key)
        .header("upload-offset", "0")
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    let (status, _, body) = error_of(wrong).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("offset_mismatch"))
    );
    // the rest completes it, checked against its name
    let rest = s
        .http
        .patch(&url)
        .bearer_auth(&s.key)
        .header("upload-offset", resumed_at.to_string())
        .body(photo[resumed_at..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);
    let done: Value = rest.json().await.unwrap();
    assert_eq!(done["complete"], true);
    assert_eq!(
        head()
            .await
            .unwrap()
            .headers()
            .get("blob-complete")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );

    // bytes that do not hash to the name are thrown away
    let liar = "0".repeat(64);
    let lie = s
        .http
        .patch(format!("{}/station/v1/blobs/{liar}", s.base))
        .bearer_auth(&s.key)
        .header("upload-offset", "0")
        .header("upload-length", photo.len().to_string())
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    let (status, _, body) = error_of(lie).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("hash_mismatch"))
    );
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains(&sha)),
        "the message names the real hash: {body}"
    );
    assert_eq!(
        s.http
            .head(format!("{}/station/v1/blobs/{liar}", s.base))
            .bearer_auth(&s.key)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let bad_name = s
        .http
        .patch(format!("{}/station/v1/blobs/..%2F..%2Fetc", s.base))
        .bearer_auth(&s.key)
        .header("upload-offset", "0")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_name.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_through_the_traffic_manager_and_their_answers_must_match_the_schema() {
    use sha2::Digest;
    let s = setup(Options::default()).await;
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/grocery/queries/Packages/Sour-Milk-Arla-Sour-Milk_002.jpg"
    ))
    .unwrap();
    let sha = hex::encode(sha2::Sha256::digest(&photo));
    let upload = s
        .http
        .patch(format!("{}/station/v1/blobs/{sha}", s.base))
        .bearer_auth(&s.key)
        .header("upload-offset", "0")
        .header("upload-length", photo.len().to_string())
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200);
    let submit = |key: &'static str, body: Value| {
        s.http
            .post(format!("{}/station/v1/jobs", s.base))
            .bearer_auth(&s.key)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let compliance = json!({"kind": "compliance_check", "input": {"store_id": "main-street", "photo_sha256": sha,
        "rules": [{"id": "price_tags", "text": "Every product has a visible price tag"}]}});

    let accepted = submit("visit-1/photo-1", compliance.clone()).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.unwrap();
    let job = accepted["job_id"].as_i64().unwrap();
    let again = submit("visit-1/photo-1", compliance.clone()).await.unwrap();
    assert!(replayed(&again), "answered again, as the first time");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["job_id"].as_i64(), again["new"].as_bool()),
        (Some(job), Some(false)),
        "a repeat names the same job"
    );
    let other = submit(
        "visit-1/photo-1",
        json!({"kind": "legal_summary", "input": {"page_sha256s": [sha]}}),
    )
    .await
    .unwrap();
    assert_eq!(error_of(other).await.0, 422);
    let never = submit(
        "visit-1/photo-2",
        json!({"kind": "compliance_check", "input": {"photo_sha256": "a".repeat(64), "rules": []}}),
    )
    .await
    .unwrap();
    let (status, _, body) = error_of(never).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("blob_missing")));

    // the result arrives by long-poll, valid against its schema
    let results: Value = s
        .http
        .get(format!("{}/station/v1/results?after=0&wait=20", s.base))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &results[0];
    assert_eq!(
        (first["job_id"].as_i64(), first["ok"].as_bool()),
        (Some(job), Some(true)),
        "{results}"
    );
    assert!(first["result"]["rules"].is_array());
    assert_eq!(first["prompt_version"], "compliance_check.v1");
    let seq = first["seq"].as_i64().unwrap();
    assert_eq!(
        s.gemini.stats().requests,
        1,
        "one call for one job, through the router"
    );

    // an answer that does not match the schema is asked for once more, then the job fails
    for fake in [&s.gemini, &s.bedrock] {
        fake.set_script(script(r#"{"faults":[{"kind":"invalid_content"}]}"#));
    }
    let invoice = json!({"kind": "invoice_fields", "input": {"page_sha256s": [sha], "ocr_text": "TOTAL 12.50", "local": {}}});
    assert_eq!(submit("invoice-9", invoice).await.unwrap().status(), 202);
    let results: Value = s
        .http
        .get(format!("{}/station/v1/results?after={seq}&wait=20", s.base))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(results[0]["ok"], false, "{results}");
    assert!(
        results[0]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("rejected twice")),
        "{results}"
    );
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        3,
        "the invalid answer was asked for again once"
    );

    // reviewers' corrections, counted once per decision
    let correction = json!({"decision_hash": "b".repeat(64), "kind": "invoice", "before": {}, "after": {"total": "12.50"}});
    let post = || {
        s.http
            .post(format!("{}/station/v1/corrections", s.base))
            .bearer_auth(&s.key)
            .json(&json!({"corrections": [correction, correction]}))
            .send()
    };
    let first: Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(
        (first["received"].as_i64(), first["new"].as_i64()),
        (Some(2), Some(1))
    );
    let again: Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(again["new"], 0);
}

/// Every mutating endpoint takes an `Idempotency-Key`: a repeat is answered as the first was
/// and does nothing again; an answer that would carry a secret is never kept, so those
/// endpoints take a key only with the secret's hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutating_endpoint_replays_a_repeat_and_keeps_no_secret() {
    use sha2::Digest;
    let s = setup(Options::default()).await;
    let post = |path: &str, key: &str, bearer: Option<&str>, body: Value| {
        let request = s
            .http
            .post(format!("{}{path}", s.base))
            .header("idempotency-key", key)
            .json(&body);
        match bearer {
            Some(b) => request.bearer_auth(b),
            None => request,
        }
        .send()
    };

    // an enrolment code made by the admin's tool: only its hash travels, so the answer keeps
    let codes = |key: &'static str, body: Value| {
        post("/admin/v1/enrolment-codes", key, Some(ADMIN_KEY), body)
    };
    let code = "enr-made-by-the-admin-tool-0001";
    let new_code = json!({"note": "Elm Road", "code_sha256": hex::encode(sha2::Sha256::digest(code.as_bytes()))});
    let first = codes("code-1", new_code.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(!replayed(&first));
    let first_body = first.text().await.unwrap();
    assert!(
        !first_body.contains("\"code\""),
        "no code is answered: {first_body}"
    );
    let again = codes("code-1", new_code.clone()).await.unwrap();
    assert!(replayed(&again));
    assert_eq!(again.text().await.unwrap(), first_body);
    let other = codes("code-1", json!({"note": "another"})).await.unwrap();
    let (status, _, body) = error_of(other).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_mismatch"))
    );
    // a router-made code would be a secret in the stored answer: refused with a key
    let secret = codes("code-2", json!({})).await.unwrap();
    let (status, _, body) = error_of(secret).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("code_sha256")),
        "{body}"
    );

    // enrolment with the station's own key, repeated under the same Idempotency-Key
    let own_key = "rd-station-made-key-for-the-idempotency-test";
    let enrol = json!({"code": code, "name": "elm-road-2", "key_sha256": hex::encode(sha2::Sha256::digest(own_key.as_bytes()))});
    let enrolled = post("/station/v1/enrol", "enrol-1", None, enrol.clone())
        .await
        .unwrap();
    assert_eq!(enrolled.status(), 201);
    let enrolled: Value = enrolled.json().await.unwrap();
    let repeat = post("/station/v1/enrol", "enrol-1", None, enrol)
        .await
        .unwrap();
    assert!(replayed(&repeat));
    assert_eq!(repeat.status(), 201, "the first answer, as it was");
    let device = enrolled["device_id"].as_i64().unwrap();

    // corrections and a revocation, repeated
    let corrections =
        json!({"corrections": [{"decision_hash": "d".repeat(64), "kind": "invoice"}]});
    let sent = post(
        "/station/v1/corrections",
        "batch-1",
        Some(own_key),
        corrections.clone(),
    )
    .await
    .unwrap();
    assert_eq!(sent.status(), 200);
    let again = post(
        "/station/v1/corrections",
        "batch-1",
        Some(own_key),
        corrections,
    )
    .await
    .unwrap();
    assert!(replayed(&again));
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again["new"], 1,
        "the first answer, not a second ingestion's"
    );
    let path = format!("/admin/v1/devices/{device}/revoke");
    assert_eq!(
        post(&path, "revoke-1", Some(ADMIN_KEY), json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    let again = post(&path, "revoke-1", Some(ADMIN_KEY), json!({}))
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "a repeat is the first answer, not 404");
    assert!(replayed(&again));
}

/// A backend that does not answer in time is given up on and the other answers; a stream the
/// provider cuts reaches the client cut (no `[DONE]`) and is recorded as cut, not as done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_fall_back_and_cut_streams_are_recorded_as_cut() {
    let s = setup(Options::default()).await;
    s.gemini.set_script(script(
        r#"{"faults":[{"kind":"timeout","delay_ms":10000}]}"#,
    ));
    let began = std::time::Instant::now();
    let answer = s.post(&chat("slow")).await;
    assert_eq!(answer.status(), 200, "the secondary answered");
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(9),
        "given up after the 3 s timeout: {waited:?}"
    );

    s.gemini
        .set_script(script(r#"{"faults":[{"kind":"cut_stream"}]}"#));
    let mut body = chat("cut me");
    body["stream"] = Value::Bool(true);
    // the body may end early with an error: that is the point
    let text: String = s.post(&body).await.text().await.unwrap_or_default();
    assert!(
        !text.contains("[DONE]"),
        "a cut stream is not completed by the router: {text}"
    );

    let ledger = s.ledger(2).await;
    let outcomes: Vec<(String, String)> =
        router::with_db!(&ledger, pool => sqlx::query_as("SELECT backend, outcome FROM attempts ORDER BY started_at, n")
            .fetch_all(pool)
            .await)
            .unwrap();
    assert!(
        outcomes.contains(&("gemini".into(), "timeout".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("bedrock".into(), "ok".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("gemini".into(), "cut".into())),
        "{outcomes:?}"
    );
    let cut_errors: i64 = router::with_db!(&ledger, pool => sqlx::query_scalar(
        "SELECT count(*) FROM requests WHERE stream AND error_code = 'upstream'",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(cut_errors, 1);
}
