//! The station's application layer. Every command the UI can issue is a plain async method of
//! one of the station's services, reached through [`Station`] (`station.review().decide(…)`);
//! the Tauri crate only forwards to them. Nothing here knows about windows or IPC, which keeps
//! every command testable without a webview.
//!
//! Each service owns its state and is handed what it uses when [`Station::open`] wires it:
//! the shared `Core` (`shared.rs`: database, limits, gate thresholds, jobs) and the services it
//! calls. Wiring in dependency order keeps every dependency one-directional:
//! stores → analysis; stores, session → review; analysis, review → documents;
//! analysis, documents → imports; stores, analysis, documents, imports → visits; documents,
//! imports → sync; insights needs only the core. `app_flow.rs` is the one place that coordinates several of them.

pub mod account;
mod analysis;
mod app_flow;
mod audit_key;
pub mod backup;
pub mod disk;
mod documents;
mod error;
mod export_file;
mod imports;
mod insights;
mod models_dir;
mod review;
mod session;
mod shared;
pub mod stores;
mod sync;
mod types;
pub mod updates;
mod visits;

use std::path::Path;
use std::sync::Arc;

use engine::GateConfig;
use shared::Core;
use store::Store;
use tokio_util::sync::CancellationToken;

// `self::`: the `review` crate (the pure routing policy) has the same name as the service.
pub use self::review::Review;
pub use self::sync::types::{
    SyncConnection, SyncCounts, SyncJob, SyncJobPage, SyncJobState, SyncStatus,
};
pub use self::sync::{SyncService, KEYRING_SERVICE};
pub use analysis::Analysis;
pub use app_flow::ConfigSink;
pub use documents::Documents;
pub use imports::Imports;
pub use insights::Insights;
pub use models_dir::models_dir;
pub use session::Session;
pub use stores::Stores;
pub use visits::Visits;

pub use self::review::{changed_fields, QueuePage, DEFAULT_STORE, LEASE_MS, POLICIES_DIR};
pub use analysis::{CATEGORY_GATE, OCR, PAGE_THUMB_SIDE, PAGE_VIEW_SIDE};
pub use documents::{
    DocumentResult, ExtractProgress, ExtractSink, NoProgress, PageSize, COMPLIANCE,
    EXTRACT_INVOICE, EXTRACT_LEGAL,
};
pub use error::StationError;
pub use extract::compliance::Compliance;
pub use imports::{expand_paths, ImportSink};
pub use insights::{
    EvaluationFormat, FieldAgreement, GatePoint, ReviewInsights, ReviewMetrics, ThresholdPoint,
    VolumePoint,
};
pub use session::SESSION_FILE;
pub use store::DATABASE_FILE;
pub use stores::ShotSpec;
pub use stores::{CategoryInfo, StoreInfo, StoresInfo};
pub use types::*;
pub use visits::report::{ReportFormat, ReportProgress, ReportSink, ReportWritten};
pub use visits::watch::{VisitSink, SETTLE};
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

