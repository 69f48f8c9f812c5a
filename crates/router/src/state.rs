//! What the server holds: the config, the ledger, the traffic manager's parts, the two backends
//! with their caps and health, and the models clients may ask for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::backend::Backend;
use crate::config::{RouterConfig, ServedModel};
use crate::error::RouterError;
use crate::ledger::{Client, Ledger};
use crate::traffic::admission::Admission;
use crate::traffic::counters::RateCounters;
use crate::traffic::health::BackendHealth;
use crate::traffic::split::Splitter;

/// How long a checked key is trusted before the ledger is asked again (a revoked key stops
/// working within this time).
const KEY_CACHE: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Slot {
    pub backend: Backend,
    pub health: BackendHealth,
    /// The in-flight cap as permits.
    pub permits: Arc<Semaphore>,
    pub cap: u32,
    pub queue_wait: Duration,
}

impl Slot {
    /// Requests holding a slot now.
    pub fn in_flight(&self) -> u32 {
        let free = u32::try_from(self.permits.available_permits()).unwrap_or(u32::MAX);
        self.cap.saturating_sub(free)
    }
}

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
    pub admission: Admission,
    pub counters: RateCounters,
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
        let slot = |name: &str| -> Result<Slot, RouterError> {
            let backend = config
                .backend(name)
                .ok_or_else(|| crate::error::ConfigError::Invalid(format!("no backend {name}")))?;
            Ok(Slot {
                backend: Backend::new(backend, backend.api_key()?, client.clone()),
                health: BackendHealth::new(
                    Duration::from_secs(routing.quota_disable_secs),
                    routing.daily_exception_limit,
                ),
                permits: Arc::new(Semaphore::new(backend.max_in_flight as usize)),
                cap: backend.max_in_flight,
                queue_wait: backend.queue_wait(),
            })
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
            splitter: Splitter::new(routing.spill_rpm, routing.spill_rps10, routing.spill_share),
            slots,
            models,
            keys: Mutex::new(HashMap::new()),
            accounts: crate::accounts::Accounts::new(ledger.pool().clone(), sealer),
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

    /// Forgets every checked key (a revocation takes effect at once).
    pub fn forget_keys(&self) {
        self.lock_keys().clear();
    }

    fn lock_keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Client, Instant)>> {
        // a cache: a panic elsewhere cannot leave it inconsistent
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}
