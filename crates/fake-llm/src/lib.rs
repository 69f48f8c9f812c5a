//! A fault-injecting fake LLM provider for the router's **tests and benchmarks only** — never a
//! default, never configured by anything a user runs. It is the project's only fake: an
//! OpenAI-compatible server (`/v1/chat/completions`, `/v1/models`) that answers like Gemini's
//! OpenAI-compatible endpoint or OpenAI (usage fields, error bodies, retry hints), with scripted
//! latency and faults, schema-valid deterministic content (or a scripted answer for requests
//! that mention a given text: [`script`]), and counters of what it saw (requests, the most in
//! flight at once, per model and status) under `/_fake/`.
//!
//! Run it in-process with [`spawn`] / [`serve`], or as the `fake-llm` binary.

mod chat;
mod provider;
mod rng;
pub mod schema_gen;
pub mod script;

pub use provider::Provider;
pub use script::{FaultKind, FaultRule, Latency, Script, ScriptError, ScriptedAnswer, UsageScript};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::net::TcpListener;

/// Image requests carry base64 data URLs; axum's 2 MB default would refuse real ones.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// What the fake serves.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub provider: Provider,
    /// Listed by `/v1/models`; requests for other models are answered all the same.
    pub models: Vec<String>,
    pub script: Script,
    /// When set, requests must carry `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
}

impl FakeConfig {
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            models: provider.default_models(),
            script: Script::default(),
            api_key: None,
        }
    }

    pub fn with_script(mut self, script: Script) -> Self {
        self.script = script;
        self
    }
}

/// Counters of chat-completion requests (`GET /_fake/stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests seen since the start or the last reset.
    pub requests: u64,
    pub in_flight: u64,
    /// The most requests in flight at once (a stream counts until its last byte).
    pub max_in_flight: u64,
    /// Responses by HTTP status; a hung request has none.
    pub by_status: BTreeMap<String, u64>,
    pub by_model: BTreeMap<String, u64>,
    /// Requests a scripted fault hit, by fault kind.
    pub by_fault: BTreeMap<String, u64>,
    /// Schema requests the generator found no valid instance for (answered with a best effort).
    pub schema_misses: u64,
}

struct Counters {
    stats: Stats,
    script: Arc<Script>,
    /// Start of the clock that fault time windows count from.
    epoch: Instant,
}

/// State shared by the handlers.
struct Shared {
    provider: Provider,
    models: Vec<String>,
    api_key: Option<String>,
    counters: Mutex<Counters>,
    validators: Mutex<HashMap<u64, Arc<jsonschema::Validator>>>,
}

/// One request's place in the run; dropping it ends the request's time in flight.
struct Ticket {
    shared: Arc<Shared>,
    n: u64,
    script: Arc<Script>,
    elapsed_ms: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counters = self.shared.lock();
        counters.stats.in_flight = counters.stats.in_flight.saturating_sub(1);
    }
}

impl Shared {
    fn new(config: FakeConfig) -> Self {
        Self {
            provider: config.provider,
            models: config.models,
            api_key: config.api_key,
            counters: Mutex::new(Counters {
                stats: Stats::default(),
                script: Arc::new(config.script),
                epoch: Instant::now(),
            }),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// A counter update cannot leave the counters half-written, so a poisoned lock is still good.
    fn lock(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enter(self: &Arc<Self>) -> Ticket {
        let mut counters = self.lock();
        let stats = &mut counters.stats;
        stats.requests += 1;
        stats.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
        let n = stats.requests;
        Ticket {
            shared: Arc::clone(self),
            n,
            script: Arc::clone(&counters.script),
            elapsed_ms: counters.epoch.elapsed().as_millis() as u64,
        }
    }

    fn bump(&self, field: impl FnOnce(&mut Stats) -> &mut BTreeMap<String, u64>, key: &str) {
        let mut counters = self.lock();
        *field(&mut counters.stats)
            .entry(key.to_owned())
            .or_default() += 1;
    }

    /// Counts the response's status on its way out.
    fn finish(&self, response: Response) -> Response {
        self.bump(|s| &mut s.by_status, response.status().as_str());
        response
    }

    fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    fn set_script(&self, script: Script) {
        let mut counters = self.lock();
        counters.script = Arc::new(script);
        counters.epoch = Instant::now();
    }

    fn reset(&self) {
        let mut counters = self.lock();
        let in_flight = counters.stats.in_flight;
        counters.stats = Stats {
            in_flight,
            max_in_flight: in_flight,
            ..Stats::default()
        };
        counters.epoch = Instant::now();
    }

    /// Compiled validators by schema text hash: compiling costs more than answering.
    fn validator(&self, schema: &serde_json::Value) -> Result<Arc<jsonschema::Validator>, String> {
        let key = rng::fnv1a(schema.to_string().as_bytes());
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = cache.get(&key) {
            return Ok(Arc::clone(found));
        }
        let validator = Arc::new(jsonschema::validator_for(schema).map_err(|e| e.to_string())?);
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&validator));
        Ok(validator)
    }
}

/// The fake's routes; `/v1beta/openai/...` mirrors Gemini's base URL.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1beta/openai/chat/completions", post(chat::completions))
        .route("/v1/models", get(models))
        .route("/v1beta/openai/models", get(models))
        .route("/_fake/stats", get(stats))
        .route("/_fake/script", post(set_script).get(get_script))
        .route("/_fake/reset", post(reset))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// Serves on `listener` until the task is dropped or the listener fails.
pub async fn serve(listener: TcpListener, config: FakeConfig) -> std::io::Result<()> {
    axum::serve(listener, router(Arc::new(Shared::new(config)))).await
}

/// A fake running on a task of the current runtime; aborted when dropped.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// Starts a fake on 127.0.0.1 with a free port.
pub async fn spawn(config: FakeConfig) -> std::io::Result<FakeServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(config));
    let task = tokio::spawn(axum::serve(listener, router(Arc::clone(&shared))).into_future());
    Ok(FakeServer { addr, shared, task })
}

impl FakeServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI base URL, e.g. `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    pub fn set_script(&self, script: Script) {
        self.shared.set_script(script);
    }

    pub fn reset(&self) {
        self.shared.reset();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn models(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let data: Vec<_> = shared
        .models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": shared.provider.owner()}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    Json(shared.stats())
}

async fn get_script(State(shared): State<Arc<Shared>>) -> Json<Script> {
    Json(shared.lock().script.as_ref().clone())
}

async fn set_script(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match std::str::from_utf8(&body)
        .map_err(|e| e.to_string())
        .and_then(|text| Script::from_json(text).map_err(|e| e.to_string()))
    {
        Ok(script) => {
            shared.set_script(script.clone());
            Json(script).into_response()
        }
        Err(message) => (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response(),
    }
}

async fn reset(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    shared.reset();
    Json(shared.stats())
}