/// The station: its services, wired once by [`Station::open`]. It holds no state of its own;
/// what coordinates several services (where handed files go, what is watched at start) is in
/// `app_flow.rs`.
#[derive(Debug)]
pub struct Station {
    core: Arc<Core>,
    session: Arc<Session>,
    stores: Arc<Stores>,
    analysis: Arc<Analysis>,
    review: Arc<Review>,
    documents: Arc<Documents>,
    imports: Arc<Imports>,
    visits: Arc<Visits>,
    insights: Arc<Insights>,
    sync: Arc<SyncService>,
    account: Arc<account::AccountService>,
    updates: updates::Updates,
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
        let store = match Store::open(data_dir).await {
            // data on a disk that no longer takes writes (a card's lock, a failing disk
            // remounted): opened to be read; every save is refused as `data_read_only`, and the
            // UI says so from the start (its disk notice)
            Err(error)
                if error.disk_problem() == Some(store::DiskProblem::ReadOnly)
                    && data_dir.join(DATABASE_FILE).is_file() =>
            {
                tracing::warn!(%error, "the data cannot be written: opened read-only");
                Store::open_read_only_current(data_dir).await?
            }
            opened => opened?,
        };
        // before any service exists: no decision can be written between the key's making and
        // its first seal
        match audit_key::install(&store, data_dir).await {
            Ok(seal) => tracing::info!(from = seal.from_id(), "audit chain sealed"),
            Err(why) => tracing::warn!(%why, "audit chain NOT sealed"),
        }
        let core = Arc::new(Core::new(store, models_dir));
        let session = Arc::new(Session::remembered(core.data_dir()));
        let stores = Arc::new(Stores::new(core.data_dir()));
        let analysis = Arc::new(Analysis::new(Arc::clone(&core), Arc::clone(&stores)));
        let review = Arc::new(Review::new(
            Arc::clone(&core),
            Arc::clone(&stores),
            Arc::clone(&session),
        ));
        let documents = Arc::new(Documents::new(
            Arc::clone(&core),
            Arc::clone(&analysis),
            Arc::clone(&review),
        ));
        let imports = Arc::new(Imports::new(
            Arc::clone(&core),
            Arc::clone(&analysis),
            Arc::clone(&documents),
        ));
        let visits = Arc::new(Visits::new(
            Arc::clone(&core),
            Arc::clone(&stores),
            Arc::clone(&analysis),
            Arc::clone(&documents),
            Arc::clone(&imports),
            Arc::clone(&session),
        ));
        let insights = Arc::new(Insights::new(Arc::clone(&core)));
        let sync = Arc::new(SyncService::new(
            Arc::clone(&core),
            Arc::clone(&documents),
            Arc::clone(&imports),
            Arc::clone(&session),
        ));
        sync.resume().await?;
        let account = Arc::new(account::AccountService::new(
            Arc::clone(&core),
            Arc::clone(&session),
            Arc::clone(&sync),
        ));
        account.resume().await?;
        Ok(Arc::new(Self {
            core,
            session,
            stores,
            analysis,
            review,
            documents,
            imports,
            visits,
            insights,
            sync,
            account,
            updates: updates::Updates::default(),
        }))
    }

    /// Router accounts: sign-in, the session in the keyring, the admin views.
    pub fn account(&self) -> &Arc<account::AccountService> {
        &self.account
    }

    /// The local engine's latencies and the reviewers' pace on this station, `[from, to)`.
    pub async fn local_stats(
        &self,
        from: &str,
        to: &str,
    ) -> Result<account::LocalStats, StationError> {
        self.insights.local_stats(from, to).await
    }

    /// Writes one admin table as CSV: the router's tables through the admin's session, the
    /// local engine's from this station (over the query's window, default the last 24 hours).
    pub async fn export_csv(
        &self,
        table: account::CsvTable,
        query: &protocol::admin::DashboardQuery,
        dest: &Path,
    ) -> Result<u32, StationError> {
        if table != account::CsvTable::Engine {
            return self.account.export_csv(table, query, dest).await;
        }
        let now = time::OffsetDateTime::now_utc();
        let format = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let to = query.to.clone().unwrap_or_else(|| format(now));
        let from = query
            .from
            .clone()
            .unwrap_or_else(|| format(now - time::Duration::days(1)));
        let stats = self.insights.local_stats(&from, &to).await?;
        let csv = Insights::local_stats_csv(&stats);
        export_file::write_atomically(dest, csv.as_bytes())?;
        Ok(u32::try_from(csv.lines().count().saturating_sub(1)).unwrap_or(u32::MAX))
    }

    /// Who is working: sign in and out; every review call acts as them.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The stores config (`stores.toml`) and the active store.
    pub fn stores(&self) -> &Arc<Stores> {
        &self.stores
    }

    /// The engine, category verdicts, text of photos and pages, rendered pages.
    pub fn analysis(&self) -> &Arc<Analysis> {
        &self.analysis
    }

    /// The review queue: policies, routing, claims, decisions, the audit check.
    pub fn review(&self) -> &Arc<Review> {
        &self.review
    }

    /// Extracted documents and photos' compliance results.
    pub fn documents(&self) -> &Arc<Documents> {
        &self.documents
    }

    /// Import jobs and the items they make: listing, details, blobs.
    pub fn imports(&self) -> &Arc<Imports> {
        &self.imports
    }

    /// Store visits, their watched folders and reports.
    pub fn visits(&self) -> &Arc<Visits> {
        &self.visits
    }

    /// What the review decisions say: metrics, charts' data, the evaluation set.
    /// The audit trail's hash chain and head, and — when connected — the heads the router
    /// witnessed.
    pub async fn verify_audit(&self) -> Result<protocol::AuditCheck, StationError> {
        let local = self.review.verify_audit().await?;
        self.sync.check_witnessed(local).await
    }

    /// Backs up this station's data directory into the new folder `dest` while it keeps
    /// working (`backup::back_up`).
    pub async fn back_up(
        &self,
        dest: &Path,
        progress: backup::Progress<'_>,
        cancel: &CancellationToken,
    ) -> Result<backup::BackupManifest, StationError> {
        backup::back_up(&self.core.store, dest, progress, cancel).await
    }

    /// [`Station::back_up`] as a job the UI can cancel (`cancel_job(job_id)`): into a new
    /// folder named after the time inside `parent`.
    pub async fn back_up_job(
        &self,
        job_id: u64,
        parent: &Path,
        progress: backup::Progress<'_>,
    ) -> Result<backup::BackupWritten, StationError> {
        let dest = parent.join(backup::folder_name(&store::now_rfc3339()));
        let token = self.core.jobs.token(job_id);
        let made = self.back_up(&dest, progress, &token).await;
        self.core.jobs.done(job_id);
        made.map(|m| backup::BackupWritten::of(&dest, &m))
    }

    pub fn sync(&self) -> &Arc<SyncService> {
        &self.sync
    }

    /// The station's own updates: what the update panel shows.
    pub fn updates(&self) -> &updates::Updates {
        &self.updates
    }

    /// Where to ask for a newer release of the station: the connected router's endpoint;
    /// `None` when not connected (a station on its own is updated by its package manager).
    pub async fn update_endpoint(&self) -> Result<Option<String>, StationError> {
        match self.sync.connection().await? {
            Some(connection) => updates::update_endpoint(&connection.url).map(Some),
            None => Ok(None),
        }
    }

    pub fn insights(&self) -> &Arc<Insights> {
        &self.insights
    }

    pub fn data_dir(&self) -> &Path {
        self.core.data_dir()
    }

    /// Looks at every stored file the database refers to (its size, not its bytes: fast enough
    /// for each start); the bytes are checked whenever a file is read.
    pub async fn check_data(&self) -> Result<DataCheck, StationError> {
        let (files, faults) = self.core.store.blob_faults().await?;
        let examples = faults
            .iter()
            .take(5)
            .map(|(_, name, fault)| format!("{name}: {fault}"))
            .collect();
        for (blob, name, fault) in &faults {
            tracing::error!(sha = %blob.sha, %name, %fault, "a stored file is damaged");
        }
        let advice = (!faults.is_empty()).then(|| {
            format!(
                "Restore a backup (review-station --restore BACKUP_FOLDER --data-dir \"{}\"), or \
                 import the original files again: each repairs its stored copy. Everything else \
                 works as usual.",
                self.data_dir().display()
            )
        });
        Ok(DataCheck {
            files,
            faults: faults.len() as u64,
            examples,
            advice,
        })
    }

    /// The disk under the data: which it is, its free space, whether it can be written.
    pub fn disk_status(&self) -> disk::DiskStatus {
        disk::disk_status(self.data_dir())
    }

    pub fn gate_config(&self) -> GateConfig {
        self.core.gate_config()
    }

    pub async fn app_info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            engine_version: engine::ENGINE_VERSION.into(),
            data_dir: self.data_dir().display().to_string(),
            gate_config_path: self.data_dir().join(GATE_CONFIG_FILE).display().to_string(),
            gate_config_error: self.core.gate_config_error.clone(),
            gate_config: self.gate_config(),
            max_file_bytes: self.core.limits.max_bytes,
            max_pixels: self.core.limits.max_pixels,
        }
    }

    /// Registers a new job (an import, a text read, an extraction, a report); returns its id
    /// and cancellation token.
    pub fn new_job(&self) -> (u64, CancellationToken) {
        self.core.jobs.start()
    }

    /// Cancels a running job. Returns false when no such job is running.
    pub fn cancel_job(&self, job_id: u64) -> bool {
        self.core.jobs.cancel(job_id)
    }
}

/// Verifies the audit trail of `data_dir` without opening the station: the database read
/// only, no migration, no configuration written, nothing changed; compared with the heads the
/// router witnessed when the station is connected (its key read from the keyring).
pub async fn verify_audit_read_only(data_dir: &Path) -> Result<protocol::AuditCheck, StationError> {
    let store = Store::open_read_only(data_dir).await?;
    let key = audit_key::load(data_dir).await;
    if let Ok(Some(seal)) = &key {
        store.set_audit_seal(seal.clone());
    }
    let checked = async {
        let mut local = review::audit_check(&store).await?;
        if let Err(why) = key {
            local.seal = Some(format!("not checked: {why}"));
        }
        let keys = ::sync::DeviceKeys::new(KEYRING_SERVICE);
        sync::compare_witnessed(&store, &keys, data_dir, local).await
    }
    .await;
    store.close().await;
    checked
}

/// Largest page the UI may ask for.
pub const MAX_PAGE: u32 = 500;
