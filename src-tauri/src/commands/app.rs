//! The app itself: readiness, status, jobs, who is working.

use std::sync::Arc;

use protocol::{ApiError, SessionInfo};
use station::{AppInfo, EngineStatus, Station};
use tauri::{AppHandle, Runtime, State};

use super::sinks::WindowSink;
use crate::{Shell, PROCESS_START};

/// Takes files handed to the app (dialog, drop, command line) in the background and returns
/// the job id at once; the station decides whether they go to the open visit or an import.
pub fn take_files<R: Runtime>(
    app: &AppHandle<R>,
    station: &Arc<Station>,
    paths: Vec<std::path::PathBuf>,
) -> u64 {
    let (job_id, _) = station.new_job();
    let station = Arc::clone(station);
    let sink = Arc::new(WindowSink(app.clone()));
    tauri::async_runtime::spawn(async move {
        station.take_files(job_id, paths, sink.clone(), sink).await;
    });
    job_id
}

/// Watches what the station watches for the life of the app (the stores config, the open
/// visit's folder).
pub fn watch_at_start<R: Runtime>(app: &AppHandle<R>, station: &Arc<Station>) {
    let station = Arc::clone(station);
    let sink = Arc::new(WindowSink(app.clone()));
    tauri::async_runtime::spawn(async move {
        station.watch_at_start(sink.clone(), sink).await;
    });
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
    Ok(Some(take_files(&app, &shell.station, paths)))
}

#[tauri::command]
pub async fn app_info<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Result<AppInfo, ApiError> {
    let mut info = shell.station.app_info().await;
    // the app's version is the package's (package.json, what the installers and the updater
    // compare), which the test command holds equal to the workspace's
    info.version = app.package_info().version.to_string();
    Ok(info)
}

/// The stored files the database refers to, looked at once after the first screen.
#[tauri::command]
pub async fn check_data(shell: State<'_, Shell>) -> Result<station::DataCheck, ApiError> {
    Ok(shell.station.check_data().await?)
}

/// The disk under the data (asked while a disk problem is shown).
#[tauri::command]
pub async fn disk_status(shell: State<'_, Shell>) -> Result<station::disk::DiskStatus, ApiError> {
    let station = Arc::clone(&shell.station);
    tauri::async_runtime::spawn_blocking(move || station.disk_status())
        .await
        .map_err(|e| ApiError {
            code: protocol::ErrorCode::Internal,
            message: format!("the disk check failed: {e}"),
        })
}

#[tauri::command]
pub async fn engine_status(shell: State<'_, Shell>) -> Result<EngineStatus, ApiError> {
    Ok(shell.station.analysis().engine_status().await)
}

/// Asks for a folder and backs the data directory up into a new folder inside it, named after
/// the time, while the station keeps working; progress as `backup-progress`;
/// `cancel_import(job_id)` stops it (nothing is left behind). `None`: the dialog was cancelled.
#[tauri::command]
pub async fn back_up<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    job_id: u64,
) -> Result<Option<station::backup::BackupWritten>, ApiError> {
    use tauri::Emitter;
    let Some(parent) = super::dialogs::folder(&app, "Back up into a folder").await else {
        return Ok(None);
    };
    let progress = move |done: u64, total: u64| {
        // a window that is gone has nobody to tell
        let _ = app.emit_to(
            "main",
            "backup-progress",
            station::backup::BackupProgress {
                job_id,
                done,
                total,
            },
        );
    };
    Ok(Some(
        shell
            .station
            .back_up_job(job_id, &parent, &progress)
            .await?,
    ))
}

/// Registers a job the UI can cancel before a long call (reading a page) that takes it.
#[tauri::command]
pub async fn new_job(shell: State<'_, Shell>) -> Result<u64, ApiError> {
    Ok(shell.station.new_job().0)
}

/// Cancels an import, a text read, an extraction or a report.
#[tauri::command]
pub async fn cancel_import(shell: State<'_, Shell>, job_id: u64) -> Result<bool, ApiError> {
    Ok(shell.station.cancel_job(job_id))
}

/// Who is working in this session.
#[tauri::command]
pub async fn session(shell: State<'_, Shell>) -> Result<SessionInfo, ApiError> {
    Ok(shell.station.session().info())
}

#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, name: String) -> Result<SessionInfo, ApiError> {
    Ok(shell.station.session().sign_in(&name)?)
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>) -> Result<SessionInfo, ApiError> {
    Ok(shell.station.session().sign_out()?)
}
