//! The engine's model-backed analyses, as the app runs them: the category gate against the
//! active store's categories, OCR of photos and document pages (the PDF text layer when a page
//! has one), and rendered PDF pages. The engine is loaded on first use, off the async threads.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use engine::category::{CategoryScore, CategorySet};
use engine::pdf::PdfEngine;
use engine::workers::Engine;
use protocol::ErrorCode;
use store::{CachedEmbedding, NewAnalysis, Sha256Hex};

use crate::stores::{self, StoreSpec};
use crate::{CategoryInfo, CategoryResult, OcrLine, OcrPage, Station, StationError};

/// Analyzer names in the `analyses` table.
pub const CATEGORY_GATE: &str = "category_gate";
pub const OCR: &str = "ocr";

/// Long side of the page images the viewer shows (and text-layer boxes refer to).
pub const PAGE_VIEW_SIDE: u32 = 1600;
/// Long side of a page thumbnail.
pub const PAGE_THUMB_SIDE: u32 = 240;
/// Long side pages are rendered at for OCR (≈ 240 dpi on A4; the detector caps at 2048).
const PAGE_OCR_SIDE: u32 = 2000;

/// The engine as last loaded, or why it could not be.
#[derive(Debug, Default)]
pub(crate) enum EngineSlot {
    #[default]
    NotLoaded,
    Loaded(Arc<Engine>),
    Failed(Instant, String),
}

#[derive(Debug)]
pub(crate) struct BuiltSet {
    set: CategorySet,
    pub(crate) infos: Vec<CategoryInfo>,
}

