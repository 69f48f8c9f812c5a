//! The router's configuration file (`config/router.toml` is the documented example). Backends
//! are named, with their base URL, models, dated prices and limits; their API keys are read from
//! the environment variable each names (or a file outside the repository), never from here.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Where to listen; loopback unless deployed behind a proxy.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The ledger: a SQLite file (relative paths are taken from the config file's folder) or a
    /// `postgres://USER@HOST:PORT/DB` URL (its password from `PGPASSWORD`, never from here).
    #[serde(default = "default_database", deserialize_with = "location")]
    pub database: crate::db::Location,
    /// Largest request body accepted, in bytes (images arrive inline as data URLs).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Where the stations' uploads (photos, PDF pages) are kept, by sha256 (relative paths are
    /// taken from the config file's folder).
    #[serde(default = "default_blob_dir")]
    pub blob_dir: PathBuf,
    /// Largest blob a station may upload, in bytes.
    #[serde(default = "default_max_blob")]
    pub max_blob_bytes: u64,
    #[serde(default)]
    pub admission: AdmissionConfig,
    pub routing: RoutingConfig,
    /// The model (a `models` name) the stations' jobs run on.
    #[serde(default = "default_jobs_model")]
    pub jobs_model: String,
    #[serde(default)]
    pub tasks: TasksConfig,
    /// What replicas share (`[shared]`); without it this process keeps its own.
    #[serde(default)]
    pub shared: Option<SharedConfig>,
    /// Station releases offered to the stations (`[updates]`); without it none are.
    #[serde(default)]
    pub updates: Option<UpdatesConfig>,
    pub backends: Vec<BackendConfig>,
    /// The model names clients ask for, each served by a model of every backend.
    pub models: Vec<ModelConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Requests per second each client key may make, sustained…
    pub per_key_rps: u32,
    /// …and in a burst.
    pub per_key_burst: u32,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            per_key_rps: 50,
            per_key_burst: 100,
        }
    }
}

/// Redis for the state every replica must see (`[shared]`): admission buckets, rate counters,
/// in-flight slots, rotation flags.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedConfig {
    /// The environment variable holding the Redis URL (`redis://[:PASSWORD@]HOST:PORT/DB`): a
    /// URL may carry a password, which never goes in a config file.
    pub redis_url_env: String,
    /// Prefix of every key, so two deployments can share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// A held slot lapses this long after its holder last renewed it (every third of it): how
    /// soon the slots of a killed replica come back.
    #[serde(default = "default_slot_ttl_ms")]
    pub slot_ttl_ms: u64,
}

impl SharedConfig {
    pub fn slot_ttl(&self) -> Duration {
        Duration::from_millis(self.slot_ttl_ms)
    }

    /// The Redis URL from the environment; a configured but missing variable is an error, not a
    /// quiet fall-back to per-process limits.
    pub fn redis_url(&self) -> Result<String, ConfigError> {
        std::env::var(&self.redis_url_env)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "[shared] names {} for the Redis URL, and it is not set",
                    self.redis_url_env
                ))
            })
    }
}

fn default_key_prefix() -> String {
    "review-router".into()
}

fn default_slot_ttl_ms() -> u64 {
    15_000
}

/// Station releases (`[updates]`): see `updates.rs` for the folder's layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatesConfig {
    /// The folder holding `latest.json` and the packages (relative paths are taken from the
    /// config file's folder).
    pub dir: PathBuf,
    /// The router's address as stations reach it (`https://router.example.org`), for the
    /// packages' download URLs; without it, the address the station asked (its `Host`).
    #[serde(default)]
    pub public_url: Option<String>,
}

/// The team's shared review queue (`[tasks]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksConfig {
    /// A compliance check answered with a rule undecided (`passed: null`) or less sure than
    /// this (0–1) is raised as a shared task by the router itself, so a reviewer sees it even
    /// when the station that asked is offline.
    #[serde(default = "default_doubtful_below")]
    pub doubtful_below: f64,
}

