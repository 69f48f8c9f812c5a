//! The link to the router: connect with an enrolment code, disconnect, and the sync panel
//! (status, rows, Retry now).

use protocol::ApiError;
use station::{SyncJobPage, SyncJobState, SyncStatus};
use tauri::State;

use crate::Shell;

#[tauri::command]
pub async fn sync_status(shell: State<'_, Shell>) -> Result<SyncStatus, ApiError> {
    Ok(shell.station.sync().status().await?)
}

#[tauri::command]
pub async fn sync_connect<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    shell: State<'_, Shell>,
    url: String,
    code: String,
    station_name: String,
) -> Result<SyncStatus, ApiError> {
    let status = shell
        .station
        .sync()
        .connect(&url, &code, &station_name)
        .await?;
    // a newly connected station asks its router for a newer release, as at every start
    tauri::async_runtime::spawn(crate::updates::check(
        app,
        std::sync::Arc::clone(&shell.station),
        std::sync::Arc::clone(&shell.pending_update),
    ));
    Ok(status)
}

#[tauri::command]
pub async fn sync_disconnect(shell: State<'_, Shell>) -> Result<SyncStatus, ApiError> {
    Ok(shell.station.sync().disconnect().await?)
}

#[tauri::command]
pub async fn sync_jobs(
    shell: State<'_, Shell>,
    state: Option<SyncJobState>,
    offset: u32,
    limit: u32,
) -> Result<SyncJobPage, ApiError> {
    Ok(shell.station.sync().jobs(state, offset, limit).await?)
}

/// "Retry now" on one row, or (`id` absent) on every row waiting to retry.
#[tauri::command]
pub async fn sync_retry(shell: State<'_, Shell>, id: Option<i64>) -> Result<u64, ApiError> {
    Ok(shell.station.sync().retry_now(id).await?)
}
