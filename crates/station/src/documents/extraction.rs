//! Extraction: a document's pages read in order (recorded texts reused), its kind guessed
//! when not given, the result schema-checked, recorded and routed.

use std::time::Instant;

use extract::date::DayMonthOrder;
use extract::invoice::{extract_invoice, InvoiceOptions};
use extract::legal::extract_legal;
use extract::schema::validate;
use protocol::station_api::JobKind;
use protocol::{DocumentKind, ErrorCode, ResultKind};
use store::NewAnalysis;

use super::{
    schema_error, DocumentResult, Documents, ExtractProgress, ExtractSink, PageSize,
    EXTRACT_INVOICE, EXTRACT_LEGAL,
};
use crate::types::OcrPage;
use crate::StationError;

/// Invoices rarely run long; a longer "invoice" is read up to here (its totals are on the
/// first pages or the last, and the last is read too).
const INVOICE_MAX_PAGES: u32 = 20;

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

impl Documents {
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
        let token = self.core.jobs.token(job_id);
        let result = tokio::select! {
            result = self.extract_document_inner(job_id, item_id, kind, sink) => result,
            () = token.cancelled() => Err(StationError::Cancelled),
        };
        self.core.jobs.done(job_id);
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
        let item = self.core.store.get_item(item_id).await?;
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
        let first = self.analysis.read_text(item_id, 1, false).await?;
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
                self.analysis.read_text(item_id, page, false).await?
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
        let text = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
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
        self.core
            .store
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
        let second_opinion = || self.second_opinion(&item, &result, &text, &value);
        match self.review.route_document(&result, second_opinion).await {
            Ok((route, task)) => {
                tracing::info!(item = item_id, review = route.review, reasons = ?route.reasons, ?task, "document routed");
            }
            Err(error) => tracing::error!(item = item_id, %error, "document not routed"),
        }
        Ok(result)
    }

    /// The router job that gives a doubtful document a second opinion: its first pages as
    /// images (a photo or scan is its own page; a PDF's pages are rendered and kept as blobs),
    /// its text, and the local extraction. `None` when the pages cannot be had (logged): the
    /// task is raised all the same.
    async fn second_opinion(
        &self,
        item: &store::ItemRow,
        result: &DocumentResult,
        text: &str,
        local: &serde_json::Value,
    ) -> Option<store::NewOutbox> {
        let sha = item.blob_sha256.as_deref()?;
        let pages = if item.kind == "pdf" {
            let mut shas = Vec::new();
            for page in 1..=result.page_count.min(crate::sync::JOB_PAGES) {
                let png = match self
                    .analysis
                    .page_png(sha, page, crate::PAGE_VIEW_SIDE)
                    .await
                {
                    Ok(png) => png,
                    Err(error) => {
                        tracing::warn!(item = item.id, page, %error, "page not rendered for the router");
                        return None;
                    }
                };
                match self.core.store.blobs().put(&png) {
                    Ok(name) => shas.push(name.as_str().to_string()),
                    Err(error) => {
                        tracing::warn!(item = item.id, page, %error, "page not kept for the router");
                        return None;
                    }
                }
            }
            shas
        } else {
            vec![sha.to_string()]
        };
        let kind = match result.kind {
            DocumentKind::Invoice => JobKind::InvoiceFields,
            DocumentKind::Legal => JobKind::LegalSummary,
        };
        let store_id = self.review.active_store().await;
        Some(crate::sync::document_job(
            kind, item.id, pages, text, local, &store_id,
        ))
    }
}
