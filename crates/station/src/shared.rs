//! What every service shares and none owns: the database and blob store, the intake limits and
//! gate thresholds, the models' folder, and the jobs the UI can cancel. Services get it as an
//! `Arc<Core>` when they are wired, so none of them reaches into another for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use engine::{GateConfig, IntakeLimits};
use store::Store;
use tokio_util::sync::CancellationToken;

use crate::GATE_CONFIG_FILE;

#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) store: Store,
    gate: RwLock<GateConfig>,
    pub(crate) gate_config_error: Option<String>,
    pub(crate) limits: IntakeLimits,
    pub(crate) models_dir: PathBuf,
    /// Long operations the UI can cancel.
    pub(crate) jobs: Jobs,
    /// Rung when an outbox row is written, so the sync worker sends it without waiting for
    /// its next round.
    pub(crate) outbox_written: tokio::sync::Notify,
}

impl Core {
    /// The shared part of a station opened on `store`. A broken thresholds file does not stop
    /// the station: the defaults are used and the error is kept for `app_info`.
    pub(crate) fn new(store: Store, models_dir: &Path) -> Self {
        let (gate, gate_config_error) = load_gate_config(&store.data_dir().join(GATE_CONFIG_FILE));
        if let Some(error) = &gate_config_error {
            tracing::error!(%error, "quality gate config rejected; using defaults");
        }
        Self {
            store,
            gate: RwLock::new(gate),
            gate_config_error,
            limits: IntakeLimits::default(),
            models_dir: models_dir.to_path_buf(),
            jobs: Jobs::default(),
            outbox_written: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    pub(crate) fn gate_config(&self) -> GateConfig {
        // A poisoned lock only means a panic elsewhere while holding it; the config is plain data.
        self.gate
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Where PDFium is loaded from: beside the ONNX Runtime the models folder ships.
    pub(crate) fn pdf_library(&self) -> PathBuf {
        self.models_dir.join("runtime/libpdfium.so")
    }
}

/// The jobs running now, by id, each with the token that cancels it.
#[derive(Debug)]
pub(crate) struct Jobs {
    running: Mutex<HashMap<u64, CancellationToken>>,
    next: AtomicU64,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            running: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }
}

impl Jobs {
    /// Registers a new job; returns its id and cancellation token.
    pub(crate) fn start(&self) -> (u64, CancellationToken) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let token = CancellationToken::new();
        self.lock().insert(id, token.clone());
        (id, token)
    }

    /// Cancels a running job. Returns false when no such job is running.
    pub(crate) fn cancel(&self, job_id: u64) -> bool {
        match self.lock().get(&job_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// The token of a registered job; an unknown id gets a fresh token nobody cancels.
    pub(crate) fn token(&self, job_id: u64) -> CancellationToken {
        self.lock().get(&job_id).cloned().unwrap_or_default()
    }

    pub(crate) fn done(&self, job_id: u64) {
        self.lock().remove(&job_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancellationToken>> {
        // The map holds only tokens; a panic while holding the lock cannot leave it inconsistent.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

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
