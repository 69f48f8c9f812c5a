//! The station's own updates: the panel's state, a check, install, cancel, restart.

use std::sync::Arc;

use protocol::ApiError;
use station::updates::UpdateState;
use tauri::{AppHandle, Runtime, State};

use crate::Shell;

#[tauri::command]
pub async fn update_state(shell: State<'_, Shell>) -> Result<UpdateState, ApiError> {
    Ok(shell.station.updates().state())
}

/// Asks the connected router now; answers the state after the check.
#[tauri::command]
pub async fn update_check<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Result<UpdateState, ApiError> {
    crate::updates::check(
        app,
        Arc::clone(&shell.station),
        Arc::clone(&shell.pending_update),
    )
    .await;
    Ok(shell.station.updates().state())
}

/// Starts downloading the offered release; progress comes as `update-state` events.
#[tauri::command]
pub async fn update_install<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Result<UpdateState, ApiError> {
    crate::updates::install(&app, &shell.station, &shell.pending_update)?;
    Ok(shell.station.updates().state())
}

#[tauri::command]
pub async fn update_cancel(shell: State<'_, Shell>) -> Result<UpdateState, ApiError> {
    shell.station.updates().cancel();
    Ok(shell.station.updates().state())
}

/// Starts the installed release in place of this process.
#[tauri::command]
pub async fn update_restart<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Result<(), ApiError> {
    if !matches!(
        shell.station.updates().state(),
        UpdateState::Installed { .. }
    ) {
        return Err(station::StationError::InvalidRequest("no update is installed".into()).into());
    }
    app.restart()
}
