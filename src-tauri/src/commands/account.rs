//! Router accounts (sign-in with password then TOTP or a recovery code, sign-out, recovery
//! codes) and the admin views (dashboard, live counters, recent requests, CSV exports, the
//! local engine's figures).

use protocol::account::{LoginChallenge, RecoveryCodes};
use protocol::admin::DashboardQuery;
use protocol::ApiError;
use station::account::{
    AccountStatus, CsvTable, DashboardView, LiveView, LocalStats, LoginOutcome, QrCode,
    RequestsView,
};
use tauri::{AppHandle, Runtime, State};

use super::dialogs;
use crate::Shell;

#[tauri::command]
pub async fn account_status(shell: State<'_, Shell>) -> Result<AccountStatus, ApiError> {
    Ok(shell.station.account().status().await?)
}

#[tauri::command]
pub async fn login_password(
    shell: State<'_, Shell>,
    name: String,
    password: String,
) -> Result<LoginChallenge, ApiError> {
    Ok(shell
        .station
        .account()
        .login_password(&name, &password)
        .await?)
}

#[tauri::command]
pub async fn login_code(
    shell: State<'_, Shell>,
    challenge: String,
    code: Option<String>,
    recovery_code: Option<String>,
) -> Result<LoginOutcome, ApiError> {
    Ok(shell
        .station
        .account()
        .login_code(&challenge, code.as_deref(), recovery_code.as_deref())
        .await?)
}

#[tauri::command]
pub async fn logout(shell: State<'_, Shell>) -> Result<AccountStatus, ApiError> {
    Ok(shell.station.account().logout().await?)
}

#[tauri::command]
pub async fn qr_code(text: String) -> Result<QrCode, ApiError> {
    Ok(station::account::qr_code(&text)?)
}

#[tauri::command]
pub async fn regenerate_recovery_codes(
    shell: State<'_, Shell>,
    code: String,
) -> Result<RecoveryCodes, ApiError> {
    Ok(shell
        .station
        .account()
        .regenerate_recovery_codes(&code)
        .await?)
}

#[tauri::command]
pub async fn admin_dashboard(
    shell: State<'_, Shell>,
    query: DashboardQuery,
) -> Result<DashboardView, ApiError> {
    Ok(shell.station.account().dashboard(&query).await?)
}

#[tauri::command]
pub async fn admin_live(shell: State<'_, Shell>) -> Result<LiveView, ApiError> {
    Ok(shell.station.account().live().await?)
}

#[tauri::command]
pub async fn admin_requests(
    shell: State<'_, Shell>,
    query: DashboardQuery,
    before: Option<String>,
) -> Result<RequestsView, ApiError> {
    Ok(shell
        .station
        .account()
        .requests(&query, before.as_deref())
        .await?)
}

#[tauri::command]
pub async fn local_stats(
    shell: State<'_, Shell>,
    from: String,
    to: String,
) -> Result<LocalStats, ApiError> {
    Ok(shell.station.local_stats(&from, &to).await?)
}

/// Asks where to save (native save dialog) and writes one table as CSV; the rows written, or
/// `None` when the dialog was cancelled.
#[tauri::command]
pub async fn admin_export_csv<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    table: CsvTable,
    query: DashboardQuery,
) -> Result<Option<u32>, ApiError> {
    let name = match table {
        CsvTable::Usage => "usage",
        CsvTable::Latency => "latency",
        CsvTable::Shares => "shares",
        CsvTable::Live => "live",
        CsvTable::Requests => "requests",
        CsvTable::Engine => "local-engine",
    };
    let Some(path) = dialogs::save_path(
        &app,
        "Save the table as CSV",
        &format!("{name}.csv"),
        ("CSV", "csv"),
    )
    .await
    else {
        return Ok(None);
    };
    Ok(Some(shell.station.export_csv(table, &query, &path).await?))
}
