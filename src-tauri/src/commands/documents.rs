//! Text, extracted documents and compliance results.

use protocol::{ApiError, DocumentKind};
use station::{DocumentResult, OcrPage};
use tauri::{AppHandle, Runtime, State};

use super::sinks::WindowSink;
use crate::Shell;

/// Reads a photo's or a page's text; `job_id` (from `new_job`) lets the UI cancel the wait.
#[tauri::command]
pub async fn read_text(
    shell: State<'_, Shell>,
    id: i64,
    page: u32,
    rerun: bool,
    job_id: u64,
) -> Result<OcrPage, ApiError> {
    Ok(shell
        .station
        .analysis()
        .read_text_job(job_id, id, page, rerun)
        .await?)
}

/// Extracts an invoice/receipt or a legal document's fields from all its pages; progress comes
/// as `extract-progress` events, and `cancel_import(job_id)` stops it between pages.
#[tauri::command]
pub async fn extract_document<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    id: i64,
    kind: Option<DocumentKind>,
    job_id: u64,
) -> Result<DocumentResult, ApiError> {
    let sink = WindowSink(app);
    Ok(shell
        .station
        .documents()
        .extract_document(job_id, id, kind, &sink)
        .await?)
}

/// The latest extracted result of a document, if any.
#[tauri::command]
pub async fn latest_document(
    shell: State<'_, Shell>,
    id: i64,
) -> Result<Option<DocumentResult>, ApiError> {
    Ok(shell.station.documents().latest_document(id).await?)
}

/// A photo's store-compliance result (quality and category gates as rules).
#[tauri::command]
pub async fn compliance(shell: State<'_, Shell>, id: i64) -> Result<station::Compliance, ApiError> {
    Ok(shell.station.documents().compliance(id).await?)
}
