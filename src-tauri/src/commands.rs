//! Tauri commands: each forwards to one `Station` method. Errors cross as `{code, message}`.
//! No command takes a file path from the webview: imports start from the native dialog, a drop
//! on the window, or the command line, so a compromised page cannot make the app read a file.

use std::path::PathBuf;
use std::sync::Arc;

use protocol::{
    ApiError, AuditCheck, DecisionInput, DecisionRecord, DocumentKind, PolicyChanged, QueueQuery,
    ReviewTask,
};
use station::{
    AppInfo, CategoryResult, ConfigSink, DocumentResult, EngineStatus, ExtractProgress,
    ExtractSink, FolderState, ImportProgress, ImportSink, ImportStarted, ImportSummary, ItemDetail,
    ItemPage, ItemQuery, OcrPage, ReportFormat, ReportProgress, ReportSink, ReportWritten, Station,
    StoresInfo, VisitFolderEvent, VisitInfo, VisitPhoto, VisitPhotoEvent, VisitSink, VisitState,
};
use station::{EvaluationFormat, QueuePage, ReviewInsights, ReviewMetrics};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::{Shell, PROCESS_START};

/// Forwards import events to the main window.
struct WindowSink<R: Runtime>(AppHandle<R>);

impl<R: Runtime> ImportSink for WindowSink<R> {
    fn started(&self, event: &ImportStarted) {
        let _ = self.0.emit_to("main", "import-started", event);
    }
    fn progress(&self, event: &ImportProgress) {
        let _ = self.0.emit_to("main", "import-progress", event);
    }
    fn finished(&self, event: &ImportSummary) {
        let _ = self.0.emit_to("main", "import-finished", event);
    }
}

impl<R: Runtime> ExtractSink for WindowSink<R> {
    fn progress(&self, event: &ExtractProgress) {
        let _ = self.0.emit_to("main", "extract-progress", event);
    }
}

/// Starts an import in the background and returns its job id at once.
/// While a visit is open, the files go to the visit instead (each gets its verdicts at once).
pub fn start_import<R: Runtime>(
    app: &AppHandle<R>,
    station: &Arc<Station>,
    paths: Vec<PathBuf>,
) -> u64 {
    let (job_id, _) = station.new_job();
    let station = Arc::clone(station);
    let sink = Arc::new(WindowSink(app.clone()));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Ok(Some(visit)) = station.current_visit().await {
            station.cancel_job(job_id);
            add_to_visit(&app, &station, visit.id, paths);
            return;
        }
        station.run_import(job_id, paths, sink).await;
    });
    job_id
}

/// Called by the UI once it is rendered and listening: reports cold-start time and starts the
/// import of paths given on the command line.
#[tauri::command]
pub async fn ui_ready<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Result<Option<u64>, ApiError> {
    let ready_ms = PROCESS_START
        .get()
        .map(|t| t.elapsed().as_secs_f64() * 1000.0)
        .unwrap_or_default();
    tracing::info!(ready_ms, "first screen interactive");
    if std::env::var_os("REVIEW_STATION_EXIT_AFTER_READY").is_some() {
        eprintln!("ready_ms={ready_ms:.1}");
        app.exit(0);
        return Ok(None);
    }
    let paths = std::mem::take(
        &mut *shell
            .startup_paths
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
    );
    if paths.is_empty() {
        return Ok(None);
    }
    Ok(Some(start_import(&app, &shell.station, paths)))
}

#[tauri::command]
pub async fn app_info(shell: State<'_, Shell>) -> Result<AppInfo, ApiError> {
    Ok(shell.station.app_info().await)
}

#[tauri::command]
pub async fn engine_status(shell: State<'_, Shell>) -> Result<EngineStatus, ApiError> {
    Ok(shell.station.engine_status().await)
}

#[tauri::command]
pub async fn list_items(shell: State<'_, Shell>, query: ItemQuery) -> Result<ItemPage, ApiError> {
    Ok(shell.station.list_items(query).await?)
}

#[tauri::command]
pub async fn get_item(shell: State<'_, Shell>, id: i64) -> Result<ItemDetail, ApiError> {
    Ok(shell.station.get_item(id).await?)
}