impl Default for TasksConfig {
    fn default() -> Self {
        Self {
            doubtful_below: default_doubtful_below(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    pub primary: String,
    pub secondary: String,
    /// Past this many requests in the last minute, `spill_share` of the traffic goes to the
    /// secondary…
    pub spill_rpm: u32,
    /// …or past this many in the last 10 seconds.
    pub spill_rps10: u32,
    /// The share spilled (0–1); 0.5 alternates.
    pub spill_share: f64,
    /// Attempts per request, across backends (the first included).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// How long a quota-like error takes a backend out of rotation.
    #[serde(default = "default_disable_secs")]
    pub quota_disable_secs: u64,
    /// Errors (quota, 5xx, timeouts) in one UTC day after which a backend is out until midnight.
    #[serde(default = "default_daily_exceptions")]
    pub daily_exception_limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    pub name: String,
    /// An OpenAI-compatible base URL, up to and including `/v1` (or Gemini's `/v1beta/openai`).
    pub base_url: String,
    /// The environment variable holding the API key; `api_key_file` instead reads it from a file
    /// (outside the repository). Neither: no key is sent (a local server).
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// Requests in flight at once (the platform ran 120 for Gemini, 80 for Bedrock).
    pub max_in_flight: u32,
    /// How long a request may wait for a slot before it goes to the other backend.
    #[serde(default = "default_queue_wait_ms")]
    pub queue_wait_ms: u64,
    /// Whole-request timeout (a stream: until its first byte).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The provider's words for its errors, used to read them (`gemini` or `openai`).
    #[serde(default)]
    pub provider: Provider,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    #[default]
    Openai,
    Gemini,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The name clients send.
    pub name: String,
    /// Backend name → the provider's model name and its prices.
    pub serve: BTreeMap<String, ServedModel>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedModel {
    pub model: String,
    /// Prices in force from each date on (the newest not after a call's date applies).
    pub prices: Vec<Price>,
}

/// US dollars per million tokens, from `from` (a UTC date) on.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub from: time::Date,
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cached_input: Option<f64>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8787))
}
fn location<'de, D: serde::Deserializer<'de>>(d: D) -> Result<crate::db::Location, D::Error> {
    let text = String::deserialize(d)?;
    Ok(crate::db::Location::parse(&text))
}

fn default_database() -> crate::db::Location {
    crate::db::Location::Sqlite(PathBuf::from("router.db"))
}

fn default_jobs_model() -> String {
    "reasoning".into()
}
fn default_doubtful_below() -> f64 {
    0.6
}
fn default_blob_dir() -> PathBuf {
    PathBuf::from("blobs")
}
fn default_max_blob() -> u64 {
    200 * 1024 * 1024
}
fn default_max_body() -> usize {
    20 * 1024 * 1024
}
fn default_attempts() -> u32 {
    3
}
fn default_disable_secs() -> u64 {
    60
}
fn default_daily_exceptions() -> u32 {
    500
}
fn default_queue_wait_ms() -> u64 {
    2_000
}
fn default_timeout_ms() -> u64 {
    60_000
}

impl RouterConfig {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the file; a relative database path is taken from the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
        let mut config = Self::from_toml(&text)?;
        if let Some(dir) = path.parent() {
            config.database = crate::db::resolve(config.database, dir);
            if config.blob_dir.is_relative() {
                config.blob_dir = dir.join(&config.blob_dir);
            }
            if let Some(updates) = config.updates.as_mut().filter(|u| u.dir.is_relative()) {
                updates.dir = dir.join(&updates.dir);
            }
        }
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(public_url) = self.updates.as_ref().and_then(|u| u.public_url.as_ref()) {
            match url::Url::parse(public_url) {
                Ok(url) if matches!(url.scheme(), "https" | "http") => {}
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "updates.public_url is not an http(s) URL: {public_url}"
                    )))
                }
            }
        }
        let names: Vec<&str> = self.backends.iter().map(|b| b.name.as_str()).collect();
        for (role, name) in [
            ("primary", &self.routing.primary),
            ("secondary", &self.routing.secondary),
        ] {
            if !names.contains(&name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "routing.{role} names no backend: {name}"
                )));
            }
        }
        if self.routing.primary == self.routing.secondary {
            return Err(ConfigError::Invalid(
                "routing.primary and routing.secondary are the same backend".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.routing.spill_share) {
            return Err(ConfigError::Invalid(
                "routing.spill_share must be between 0 and 1".into(),
            ));
        }
        if self.routing.max_attempts == 0 {
            return Err(ConfigError::Invalid(
                "routing.max_attempts must be at least 1".into(),
            ));
        }
        for backend in &self.backends {
            if backend.max_in_flight == 0 {
                return Err(ConfigError::Invalid(format!(
                    "backend {}: max_in_flight must be at least 1",
                    backend.name
                )));
            }
            if !(backend.base_url.starts_with("http://")
                || backend.base_url.starts_with("https://"))
            {
                return Err(ConfigError::Invalid(format!(
                    "backend {}: base_url must be http(s)",
                    backend.name
                )));
            }
        }
        for model in &self.models {
            for (backend, served) in &model.serve {
                if !names.contains(&backend.as_str()) {
                    return Err(ConfigError::Invalid(format!(
                        "model {} is served by an unknown backend: {backend}",
                        model.name
                    )));
                }
                if served.prices.is_empty() {
                    return Err(ConfigError::Invalid(format!(
                        "model {} on {backend} has no price",
                        model.name
                    )));
                }
            }
        }
        if !self.models.iter().any(|m| m.name == self.jobs_model) {
            return Err(ConfigError::Invalid(format!(
                "jobs_model names no model: {}",
                self.jobs_model
            )));
        }
        if !(0.0..=1.0).contains(&self.tasks.doubtful_below) {
            return Err(ConfigError::Invalid(
                "tasks.doubtful_below must be between 0 and 1".into(),
            ));
        }
        if let crate::db::Location::Postgres(url) = &self.database {
            let options = sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| {
                ConfigError::Invalid(format!("database is not a PostgreSQL URL: {e}"))
            })?;
            if url.split_once("://").is_some_and(|(_, rest)| {
                rest.split_once('@')
                    .is_some_and(|(user, _)| user.contains(':'))
            }) {
                return Err(ConfigError::Invalid(
                    "the database URL carries a password: give it in PGPASSWORD, never in the config file".into(),
                ));
            }
            drop(options);
        }
        if let Some(shared) = &self.shared {
            if shared.slot_ttl_ms < 300 {
                return Err(ConfigError::Invalid(
                    "shared.slot_ttl_ms must be at least 300 (renewed every third of it)".into(),
                ));
            }
            if shared.key_prefix.is_empty() || shared.key_prefix.contains(char::is_whitespace) {
                return Err(ConfigError::Invalid(
                    "shared.key_prefix must be a non-empty word".into(),
                ));
            }
        }
        if self.admission.per_key_rps == 0 || self.admission.per_key_burst == 0 {
            return Err(ConfigError::Invalid(
                "admission rates must be at least 1".into(),
            ));
        }
        Ok(())
    }

    pub fn backend(&self, name: &str) -> Option<&BackendConfig> {
        self.backends.iter().find(|b| b.name == name)
    }
}

