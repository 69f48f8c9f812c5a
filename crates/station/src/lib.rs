//! The station's application layer. Every command the UI can issue is a plain async method on
//! [`Station`]; the Tauri crate only forwards to them. Nothing here knows about windows or IPC,
//! which keeps every command testable without a webview.

mod analysis;
mod app_flow;
mod documents;
mod error;
mod export_file;
mod import;
mod insights;
mod review_queue;
mod session;
pub mod stores;
mod types;
mod visits;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use engine::{GateConfig, IntakeLimits, QualityReport};
use store::{Sha256Hex, Store};
use tokio_util::sync::CancellationToken;

pub use analysis::{CATEGORY_GATE, OCR, PAGE_THUMB_SIDE, PAGE_VIEW_SIDE};
pub use documents::{
    DocumentResult, ExtractProgress, ExtractSink, NoProgress, PageSize, COMPLIANCE,
    EXTRACT_INVOICE, EXTRACT_LEGAL,
};
pub use error::StationError;
pub use extract::compliance::Compliance;
pub use import::{expand_paths, ImportSink};
pub use insights::{
    EvaluationFormat, FieldAgreement, GatePoint, ReviewInsights, ReviewMetrics, ThresholdPoint,
    VolumePoint,
};
pub use review_queue::{changed_fields, QueuePage, DEFAULT_STORE, LEASE_MS, POLICIES_DIR};
pub use session::SESSION_FILE;
pub use store::DATABASE_FILE;
pub use stores::ShotSpec;
pub use stores::{CategoryInfo, StoreInfo, StoresInfo};
pub use types::*;
pub use visits::report::{ReportFormat, ReportProgress, ReportSink, ReportWritten};
pub use visits::watch::{ConfigSink, VisitSink, SETTLE};
pub use visits::{
    FolderState, FolderStatus, PhotoState, ShotState, ShotStatus, VisitFolderEvent, VisitInfo,
    VisitPhoto, VisitPhotoEvent, VisitState, MAX_VISIT_PAGE,
};

/// Analyzer name of the quality gate in the `analyses` table.
pub const QUALITY_GATE: &str = "quality_gate";
/// Analyzer name of a PDF's intake (page count, or why it cannot be opened).
pub const PDF_INTAKE: &str = "pdf_intake";
/// Name of the gate thresholds file in the data directory.
pub const GATE_CONFIG_FILE: &str = "quality-gate.toml";

#[derive(Debug)]
pub struct Station {
    store: Store,
    gate: RwLock<GateConfig>,
    gate_config_error: Option<String>,
    limits: IntakeLimits,
    /// Long operations the UI can cancel.
    jobs: Jobs,
    models_dir: PathBuf,
    /// Loaded on first use: opening every session takes about a second per worker.
    engine: tokio::sync::Mutex<analysis::EngineSlot>,
    stores: Mutex<stores::state::StoresState>,
    /// The visits' watched folders.
    visits: visits::VisitsState,
    /// The review queue's policies and its one-at-a-time writes.
    review: review_queue::ReviewState,
    /// Who is working.
    session: session::Session,
}

/// The jobs running now, by id, each with the token that cancels it.
#[derive(Debug)]
struct Jobs {
    running: Mutex<HashMap<u64, CancellationToken>>,
    next: AtomicU64,
}

impl Station {
    /// Opens the station in `data_dir`: database (migrated), blob store and gate thresholds.
    /// A broken thresholds file does not stop the station: the defaults are used and the error
    /// is reported through [`Station::app_info`].
    pub async fn open(data_dir: &Path) -> Result<Arc<Self>, StationError> {
        Self::open_with_models(data_dir, &engine::runtime::default_models_dir()).await
    }

    /// [`Station::open`] with the engine's models taken from `models_dir`.
    pub async fn open_with_models(
        data_dir: &Path,
        models_dir: &Path,
    ) -> Result<Arc<Self>, StationError> {
        let store = Store::open(data_dir).await?;
        let (gate, gate_config_error) = load_gate_config(&data_dir.join(GATE_CONFIG_FILE));
        if let Some(error) = &gate_config_error {
            tracing::error!(%error, "quality gate config rejected; using defaults");
        }
        Ok(Arc::new(Self {
            store,
            gate: RwLock::new(gate),
            gate_config_error,
            limits: IntakeLimits::default(),
            jobs: Jobs {
                running: Mutex::new(HashMap::new()),
                next: AtomicU64::new(1),
            },
            models_dir: models_dir.to_path_buf(),
            engine: tokio::sync::Mutex::new(analysis::EngineSlot::NotLoaded),
            stores: Mutex::new(stores::state::StoresState::default()),
            visits: visits::VisitsState::default(),
            review: review_queue::ReviewState::default(),
            session: session::Session::remembered(data_dir),
        }))
    }