/// Opens the native multi-select file dialog; the import starts when the user confirms.
#[tauri::command]
pub async fn pick_and_import<R: Runtime>(app: AppHandle<R>) -> Result<(), ApiError> {
    let handle = app.clone();
    app.dialog()
        .file()
        .set_title("Open photos or PDFs")
        .add_filter(
            "Photos and PDF documents",
            &[
                "jpg", "jpeg", "png", "webp", "pdf", "JPG", "JPEG", "PNG", "WEBP", "PDF",
            ],
        )
        .pick_files(move |picked| {
            let paths: Vec<PathBuf> = picked
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.into_path().ok())
                .collect();
            if !paths.is_empty() {
                let station = Arc::clone(&handle.state::<Shell>().station);
                start_import(&handle, &station, paths);
            }
        });
    Ok(())
}

/// Cancels an import or a text read.
#[tauri::command]
pub async fn cancel_import(shell: State<'_, Shell>, job_id: u64) -> Result<bool, ApiError> {
    Ok(shell.station.cancel_job(job_id))
}

#[tauri::command]
pub async fn list_stores(shell: State<'_, Shell>) -> Result<StoresInfo, ApiError> {
    Ok(shell.station.stores().await)
}

#[tauri::command]
pub async fn set_active_store(shell: State<'_, Shell>, id: String) -> Result<StoresInfo, ApiError> {
    Ok(shell.station.set_active_store(&id).await?)
}

#[tauri::command]
pub async fn judge_category(
    shell: State<'_, Shell>,
    id: i64,
    expected: Option<String>,
) -> Result<CategoryResult, ApiError> {
    Ok(shell.station.judge_category(id, expected).await?)
}

/// Registers a job the UI can cancel before a long call (reading a page) that takes it.
#[tauri::command]
pub async fn new_job(shell: State<'_, Shell>) -> Result<u64, ApiError> {
    Ok(shell.station.new_job().0)
}

/// Reads a photo's or a page's text; `job_id` (from `new_job`) lets the UI cancel the wait.
#[tauri::command]
pub async fn read_text(
    shell: State<'_, Shell>,
    id: i64,
    page: u32,
    rerun: bool,
    job_id: u64,
) -> Result<OcrPage, ApiError> {
    Ok(shell.station.read_text_job(job_id, id, page, rerun).await?)
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
        .extract_document(job_id, id, kind, &sink)
        .await?)
}

/// The latest extracted result of a document, if any.
#[tauri::command]
pub async fn latest_document(
    shell: State<'_, Shell>,
    id: i64,
) -> Result<Option<DocumentResult>, ApiError> {
    Ok(shell.station.latest_document(id).await?)
}

/// A photo's store-compliance result (quality and category gates as rules).
#[tauri::command]
pub async fn compliance(shell: State<'_, Shell>, id: i64) -> Result<station::Compliance, ApiError> {
    Ok(shell.station.compliance(id).await?)
}

/// Forwards visit, config and report events to the main window.
pub struct VisitWindowSink<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> VisitSink for VisitWindowSink<R> {
    fn photo(&self, visit_id: i64, photo: &VisitPhoto) {
        let event = VisitPhotoEvent {
            visit_id,
            photo: photo.clone(),
        };
        let _ = self.0.emit_to("main", "visit-photo", event);
    }
    fn folder(&self, visit_id: i64, folder: &FolderState) {
        let event = VisitFolderEvent {
            visit_id,
            folder: folder.clone(),
        };
        let _ = self.0.emit_to("main", "visit-folder", event);
    }
}

impl<R: Runtime> ConfigSink for VisitWindowSink<R> {
    fn stores_changed(&self, stores: &StoresInfo) {
        let _ = self.0.emit_to("main", "stores-changed", stores);
    }
    fn policy_changed(&self, store_id: &str, error: Option<&str>) {
        let _ = self.0.emit_to(
            "main",
            "policy-changed",
            PolicyChanged {
                store_id: store_id.to_string(),
                error: error.map(str::to_string),
            },
        );
    }
}

