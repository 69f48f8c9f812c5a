//! Structured results: invoices, receipts and legal documents extracted from the text of every
//! page (text layer or OCR, recorded per page), and the compliance result of a photo. Every
//! result is checked against its JSON Schema before it is recorded.

use crate::analysis::CATEGORY_GATE;
use crate::error::StationError;
use crate::types::OcrPage;
use crate::{Station, QUALITY_GATE};
use extract::compliance::Compliance;
use extract::date::DayMonthOrder;
use extract::invoice::{extract_invoice, Invoice, InvoiceOptions};
use extract::legal::{extract_legal, LegalDocument};
use extract::schema::validate;
use protocol::{DocumentKind, ErrorCode, ResultKind};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use store::NewAnalysis;
use ts_rs::TS;

pub const EXTRACT_INVOICE: &str = "extract_invoice";
pub const EXTRACT_LEGAL: &str = "extract_legal";
pub const COMPLIANCE: &str = "compliance";

/// Invoices rarely run long; a longer "invoice" is read up to here (its totals are on the
/// first pages or the last, and the last is read too).
const INVOICE_MAX_PAGES: u32 = 20;

/// The size of a page in the coordinates of its evidence boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PageSize {
    pub page: u32,
    pub width: u32,
    pub height: u32,
    /// `ocr` or `text_layer`.
    pub source: String,
    /// The OCR models that read the page, as the engine reports them (none for a text layer,
    /// and in results recorded before pages kept it).
    #[serde(default)]
    pub model_version: Option<String>,
}

/// A document's extracted result as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DocumentResult {
    #[ts(type = "number")]
    pub item_id: i64,
    pub kind: DocumentKind,
    pub invoice: Option<Invoice>,
    pub legal: Option<LegalDocument>,
    /// The pages that were read, with the size their evidence boxes refer to.
    pub pages: Vec<PageSize>,
    pub page_count: u32,
    pub latency_ms: f64,
    pub created_at: String,
    #[serde(default)]
    pub cached: bool,
}

/// Progress of an extraction, one event per page read.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExtractProgress {
    #[ts(type = "number")]
    pub job_id: u64,
    #[ts(type = "number")]
    pub item_id: i64,
    pub pages_done: u32,
    pub pages_total: u32,
}

/// Where extraction progress goes (the window, in the app).
pub trait ExtractSink: Send + Sync {
    fn progress(&self, event: &ExtractProgress);
}

/// A sink that drops events (tests, the command line).
#[derive(Debug, Clone, Copy)]
pub struct NoProgress;

impl ExtractSink for NoProgress {
    fn progress(&self, _: &ExtractProgress) {}
}

fn guess_kind(lines: &[extract::Line]) -> DocumentKind {
    let text = lines
        .iter()
        .map(|l| l.text.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let count = |words: &[&str]| words.iter().filter(|w| text.contains(*w)).count();
    let legal = count(&[
        "court",
        "petitioner",
        "respondent",
        "appellant",
        "judgment",
        "tribunal",
        "plaintiff",
        "defendant",
        "justice",
        "hon'ble",
        "versus",
    ]);
    let invoice = count(&[
        "invoice", "receipt", "total", "subtotal", "gst", "vat", "qty", "amount", "cash", "bill",
    ]);
    if legal > invoice {
        DocumentKind::Legal
    } else {
        DocumentKind::Invoice
    }
}

fn to_lines(page: &OcrPage) -> impl Iterator<Item = extract::Line> + '_ {
    page.lines.iter().map(move |l| extract::Line {
        page: page.page,
        polygon: l.polygon,
        text: l.text.clone(),
        confidence: l.confidence,
    })
}

fn schema_error(error: &extract::ExtractError) -> StationError {
    StationError::Analysis {
        code: ErrorCode::SchemaInvalid,
        message: error.to_string(),
    }
}

