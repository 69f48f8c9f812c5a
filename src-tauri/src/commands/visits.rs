//! Store visits: start, state, photos, end, reports.

use std::sync::Arc;

use protocol::ApiError;
use station::{ReportFormat, ReportWritten, VisitInfo, VisitState};
use tauri::{AppHandle, Manager, Runtime, State};

use super::{dialogs, sinks::WindowSink};
use crate::Shell;

#[tauri::command]
pub async fn current_visit(shell: State<'_, Shell>) -> Result<Option<VisitInfo>, ApiError> {
    Ok(shell.station.visits().current_visit().await?)
}

/// Starts a visit and watches its import folder: the one in stores.toml, or one the auditor
/// picks in the native folder dialog (`choose_folder`); `None` when that dialog was cancelled.
#[tauri::command]
pub async fn start_visit<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    store_id: String,
    auditor: String,
    choose_folder: bool,
) -> Result<Option<VisitInfo>, ApiError> {
    let folder = if choose_folder {
        match dialogs::folder(&app, "Folder the camera or phone copies photos to").await {
            Some(path) => Some(path),
            None => return Ok(None),
        }
    } else {
        shell
            .station
            .stores()
            .list()
            .await
            .import_folder
            .map(std::path::PathBuf::from)
    };
    let sink = Arc::new(WindowSink(app));
    Ok(Some(
        shell
            .station
            .begin_visit(&store_id, &auditor, folder.as_deref(), sink)
            .await?,
    ))
}

#[tauri::command]
pub async fn end_visit(shell: State<'_, Shell>, visit_id: i64) -> Result<VisitInfo, ApiError> {
    Ok(shell.station.visits().end_visit(visit_id).await?)
}

#[tauri::command]
pub async fn visit_state(
    shell: State<'_, Shell>,
    visit_id: i64,
    offset: u32,
    limit: u32,
) -> Result<VisitState, ApiError> {
    Ok(shell
        .station
        .visits()
        .visit_state(visit_id, offset, limit)
        .await?)
}

/// Opens the native file dialog and adds the chosen photos to the visit; each photo's verdicts
/// come as `visit-photo`.
#[tauri::command]
pub async fn pick_visit_photos<R: Runtime>(
    app: AppHandle<R>,
    visit_id: i64,
) -> Result<(), ApiError> {
    let handle = app.clone();
    dialogs::pick_files(
        &app,
        "Add photos to the visit",
        "Photos",
        &["jpg", "jpeg", "png", "webp"],
        move |paths| {
            let visits = Arc::clone(handle.state::<Shell>().station.visits());
            let sink = WindowSink(handle.clone());
            tauri::async_runtime::spawn(async move {
                visits.add_visit_photos(visit_id, &paths, &sink).await;
            });
        },
    );
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
    let Some(path) = dialogs::save_path(
        &app,
        "Save the visit report",
        &format!("visit-{visit_id}.{extension}"),
        (label, extension),
    )
    .await
    else {
        return Ok(None);
    };
    let sink = WindowSink(app);
    Ok(Some(
        shell
            .station
            .visits()
            .export_visit_report(job_id, visit_id, &path, format, &sink)
            .await?,
    ))
}