    pub fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    pub fn gate_config(&self) -> GateConfig {
        // A poisoned lock only means a panic elsewhere while holding it; the config is plain data.
        self.gate
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub async fn app_info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            engine_version: engine::ENGINE_VERSION.into(),
            data_dir: self.data_dir().display().to_string(),
            gate_config_path: self.data_dir().join(GATE_CONFIG_FILE).display().to_string(),
            gate_config_error: self.gate_config_error.clone(),
            gate_config: self.gate_config(),
            max_file_bytes: self.limits.max_bytes,
            max_pixels: self.limits.max_pixels,
        }
    }

    /// Loads the engine (once: runtime, sessions, worker pool) and reports it, with every
    /// model's state against the manifest (hashing them takes a fraction of a second, off the
    /// async threads).
    pub async fn engine_status(&self) -> EngineStatus {
        let models_dir = self.models_dir.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let library = engine::runtime::runtime_library(&models_dir)?;
            let models = engine::runtime::verify_models(&models_dir)?;
            Ok::<_, engine::runtime::RuntimeError>((library, models))
        })
        .await;
        let mut status = EngineStatus {
            available: false,
            engine_version: engine::ENGINE_VERSION.into(),
            provider: None,
            provider_note: None,
            workers: 0,
            threads_per_worker: 0,
            cpu: engine::cpu::CpuInfo::detect().to_string(),
            runtime_library: String::new(),
            models_dir: self.models_dir.display().to_string(),
            models: Vec::new(),
            error: None,
        };
        match checked {
            Err(join) => status.error = Some(format!("engine check failed: {join}")),
            Ok(Err(error)) => status.error = Some(error.to_string()),
            Ok(Ok((library, models))) => {
                status.runtime_library = library.display().to_string();
                status.models = models;
                match self.engine().await {
                    Ok(engine) => {
                        status.available = true;
                        status.provider = Some(engine.provider().into());
                        status.provider_note = engine.cpu_reason();
                        let plan = engine.plan();
                        status.workers = u32::try_from(plan.workers).unwrap_or(u32::MAX);
                        status.threads_per_worker =
                            u32::try_from(plan.threads_per_worker).unwrap_or(u32::MAX);
                    }
                    Err(error) => status.error = Some(error.to_string()),
                }
            }
        }
        status
    }

    pub async fn list_items(&self, query: ItemQuery) -> Result<ItemPage, StationError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let total = self.store.count_items(query.verdict).await?;
        let items = self
            .store
            .list_items(query.verdict, query.sort, query.offset, limit)
            .await?;
        Ok(ItemPage {
            total,
            offset: query.offset,
            items,
        })
    }

    pub async fn get_item(&self, id: i64) -> Result<ItemDetail, StationError> {
        let item = self.store.get_item(id).await?;
        let analysis = self.store.latest_analysis(id, QUALITY_GATE).await?;
        let (quality, analysis) = match analysis {
            Some(row) => {
                let quality = serde_json::from_str::<QualityReport>(&row.result_json).ok();
                let meta = AnalysisMeta {
                    engine_version: row.engine_version,
                    latency_ms: row.latency_ms,
                    created_at: row.created_at,
                };
                (quality, Some(meta))
            }
            None => (None, None),
        };
        let category = self.latest_category(id).await?;
        Ok(ItemDetail {
            item,
            quality,
            analysis,
            category,
        })
    }

    /// The file holding a blob, for the UI's image protocol. The hash is validated, so the path
    /// cannot leave the blob directory.
    pub fn blob_path(&self, sha: &str) -> Result<PathBuf, StationError> {
        let sha = Sha256Hex::parse(sha)?;
        Ok(self.store.blobs().path_of(&sha))
    }

    /// Registers a new import job; returns its id and cancellation token.
    pub fn new_job(&self) -> (u64, CancellationToken) {
        let id = self.jobs.next.fetch_add(1, Ordering::Relaxed);
        let token = CancellationToken::new();
        self.jobs_lock().insert(id, token.clone());
        (id, token)
    }

    /// Cancels a running job. Returns false when no such job is running.
    pub fn cancel_job(&self, job_id: u64) -> bool {
        match self.jobs_lock().get(&job_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// The token of a registered job; an unknown id gets a fresh token nobody cancels.
    fn job_token(&self, job_id: u64) -> CancellationToken {
        self.jobs_lock().get(&job_id).cloned().unwrap_or_default()
    }

    fn finish_job(&self, job_id: u64) {
        self.jobs_lock().remove(&job_id);
    }

    fn jobs_lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancellationToken>> {
        // The map holds only tokens; a panic while holding the lock cannot leave it inconsistent.
        self.jobs.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Largest page the UI may ask for.
pub const MAX_PAGE: u32 = 500;

fn load_gate_config(path: &Path) -> (GateConfig, Option<String>) {
    match std::fs::read_to_string(path) {
        Ok(text) => match GateConfig::from_toml(&text) {
            Ok(config) => (config, None),
            Err(e) => (
                GateConfig::default(),
                Some(format!("{}: {e}", path.display())),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Err(e) = std::fs::write(path, engine::DEFAULT_GATE_CONFIG_TOML) {
                tracing::warn!(path = %path.display(), error = %e, "could not write the default gate config");
            }
            (GateConfig::default(), None)
        }
        Err(e) => (
            GateConfig::default(),
            Some(format!("{}: {e}", path.display())),
        ),
    }
}
