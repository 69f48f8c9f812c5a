//! Text of photos and document pages (the PDF text layer, else OCR), recorded per page, and
//! document pages rendered for the viewer.

use std::sync::Arc;
use std::time::Instant;

use engine::workers::Engine;
use protocol::ErrorCode;
use store::{NewAnalysis, Sha256Hex};

use super::{Analysis, OCR, PAGE_VIEW_SIDE};
use crate::{OcrLine, OcrPage, StationError};

/// Long side pages are rendered at for OCR (≈ 240 dpi on A4; the detector caps at 2048).
const PAGE_OCR_SIDE: u32 = 2000;

impl Analysis {
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
            if let Some(row) = self
                .core
                .store
                .latest_page_analysis(item_id, OCR, page)
                .await?
            {
                if let Ok(mut recorded) = serde_json::from_str::<OcrPage>(&row.result_json) {
                    recorded.cached = true;
                    return Ok(recorded);
                }
            }
        }
        let started = Instant::now();
        let bytes = self.core.store.blobs().read(&sha)?;
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
            let limits = self.core.limits;
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
        self.core.store.add_analysis(item_id, &analysis).await?;
        Ok(result)
    }

    /// [`Analysis::read_text`] under a job the UI can cancel. Cancelling stops the wait at once;
    /// a page already inside the models finishes on its worker (a few seconds at most) and is
    /// not recorded.
    pub async fn read_text_job(
        &self,
        job_id: u64,
        item_id: i64,
        page: u32,
        rerun: bool,
    ) -> Result<OcrPage, StationError> {
        let token = self.core.jobs.token(job_id);
        let result = tokio::select! {
            result = self.read_text(item_id, page, rerun) => result,
            () = token.cancelled() => Err(StationError::Cancelled),
        };
        self.core.jobs.done(job_id);
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
            .core
            .data_dir()
            .join("cache/pages")
            .join(format!("{}-{page}-{side}.png", sha.as_str()));
        if let Ok(bytes) = tokio::fs::read(&cache).await {
            return Ok(bytes);
        }
        let bytes = self.core.store.blobs().read(&sha)?;
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