impl Station {
    /// Extracts a document's structured result from the text of its pages (recorded page texts
    /// are reused), records it and returns it. `kind` None guesses from the first page. Runs
    /// under the job `job_id`: progress per page, cancellable between pages (nothing is
    /// recorded then).
    pub async fn extract_document(
        &self,
        job_id: u64,
        item_id: i64,
        kind: Option<DocumentKind>,
        sink: &dyn ExtractSink,
    ) -> Result<DocumentResult, StationError> {
        let token = self.job_token(job_id);
        let result = tokio::select! {
            result = self.extract_document_inner(job_id, item_id, kind, sink) => result,
            () = token.cancelled() => Err(StationError::Cancelled),
        };
        self.finish_job(job_id);
        result
    }

    async fn extract_document_inner(
        &self,
        job_id: u64,
        item_id: i64,
        kind: Option<DocumentKind>,
        sink: &dyn ExtractSink,
    ) -> Result<DocumentResult, StationError> {
        let started = Instant::now();
        let item = self.store.get_item(item_id).await?;
        if item.status != "analyzed" {
            // refused with the file's own error: an unreadable file has no text to extract
            return Err(StationError::Analysis {
                code: item
                    .error_code
                    .as_deref()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(ErrorCode::Unreadable),
                message: format!(
                    "nothing to extract: the file could not be read ({})",
                    item.error_message
                        .as_deref()
                        .unwrap_or("no reason recorded")
                ),
            });
        }
        let page_count = u32::try_from(item.page_count.unwrap_or(1))
            .unwrap_or(1)
            .max(1);
        let first = self.read_text(item_id, 1, false).await?;
        let kind = kind.unwrap_or_else(|| guess_kind(&to_lines(&first).collect::<Vec<_>>()));
        let pages: Vec<u32> = match kind {
            DocumentKind::Legal => (1..=page_count).collect(),
            DocumentKind::Invoice if page_count <= INVOICE_MAX_PAGES => (1..=page_count).collect(),
            DocumentKind::Invoice => (1..INVOICE_MAX_PAGES).chain([page_count]).collect(),
        };
        let total = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        let mut lines: Vec<extract::Line> = Vec::new();
        let mut sizes: Vec<PageSize> = Vec::new();
        for (done, &page) in pages.iter().enumerate() {
            let text = if page == 1 {
                first.clone()
            } else {
                self.read_text(item_id, page, false).await?
            };
            sizes.push(PageSize {
                page,
                width: text.width,
                height: text.height,
                source: text.source.clone(),
                model_version: text.model_version.clone(),
            });
            lines.extend(to_lines(&text));
            sink.progress(&ExtractProgress {
                job_id,
                item_id,
                pages_done: u32::try_from(done + 1).unwrap_or(u32::MAX),
                pages_total: total,
            });
            // let a cancellation land between pages even when every page is cached
            tokio::task::yield_now().await;
        }
        if lines.is_empty() {
            // an empty result would be queued as a failed invoice with every field missing
            return Err(StationError::Analysis {
                code: ErrorCode::NoText,
                message: format!(
                    "nothing to extract: no text was found on {}",
                    if total == 1 {
                        "the page".to_string()
                    } else {
                        format!("any of the {total} pages")
                    }
                ),
            });
        }
        let (invoice, legal, analyzer, value) = tokio::task::spawn_blocking(move || match kind {
            DocumentKind::Invoice => {
                let invoice = extract_invoice(&lines, &InvoiceOptions::default());
                let value = serde_json::to_value(&invoice)?;
                Ok::<_, serde_json::Error>((Some(invoice), None, EXTRACT_INVOICE, value))
            }
            DocumentKind::Legal => {
                let legal = extract_legal(&lines, page_count, DayMonthOrder::DayFirst);
                let value = serde_json::to_value(&legal)?;
                Ok((None, Some(legal), EXTRACT_LEGAL, value))
            }
        })
        .await?
        .map_err(|e| schema_error(&e.into()))?;
        validate(ResultKind::from(kind), &value).map_err(|e| schema_error(&e))?;
        let result = DocumentResult {
            item_id,
            kind,
            invoice,
            legal,
            pages: sizes,
            page_count,
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            created_at: store::now_rfc3339(),
            cached: false,
        };
        let confidence = result
            .invoice
            .as_ref()
            .map(|i| format!("{:.3}", i.confidence));
        self.store
            .add_analysis(
                item_id,
                &NewAnalysis {
                    analyzer: analyzer.into(),
                    engine_version: engine::ENGINE_VERSION.into(),
                    verdict: confidence,
                    result_json: serde_json::to_string(&result).unwrap_or_default(),
                    latency_ms: result.latency_ms,
                    ..NewAnalysis::default()
                },
            )
            .await?;
        // a doubtful result goes to the review queue; routing never fails the extraction
        match self.route_document(&result).await {
            Ok((route, task)) => {
                tracing::info!(item = item_id, review = route.review, reasons = ?route.reasons, ?task, "document routed");
            }
            Err(error) => tracing::error!(item = item_id, %error, "document not routed"),
        }
        Ok(result)
    }

