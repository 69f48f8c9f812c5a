//! The analysis service: the engine's model-backed analyses as the app runs them — the
//! category gate against a store's categories (`category.rs`), OCR of photos and document
//! pages with the PDF text layer when a page has one, and rendered PDF pages (`text.rs`). The
//! engine is loaded on first use, off the async threads, and lives here.

mod category;
mod text;

use std::sync::Arc;
use std::time::Instant;

use engine::pdf::PdfEngine;
use engine::workers::Engine;
use store::Sha256Hex;

use crate::shared::Core;
use crate::{EngineStatus, OcrLine, StationError, Stores};

/// Analyzer names in the `analyses` table.
pub const CATEGORY_GATE: &str = "category_gate";
pub const OCR: &str = "ocr";

/// Long side of the page images the viewer shows (and text-layer boxes refer to).
pub const PAGE_VIEW_SIDE: u32 = 1600;
/// Long side of a page thumbnail.
pub const PAGE_THUMB_SIDE: u32 = 240;

/// The engine as last loaded, or why it could not be.
#[derive(Debug, Default)]
enum EngineSlot {
    #[default]
    NotLoaded,
    Loaded(Arc<Engine>),
    Failed(Instant, String),
}

#[derive(Debug)]
pub struct Analysis {
    core: Arc<Core>,
    /// Whose categories photos are judged against; the built sets are kept there.
    stores: Arc<Stores>,
    /// Loaded on first use: opening every session takes about a second per worker.
    engine: tokio::sync::Mutex<EngineSlot>,
}

impl Analysis {
    pub(crate) fn new(core: Arc<Core>, stores: Arc<Stores>) -> Self {
        Self {
            core,
            stores,
            engine: tokio::sync::Mutex::new(EngineSlot::NotLoaded),
        }
    }

    /// The loaded engine; loads it on first use (a second or so per worker). A failed load is
    /// remembered for a while, so a batch of photos does not retry it once per photo.
    pub async fn engine(&self) -> Result<Arc<Engine>, StationError> {
        const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(20);
        let mut slot = self.engine.lock().await;
        match &*slot {
            EngineSlot::Loaded(engine) => return Ok(Arc::clone(engine)),
            EngineSlot::Failed(at, error) if at.elapsed() < RETRY_AFTER => {
                return Err(StationError::EngineUnavailable(error.clone()))
            }
            _ => {}
        }
        let models_dir = self.core.models_dir.clone();
        let opened = tokio::task::spawn_blocking(move || Engine::open(&models_dir, None)).await?;
        match opened {
            Ok(engine) => {
                tracing::info!(provider = engine.provider(), plan = ?engine.plan(), "engine loaded");
                let engine = Arc::new(engine);
                *slot = EngineSlot::Loaded(Arc::clone(&engine));
                Ok(engine)
            }
            Err(error) => {
                tracing::error!(%error, "engine unavailable");
                *slot = EngineSlot::Failed(Instant::now(), error.to_string());
                Err(StationError::EngineUnavailable(error.to_string()))
            }
        }
    }

    pub(crate) fn pdf_engine(&self) -> Result<Arc<PdfEngine>, engine::pdf::PdfError> {
        PdfEngine::shared(&self.core.pdf_library())
    }

    /// Loads the engine (once: runtime, sessions, worker pool) and reports it, with every
    /// model's state against the manifest (hashing them takes a fraction of a second, off the
    /// async threads).
    pub async fn engine_status(&self) -> EngineStatus {
        let models_dir = self.core.models_dir.clone();
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
            models_dir: self.core.models_dir.display().to_string(),
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

    /// An item and the hash of its stored bytes (items refused before reading have none).
    async fn item_with_content(
        &self,
        item_id: i64,
    ) -> Result<(store::ItemRow, Sha256Hex), StationError> {
        let item = self.core.store.get_item(item_id).await?;
        let sha = item
            .blob_sha256
            .as_deref()
            .map(Sha256Hex::parse)
            .transpose()?
            .ok_or_else(|| {
                StationError::InvalidRequest("this item has no stored content".into())
            })?;
        Ok((item, sha))
    }
}

impl From<engine::pdf::PdfError> for StationError {
    fn from(error: engine::pdf::PdfError) -> Self {
        Self::Analysis {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl From<engine::ocr::TextLine> for OcrLine {
    fn from(line: engine::ocr::TextLine) -> Self {
        Self {
            polygon: line.polygon,
            text: line.text,
            confidence: line.confidence,
        }
    }
}