impl Station {
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
        let models_dir = self.models_dir.clone();
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
        PdfEngine::shared(&self.models_dir.join("runtime/libpdfium.so"))
    }

    /// The active store's categories, embedding reference photos not yet cached.
    /// A store's categories (the active store's when `store_id` is `None`), embedding
    /// reference photos not yet cached.
    pub(crate) async fn category_set(
        &self,
        store_id: Option<&str>,
    ) -> Result<(StoreSpec, Arc<BuiltSet>), StationError> {
        self.refresh_stores();
        let (spec, built) = {
            let state = self.stores_lock();
            let wanted = store_id
                .map(str::to_string)
                .or_else(|| state.active.clone());
            let spec = wanted
                .as_ref()
                .and_then(|a| state.stores.iter().find(|s| &s.id == a))
                .cloned()
                .ok_or(StationError::NoStore)?;
            let built = state.sets.get(&spec.id).cloned();
            (spec, built)
        };
        if let Some(built) = built {
            return Ok((spec, built));
        }
        let engine = self.engine().await?;
        let built = Arc::new(self.build_set(&engine, &spec).await?);
        self.stores_lock()
            .sets
            .insert(spec.id.clone(), Arc::clone(&built));
        Ok((spec, built))
    }

    async fn build_set(
        &self,
        engine: &Arc<Engine>,
        spec: &StoreSpec,
    ) -> Result<BuiltSet, StationError> {
        let classes = engine.imagenet_classes();
        let mut names = Vec::new();
        let mut prototypes = Vec::new();
        let mut imagenet = Vec::new();
        let mut infos = Vec::new();
        for category in &spec.category {
            let mut problems = Vec::new();
            let mut features = Vec::new();
            let mut reference_count = 0u32;
            if let Some(dir) = &category.references {
                match stores::reference_photos(dir) {
                    Ok(photos) => {
                        for photo in photos {
                            match self.embed_file(engine, &photo).await {
                                Ok(embedding) => {
                                    features.push(embedding.vector);
                                    reference_count += 1;
                                }
                                Err(error) => problems.push(format!(
                                    "{}: {error}",
                                    photo.file_name().map_or_else(String::new, |n| n
                                        .to_string_lossy()
                                        .into_owned())
                                )),
                            }
                        }
                    }
                    Err(error) => problems.push(error),
                }
            }
            let mut indices = Vec::new();
            for class in &category.imagenet {
                match classes.iter().position(|c| c.eq_ignore_ascii_case(class)) {
                    Some(index) => indices.push(index),
                    None => problems.push(format!("{class:?} is not an ImageNet class name")),
                }
            }
            let usable = !features.is_empty() || !indices.is_empty();
            infos.push(CategoryInfo {
                name: category.name.clone(),
                references_dir: category
                    .references
                    .as_ref()
                    .map(|d| d.display().to_string()),
                reference_count,
                imagenet: category.imagenet.clone(),
                problem: (!problems.is_empty()).then(|| problems.join("; ")),
            });
            if usable {
                names.push(category.name.clone());
                prototypes.push(
                    (!features.is_empty())
                        .then(|| engine::category::prototype(features.iter().map(Vec::as_slice))),
                );
                imagenet.push(indices);
            }
        }
        Ok(BuiltSet {
            set: CategorySet {
                names,
                prototypes,
                imagenet,
                thresholds: spec.thresholds.unwrap_or_default(),
            },
            infos,
        })
    }

    async fn embed_file(
        &self,
        engine: &Arc<Engine>,
        path: &Path,
    ) -> Result<CachedEmbedding, StationError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| StationError::InvalidRequest(format!("{}: {e}", path.display())))?;
        self.embed_cached(engine, Sha256Hex::of(&bytes), bytes)
            .await
    }

    /// An embedding from the cache, or computed on a free engine worker and cached.
    async fn embed_cached(
        &self,
        engine: &Arc<Engine>,
        sha: Sha256Hex,
        bytes: Vec<u8>,
    ) -> Result<CachedEmbedding, StationError> {
        let model = engine.category_model_sha256().to_string();
        if let Some(cached) = self.store.cached_embedding(&sha, &model).await? {
            return Ok(cached);
        }
        let limits = self.limits;
        let worker = Arc::clone(engine);
        let embedding = tokio::task::spawn_blocking(move || worker.embed(&bytes, &limits))
            .await?
            .map_err(|e| StationError::Analysis {
                code: ErrorCode::CategoryFailed,
                message: e.to_string(),
            })?;
        let cached = CachedEmbedding {
            vector: embedding.feature,
            imagenet_top: embedding.imagenet_top5,
        };
        self.store.cache_embedding(&sha, &model, &cached).await?;
        Ok(cached)
    }

    /// An item and the hash of its stored bytes (items refused before reading have none).
    async fn item_with_content(
        &self,
        item_id: i64,
    ) -> Result<(store::ItemRow, Sha256Hex), StationError> {
        let item = self.store.get_item(item_id).await?;
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

    /// Judges a photo against the active store's categories (optionally the one expected),
    /// records the verdict and returns it.
    pub async fn judge_category(
        &self,
        item_id: i64,
        expected: Option<String>,
    ) -> Result<CategoryResult, StationError> {
        self.judge_category_in(item_id, expected, None).await
    }

    /// Judges a photo against one store's categories (the active store's when `None`).
    pub(crate) async fn judge_category_in(
        &self,
        item_id: i64,
        expected: Option<String>,
        store_id: Option<&str>,
    ) -> Result<CategoryResult, StationError> {
        let (item, sha) = self.item_with_content(item_id).await?;
        if item.kind != "photo" || item.status != "analyzed" {
            return Err(StationError::InvalidRequest(
                "the category gate judges photos that could be read".into(),
            ));
        }
        let started = Instant::now();
        let (spec, built) = self.category_set(store_id).await?;
        let engine = self.engine().await?;
        let bytes = self.store.blobs().read(&sha)?;
        let embedding = self.embed_cached(&engine, sha, bytes).await?;
        let imagenet_top = embedding
            .imagenet_top
            .iter()
            .map(|&(index, probability)| CategoryScore {
                name: engine.imagenet_class(index),
                score: probability,
            })
            .collect();
        let expected = expected.filter(|e| !e.trim().is_empty());
        let verdict = built.set.judge(
            &embedding.vector,
            &embedding.imagenet_top,
            expected.as_deref(),
            imagenet_top,
        );
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let result = CategoryResult {
            store_id: spec.id.clone(),
            store_name: spec.name.clone(),
            verdict,
            latency_ms,
            provider: engine.provider().into(),
            model_version: engine.model_version("category").unwrap_or_default().into(),
        };
        let analysis = NewAnalysis {
            analyzer: CATEGORY_GATE.into(),
            engine_version: engine::ENGINE_VERSION.into(),
            verdict: Some(result.verdict.verdict.clone()),
            result_json: serde_json::to_string(&result).unwrap_or_default(),
            latency_ms,
            provider: Some(result.provider.clone()),
            model_versions: Some(
                serde_json::json!({ "category": result.model_version }).to_string(),
            ),
            page: None,
        };
        self.store
            .record_category(item_id, expected.as_deref(), &analysis)
            .await?;
        Ok(result)
    }

    /// The latest recorded category verdict of an item.
    pub async fn latest_category(
        &self,
        item_id: i64,
    ) -> Result<Option<CategoryResult>, StationError> {
        Ok(self
            .store
            .latest_analysis(item_id, CATEGORY_GATE)
            .await?
            .and_then(|row| serde_json::from_str(&row.result_json).ok()))
    }

    /// Text lines of a photo or of one page of a document: recorded results are returned as
    /// they are; otherwise the PDF text layer is read, or OCR runs, and the result is recorded.
    pub async fn read_text(
        &self,
        item_id: i64,
        page: u32,
        rerun: bool,
    ) -> Result<OcrPage, StationError> {
        let (item, sha) = self.item_with_content(item_id).await?;
        let page_count = u32::try_from(item.page_count.unwrap_or(1))
            .unwrap_or(1)
            .max(1);
        if page == 0 || page > page_count {
            return Err(StationError::InvalidRequest(format!(
                "page {page} does not exist; the item has {page_count}"
            )));
        }
        if item.status != "analyzed" {
            return Err(StationError::InvalidRequest(
                "the file could not be read, so it has no text".into(),
            ));
        }
        if !rerun {
            if let Some(row) = self.store.latest_page_analysis(item_id, OCR, page).await? {
                if let Ok(mut recorded) = serde_json::from_str::<OcrPage>(&row.result_json) {
                    recorded.cached = true;
                    return Ok(recorded);
                }
            }
        }
        let started = Instant::now();
        let bytes = self.store.blobs().read(&sha)?;
        let is_document = item.kind == "document";
        let mut result = if is_document {
            let pdf = self.pdf_engine().map_err(StationError::from)?;
            let text = {
                let (pdf, bytes) = (Arc::clone(&pdf), bytes.clone());
                tokio::task::spawn_blocking(move || pdf.page_text(&bytes, page, PAGE_VIEW_SIDE))
                    .await?
                    .map_err(StationError::from)?
            };
            if text.lines.is_empty() {
                let engine = self.engine().await?;
                let image = tokio::task::spawn_blocking(move || {
                    pdf.render_page(&bytes, page, PAGE_OCR_SIDE)
                })
                .await?
                .map_err(StationError::from)?;
                self.ocr_image(&engine, image).await?
            } else {
                let scale = PAGE_VIEW_SIDE as f32 / text.width_pt.max(text.height_pt).max(1.0);
                OcrPage {
                    source: "text_layer".into(),
                    width: (text.width_pt * scale).round() as u32,
                    height: (text.height_pt * scale).round() as u32,
                    lines: text.lines.into_iter().map(OcrLine::from).collect(),
                    provider: None,
                    model_version: None,
                    ..OcrPage::default()
                }
            }
        } else {
            let engine = self.engine().await?;
            let limits = self.limits;
            let image = tokio::task::spawn_blocking(move || {
                engine::intake::decode_upright(&bytes, &limits)
            })
            .await?
            .map_err(|e| StationError::Analysis {
                code: e.code(),
                message: e.to_string(),
            })?;
            self.ocr_image(&engine, image).await?
        };
        result.item_id = item_id;
        result.page = page;
        result.page_count = page_count;
        result.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        result.created_at = store::now_rfc3339();
        let analysis = NewAnalysis {
            analyzer: OCR.into(),
            engine_version: engine::ENGINE_VERSION.into(),
            verdict: Some(result.source.clone()),
            result_json: serde_json::to_string(&result).unwrap_or_default(),
            latency_ms: result.latency_ms,
            provider: result.provider.clone(),
            model_versions: result
                .model_version
                .as_ref()
                .map(|v| serde_json::json!({ "ocr": v }).to_string()),
            page: Some(page),
        };
        self.store.add_analysis(item_id, &analysis).await?;
        Ok(result)
    }

    /// [`Station::read_text`] under a job the UI can cancel. Cancelling stops the wait at once;
    /// a page already inside the models finishes on its worker (a few seconds at most) and is
    /// not recorded.
    pub async fn read_text_job(
        &self,
        job_id: u64,
        item_id: i64,
        page: u32,
        rerun: bool,
    ) -> Result<OcrPage, StationError> {
        let token = self.job_token(job_id);
        let result = tokio::select! {
            result = self.read_text(item_id, page, rerun) => result,
            () = token.cancelled() => Err(StationError::Cancelled),
        };
        self.finish_job(job_id);
        result
    }

    async fn ocr_image(
        &self,
        engine: &Arc<Engine>,
        image: image::RgbImage,
    ) -> Result<OcrPage, StationError> {
        let (width, height) = image.dimensions();
        let worker = Arc::clone(engine);
        let (lines, model_seconds) = tokio::task::spawn_blocking(move || worker.ocr(&image))
            .await?
            .map_err(|e| StationError::Analysis {
                code: ErrorCode::OcrFailed,
                message: e.to_string(),
            })?;
        Ok(OcrPage {
            source: "ocr".into(),
            width,
            height,
            lines: lines.into_iter().map(OcrLine::from).collect(),
            model_ms: Some(model_seconds * 1000.0),
            provider: Some(engine.provider().into()),
            model_version: Some(engine.ocr_version()),
            ..OcrPage::default()
        })
    }

    /// A document page as PNG with the long side `side` (at most [`PAGE_VIEW_SIDE`]), rendered
    /// once and kept in the data directory's page cache.
    pub async fn page_png(&self, sha: &str, page: u32, side: u32) -> Result<Vec<u8>, StationError> {
        let sha = Sha256Hex::parse(sha)?;
        let side = side.clamp(64, PAGE_VIEW_SIDE);
        let cache = self
            .data_dir()
            .join("cache/pages")
            .join(format!("{}-{page}-{side}.png", sha.as_str()));
        if let Ok(bytes) = tokio::fs::read(&cache).await {
            return Ok(bytes);
        }
        let bytes = self.store.blobs().read(&sha)?;
        let pdf = self.pdf_engine().map_err(StationError::from)?;
        let png = tokio::task::spawn_blocking(move || {
            let image = pdf
                .render_page(&bytes, page, side)
                .map_err(StationError::from)?;
            let mut png = Vec::new();
            image
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| StationError::Analysis {
                    code: ErrorCode::PdfRender,
                    message: e.to_string(),
                })?;
            Ok::<_, StationError>(png)
        })
        .await??;
        if let Some(dir) = cache.parent() {
            let written = tokio::fs::create_dir_all(dir)
                .await
                .and(tokio::fs::write(&cache, &png).await);
            if let Err(error) = written {
                tracing::warn!(%error, "page cache not written");
            }
        }
        Ok(png)
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
