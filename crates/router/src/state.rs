//! What the server holds: the config, the ledger, the traffic manager's parts, the two backends
//! with their caps and health, and the models clients may ask for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::config::{RouterConfig, ServedModel};
use crate::error::RouterError;
use crate::ledger::{Client, Ledger};
use crate::traffic::admission::Admission;
use crate::traffic::counters::RateCounters;
use crate::traffic::counters::Rates;
use crate::traffic::health::BackendHealth;
use crate::traffic::shared::{SharedError, SharedTraffic};
use crate::traffic::split::Splitter;

/// How long a checked key is trusted before the ledger is asked again (a revoked key stops
/// working within this time).
const KEY_CACHE: Duration = Duration::from_secs(10);

pub use crate::traffic::slot::Slot;

/// A client-facing model: the provider model and prices on each backend (primary, secondary).
#[derive(Debug, Clone)]
pub struct ModelRoute {
    pub name: String,
    pub on: [Option<ServedModel>; 2],
}

#[derive(Debug)]
pub struct AppState {
    pub config: RouterConfig,
    pub metrics: crate::metrics::Metrics,
    pub blobs: crate::blobs::BlobStore,
    /// Woken when a job ends (the stations' long-polls wait on it).
    pub jobs_finished: tokio::sync::Notify,
    /// From the environment (`REVIEW_ROUTER_ADMIN_KEY`); none: the admin API is off.
    pub admin_key: Option<String>,
    pub ledger: Ledger,
    /// People's accounts and sessions (sign-in is off without the sealing key).
    pub accounts: crate::accounts::Accounts,
    admission: Admission,
    counters: RateCounters,
    /// With `[shared]`: admission, counters, slots and rotation kept in Redis for every replica.
    pub shared: Option<SharedTraffic>,
    pub splitter: Splitter,
    /// Primary, secondary.
    pub slots: [Slot; 2],
    pub models: HashMap<String, ModelRoute>,
    keys: Mutex<HashMap<String, (Client, Instant)>>,
}

impl AppState {
    pub async fn new(config: RouterConfig) -> Result<Arc<Self>, RouterError> {
        let ledger = Ledger::open(&config.database).await?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        let routing = &config.routing;
        let shared = match &config.shared {
            Some(shared) => {
                let traffic = SharedTraffic::open(
                    &shared.redis_url()?,
                    &shared.key_prefix,
                    shared.slot_ttl(),
                )
                .map_err(|e| crate::error::ConfigError::Invalid(e.to_string()))?;
                match traffic.ping().await {
                    Ok(()) => tracing::info!("shared traffic state in Redis"),
                    // not fatal: requests are refused (503) and /readyz says so until it answers
                    Err(error) => {
                        tracing::error!(%error, "Redis does not answer: requests are refused until it does")
                    }
                }
                Some(traffic)
            }
            None => None,
        };
        let slot = |name: &str| -> Result<Slot, RouterError> {
            let backend = config
                .backend(name)
                .ok_or_else(|| crate::error::ConfigError::Invalid(format!("no backend {name}")))?;
            Ok(Slot::new(
                Backend::new(backend, backend.api_key()?, client.clone()),
                backend.max_in_flight,
                backend.queue_wait(),
                BackendHealth::new(
                    Duration::from_secs(routing.quota_disable_secs),
                    routing.daily_exception_limit,
                ),
                shared.clone(),
            ))
        };
        let slots = [slot(&routing.primary)?, slot(&routing.secondary)?];
        let models = config
            .models
            .iter()
            .map(|m| {
                let on = [
                    m.serve.get(&routing.primary).cloned(),
                    m.serve.get(&routing.secondary).cloned(),
                ];
                (
                    m.name.clone(),
                    ModelRoute {
                        name: m.name.clone(),
                        on,
                    },
                )
            })
            .collect();
        let sealer = crate::accounts::Sealer::from_env()
            .map_err(|e| crate::error::ConfigError::Invalid(e.to_string()))?;
        if sealer.is_none() {
            tracing::warn!(
                "{} is not set: people cannot sign in (accounts, the dashboards)",
                crate::accounts::SECRET_KEY_ENV
            );
        }
        Ok(Arc::new(Self {
            metrics: crate::metrics::Metrics::default(),
            blobs: crate::blobs::BlobStore::new(&config.blob_dir, config.max_blob_bytes)?,
            jobs_finished: tokio::sync::Notify::new(),
            admin_key: std::env::var(crate::api::ADMIN_KEY_ENV)
                .ok()
                .filter(|k| !k.is_empty()),
            admission: Admission::new(config.admission.per_key_rps, config.admission.per_key_burst),
            counters: RateCounters::default(),
            shared,
            splitter: Splitter::new(routing.spill_rpm, routing.spill_rps10, routing.spill_share),
            slots,
            models,
            keys: Mutex::new(HashMap::new()),
            accounts: crate::accounts::Accounts::new(ledger.db().clone(), sealer),
            ledger,
            config,
        }))
    }

    /// The client of a bearer key: `Err(true)` when it was revoked, `Err(false)` when unknown.
    pub async fn client(&self, key: &str) -> Result<Result<Client, bool>, RouterError> {
        let hash = crate::ledger::key_hash(key);
        if let Some((client, at)) = self.lock_keys().get(&hash) {
            if at.elapsed() < KEY_CACHE {
                return Ok(Ok(client.clone()));
            }
        }
        let found = self.ledger.client_of(key).await?;
        let mut keys = self.lock_keys();
        Ok(match found {
            Some((client, false)) => {
                keys.insert(hash, (client.clone(), Instant::now()));
                Ok(client)
            }
            Some((_, true)) => {
                keys.remove(&hash);
                Err(true)
            }
            None => Err(false),
        })
    }

    /// `Ok(Err(wait))` when the client key is over its rate (across replicas when shared).
    pub async fn admit(&self, client: i64) -> Result<Result<(), Duration>, SharedError> {
        match &self.shared {
            Some(shared) => {
                let a = &self.config.admission;
                shared.admit(client, a.per_key_rps, a.per_key_burst).await
            }
            None => Ok(self.admission.admit(client)),
        }
    }

    /// Counts a request; the rates including it (every replica's when shared) and whether each
    /// backend is in rotation: what the routing decision needs, in one round trip when shared.
    pub async fn record_request(&self, now: Instant) -> Result<(Rates, [bool; 2]), SharedError> {
        match &self.shared {
            Some(shared) => {
                let names = [
                    self.slots[0].backend.name.as_str(),
                    self.slots[1].backend.name.as_str(),
                ];
                let (rates, out) = shared.record_and_rotation(names).await?;
                Ok((rates, [out[0].is_none(), out[1].is_none()]))
            }
            None => Ok((
                self.counters.record(now),
                [
                    self.slots[0].in_rotation(now).await,
                    self.slots[1].in_rotation(now).await,
                ],
            )),
        }
    }

    pub async fn rates(&self, now: Instant) -> Result<Rates, SharedError> {
        match &self.shared {
            Some(shared) => shared.rates().await,
            None => Ok(self.counters.rates(now)),
        }
    }

    /// Forgets every checked key (a revocation takes effect at once).
    pub fn forget_keys(&self) {
        self.lock_keys().clear();
    }

    fn lock_keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Client, Instant)>> {
        // a cache: a panic elsewhere cannot leave it inconsistent
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}