impl<R: Runtime> ReportSink for VisitWindowSink<R> {
    fn progress(&self, event: &ReportProgress) {
        let _ = self.0.emit_to("main", "report-progress", event);
    }
}

/// Watches the open visit's folder (after a restart: the visit is resumed) and the stores config.
pub fn resume<R: Runtime>(app: &AppHandle<R>, station: &Arc<Station>) {
    let station = Arc::clone(station);
    let sink = Arc::new(VisitWindowSink(app.clone()));
    tauri::async_runtime::spawn(async move {
        let _config_watch = station.watch_config(sink.clone());
        match station.current_visit().await {
            Ok(Some(visit)) => {
                tracing::info!(visit = visit.id, "resuming the open visit");
                if let Err(error) = station.watch_visit(visit.id, sink).await {
                    tracing::error!(%error, "cannot watch the open visit's folder");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot read the open visit"),
        }
        // keep the config watch for the life of the app
        std::future::pending::<()>().await;
    });
}

#[tauri::command]
pub async fn current_visit(shell: State<'_, Shell>) -> Result<Option<VisitInfo>, ApiError> {
    Ok(shell.station.current_visit().await?)
}

/// Starts a visit. Its import folder is the one in stores.toml, or one the auditor picks in the
/// native folder dialog (`choose_folder`); `None` when that dialog was cancelled.
#[tauri::command]
pub async fn start_visit<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    store_id: String,
    auditor: String,
    choose_folder: bool,
) -> Result<Option<VisitInfo>, ApiError> {
    let folder = if choose_folder {
        let (tx, rx) = tokio::sync::oneshot::channel();
        app.dialog()
            .file()
            .set_title("Folder the camera or phone copies photos to")
            .pick_folder(move |picked| {
                let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
            });
        match rx.await.ok().flatten() {
            Some(path) => Some(path.display().to_string()),
            None => return Ok(None),
        }
    } else {
        shell.station.stores().await.import_folder
    };
    let visit = shell
        .station
        .start_visit(&store_id, &auditor, folder.as_deref())
        .await?;
    shell
        .station
        .watch_visit(visit.id, Arc::new(VisitWindowSink(app)))
        .await?;
    Ok(Some(visit))
}

#[tauri::command]
pub async fn end_visit(shell: State<'_, Shell>, visit_id: i64) -> Result<VisitInfo, ApiError> {
    Ok(shell.station.end_visit(visit_id).await?)
}

#[tauri::command]
pub async fn visit_state(
    shell: State<'_, Shell>,
    visit_id: i64,
    offset: u32,
    limit: u32,
) -> Result<VisitState, ApiError> {
    Ok(shell.station.visit_state(visit_id, offset, limit).await?)
}

/// Adds files to a visit in the background; each photo's verdicts come as `visit-photo`.
pub fn add_to_visit<R: Runtime>(
    app: &AppHandle<R>,
    station: &Arc<Station>,
    visit_id: i64,
    paths: Vec<PathBuf>,
) {
    let station = Arc::clone(station);
    let sink = VisitWindowSink(app.clone());
    tauri::async_runtime::spawn(async move {
        for path in station::expand_paths(&paths) {
            match station.add_visit_photo(visit_id, &path).await {
                Ok(photo) => sink.photo(visit_id, &photo),
                Err(error) => tracing::error!(%error, path = %path.display(), "visit photo failed"),
            }
        }
    });
}

/// Opens the native file dialog and adds the chosen photos to the visit.
#[tauri::command]
pub async fn pick_visit_photos<R: Runtime>(
    app: AppHandle<R>,
    visit_id: i64,
) -> Result<(), ApiError> {
    let handle = app.clone();
    app.dialog()
        .file()
        .set_title("Add photos to the visit")
        .add_filter(
            "Photos",
            &["jpg", "jpeg", "png", "webp", "JPG", "JPEG", "PNG", "WEBP"],
        )
        .pick_files(move |picked| {
            let paths: Vec<PathBuf> = picked
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.into_path().ok())
                .collect();
            if !paths.is_empty() {
                let station = Arc::clone(&handle.state::<Shell>().station);
                add_to_visit(&handle, &station, visit_id, paths);
            }
        });
    Ok(())
}