impl BackendConfig {
    pub fn queue_wait(&self) -> Duration {
        Duration::from_millis(self.queue_wait_ms)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The API key, from the environment or the key file; `Ok(None)` when none is configured.
    pub fn api_key(&self) -> Result<Option<String>, ConfigError> {
        if let Some(var) = &self.api_key_env {
            return std::env::var(var).map(Some).map_err(|_| {
                ConfigError::Invalid(format!(
                    "backend {}: environment variable {var} is not set",
                    self.name
                ))
            });
        }
        if let Some(path) = &self.api_key_file {
            let text =
                std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.clone(), e))?;
            return Ok(Some(text.trim().to_owned()));
        }
        Ok(None)
    }
}

impl ServedModel {
    /// The price in force on `day`: the newest that started on or before it.
    pub fn price_on(&self, day: time::Date) -> Option<Price> {
        self.prices
            .iter()
            .filter(|p| p.from <= day)
            .max_by_key(|p| p.from)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../../config/router.toml");
        let config = RouterConfig::from_toml(text).expect("config/router.toml is valid");
        assert_eq!(config.routing.primary, "gemini");
        assert!(config.models.iter().all(|m| m.serve.len() == 2));
        assert!(
            (config.tasks.doubtful_below - 0.6).abs() < f64::EPSILON,
            "the default threshold for raising a shared task"
        );
    }

    #[test]
    fn a_postgres_ledger_is_a_url_without_a_password() {
        let example = include_str!("../../../config/router.toml");
        let with = |url: &str| {
            example.replace("database = \"router.db\"", &format!("database = \"{url}\""))
        };
        let config = RouterConfig::from_toml(&with("postgres://review@db.internal:5432/router"))
            .expect("a URL without a password");
        assert_eq!(
            config.database,
            crate::db::Location::Postgres("postgres://review@db.internal:5432/router".into())
        );
        let error = RouterConfig::from_toml(&with("postgres://review:hunter2@db.internal/router"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("PGPASSWORD"), "{error}");
        assert!(
            !error.contains("hunter2"),
            "the password is not repeated: {error}"
        );
    }

    #[test]
    fn a_doubt_threshold_outside_0_to_1_is_refused() {
        let text = format!(
            "{}\n[tasks]\ndoubtful_below = 1.5\n",
            include_str!("../../../config/router.toml")
        );
        let error = RouterConfig::from_toml(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("tasks.doubtful_below"), "{error}");
    }

    #[test]
    fn the_price_in_force_is_the_newest_started() {
        let served = ServedModel {
            model: "m".into(),
            prices: vec![
                Price {
                    from: time::macros::date!(2026 - 01 - 01),
                    input: 1.0,
                    output: 2.0,
                    cached_input: None,
                },
                Price {
                    from: time::macros::date!(2026 - 06 - 01),
                    input: 0.5,
                    output: 1.0,
                    cached_input: None,
                },
            ],
        };
        assert_eq!(
            served
                .price_on(time::macros::date!(2026 - 03 - 01))
                .map(|p| p.input),
            Some(1.0)
        );
        assert_eq!(
            served
                .price_on(time::macros::date!(2026 - 06 - 01))
                .map(|p| p.input),
            Some(0.5)
        );
        assert_eq!(served.price_on(time::macros::date!(2025 - 12 - 31)), None);
    }

    #[test]
    fn a_routing_to_an_unknown_backend_is_refused() {
        let text = include_str!("../../../config/router.toml")
            .replace("secondary = \"bedrock\"", "secondary = \"nope\"");
        let error = RouterConfig::from_toml(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("routing.secondary names no backend: nope"),
            "{error}"
        );
    }
}