    /// The latest recorded document result of an item, if it was extracted.
    pub async fn latest_document(
        &self,
        item_id: i64,
    ) -> Result<Option<DocumentResult>, StationError> {
        let mut newest: Option<(i64, DocumentResult)> = None;
        for analyzer in [EXTRACT_INVOICE, EXTRACT_LEGAL] {
            if let Some(row) = self.store.latest_analysis(item_id, analyzer).await? {
                if let Ok(mut result) = serde_json::from_str::<DocumentResult>(&row.result_json) {
                    result.cached = true;
                    if newest.as_ref().is_none_or(|(id, _)| row.id > *id) {
                        newest = Some((row.id, result));
                    }
                }
            }
        }
        Ok(newest.map(|(_, r)| r))
    }

    /// The compliance result of a photo from its recorded quality and category verdicts;
    /// recorded when it differs from the last one recorded.
    pub async fn compliance(&self, item_id: i64) -> Result<Compliance, StationError> {
        let item = self.store.get_item(item_id).await?;
        if item.kind != "photo" || item.status != "analyzed" {
            return Err(StationError::InvalidRequest(
                "compliance is judged for photos that could be read".into(),
            ));
        }
        let quality: engine::QualityReport = self
            .store
            .latest_analysis(item_id, QUALITY_GATE)
            .await?
            .and_then(|row| serde_json::from_str(&row.result_json).ok())
            .ok_or_else(|| {
                StationError::InvalidRequest("the photo has no quality verdict".into())
            })?;
        let category: Option<crate::types::CategoryResult> = self
            .store
            .latest_analysis(item_id, CATEGORY_GATE)
            .await?
            .and_then(|row| serde_json::from_str(&row.result_json).ok());
        let result = extract::compliance::compliance(
            &quality,
            category.as_ref().map(|c| &c.verdict),
            Vec::new(),
        );
        let value = serde_json::to_value(&result).map_err(|e| schema_error(&e.into()))?;
        validate(ResultKind::Compliance, &value).map_err(|e| schema_error(&e))?;
        let json = value.to_string();
        let unchanged = self
            .store
            .latest_analysis(item_id, COMPLIANCE)
            .await?
            .is_some_and(|row| row.result_json == json);
        if !unchanged {
            self.store
                .add_analysis(
                    item_id,
                    &NewAnalysis {
                        analyzer: COMPLIANCE.into(),
                        engine_version: engine::ENGINE_VERSION.into(),
                        verdict: Some(if result.valid { "valid" } else { "invalid" }.into()),
                        result_json: json,
                        ..NewAnalysis::default()
                    },
                )
                .await?;
        }
        Ok(result)
    }
}