/// Asks where to save the visit report (native save dialog) and writes it; `None` when the
/// dialog was cancelled. Progress comes as `report-progress`; `cancel_import(job_id)` stops it.
#[tauri::command]
pub async fn export_visit_report<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    visit_id: i64,
    format: ReportFormat,
    job_id: u64,
) -> Result<Option<ReportWritten>, ApiError> {
    let (extension, label) = match format {
        ReportFormat::Csv => ("csv", "CSV"),
        ReportFormat::Pdf => ("pdf", "PDF"),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Save the visit report")
        .set_file_name(format!("visit-{visit_id}.{extension}"))
        .add_filter(label, &[extension])
        .save_file(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let Some(mut path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    if path.extension().is_none() {
        path.set_extension(extension);
    }
    let sink = VisitWindowSink(app);
    Ok(Some(
        shell
            .station
            .export_visit_report(job_id, visit_id, &path, format, &sink)
            .await?,
    ))
}

#[tauri::command]
pub async fn review_queue(
    shell: State<'_, Shell>,
    query: QueueQuery,
    offset: u32,
    limit: u32,
) -> Result<QueuePage, ApiError> {
    Ok(shell.station.review_queue(&query, offset, limit).await?)
}

/// Leases the reviewer the next task (not one of `holding`, the task on screen).
#[tauri::command]
pub async fn claim_next(
    shell: State<'_, Shell>,
    reviewer: String,
    query: QueueQuery,
    holding: Vec<i64>,
) -> Result<Option<ReviewTask>, ApiError> {
    Ok(shell
        .station
        .claim_next(&reviewer, &query, &holding)
        .await?)
}

#[tauri::command]
pub async fn release_task(
    shell: State<'_, Shell>,
    task_id: i64,
    reviewer: String,
) -> Result<bool, ApiError> {
    Ok(shell.station.release_task(task_id, &reviewer).await?)
}

#[tauri::command]
pub async fn renew_leases(
    shell: State<'_, Shell>,
    reviewer: String,
    task_ids: Vec<i64>,
) -> Result<Vec<i64>, ApiError> {
    Ok(shell.station.renew_leases(&reviewer, &task_ids).await?)
}

#[tauri::command]
pub async fn decide(
    shell: State<'_, Shell>,
    task_id: i64,
    reviewer: String,
    decision: DecisionInput,
    duration_ms: i64,
) -> Result<DecisionRecord, ApiError> {
    Ok(shell
        .station
        .decide(task_id, &reviewer, decision, duration_ms)
        .await?)
}

#[tauri::command]
pub async fn undo_decision(
    shell: State<'_, Shell>,
    task_id: i64,
    reviewer: String,
) -> Result<DecisionRecord, ApiError> {
    Ok(shell.station.undo_decision(task_id, &reviewer).await?)
}

#[tauri::command]
pub async fn verify_audit(shell: State<'_, Shell>) -> Result<AuditCheck, ApiError> {
    Ok(shell.station.verify_audit().await?)
}

#[tauri::command]
pub async fn review_metrics(shell: State<'_, Shell>) -> Result<ReviewMetrics, ApiError> {
    Ok(shell.station.review_metrics().await?)
}

#[tauri::command]
pub async fn review_insights(shell: State<'_, Shell>) -> Result<ReviewInsights, ApiError> {
    Ok(shell.station.review_insights().await?)
}

/// Asks where to save the evaluation set (native save dialog) and writes it; the number of
/// decisions written, or `None` when the dialog was cancelled.
#[tauri::command]
pub async fn export_evaluation<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    format: EvaluationFormat,
) -> Result<Option<u32>, ApiError> {
    let extension = match format {
        EvaluationFormat::Jsonl => "jsonl",
        EvaluationFormat::Csv => "csv",
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Save the evaluation set")
        .set_file_name(format!("evaluation.{extension}"))
        .add_filter(extension, &[extension])
        .save_file(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let Some(mut path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    if path.extension().is_none() {
        path.set_extension(extension);
    }
    Ok(Some(shell.station.export_evaluation(&path, format).await?))
}
