//! The review workbench. Every call acts as the session's reviewer (`sign_in`), never as a
//! name the window sends.

use protocol::{ApiError, AuditCheck, DecisionInput, DecisionRecord, QueueQuery, ReviewTask};
use station::{EvaluationFormat, QueuePage, ReviewInsights, ReviewMetrics};
use tauri::{AppHandle, Runtime, State};

use super::dialogs;
use crate::Shell;

#[tauri::command]
pub async fn review_queue(
    shell: State<'_, Shell>,
    query: QueueQuery,
    offset: u32,
    limit: u32,
) -> Result<QueuePage, ApiError> {
    Ok(shell.station.review().queue(&query, offset, limit).await?)
}

/// Leases the reviewer the next task (not one of `holding`, the task on screen).
#[tauri::command]
pub async fn claim_next(
    shell: State<'_, Shell>,
    query: QueueQuery,
    holding: Vec<i64>,
) -> Result<Option<ReviewTask>, ApiError> {
    Ok(shell.station.review().claim_next(&query, &holding).await?)
}

#[tauri::command]
pub async fn release_task(shell: State<'_, Shell>, task_id: i64) -> Result<bool, ApiError> {
    Ok(shell.station.review().release_task(task_id).await?)
}

#[tauri::command]
pub async fn renew_leases(
    shell: State<'_, Shell>,
    task_ids: Vec<i64>,
) -> Result<Vec<i64>, ApiError> {
    Ok(shell.station.review().renew_leases(&task_ids).await?)
}

#[tauri::command]
pub async fn decide(
    shell: State<'_, Shell>,
    task_id: i64,
    decision: DecisionInput,
    duration_ms: i64,
) -> Result<DecisionRecord, ApiError> {
    Ok(shell
        .station
        .review()
        .decide(task_id, decision, duration_ms)
        .await?)
}

#[tauri::command]
pub async fn undo_decision(
    shell: State<'_, Shell>,
    task_id: i64,
) -> Result<DecisionRecord, ApiError> {
    Ok(shell.station.review().undo_decision(task_id).await?)
}

#[tauri::command]
pub async fn verify_audit(shell: State<'_, Shell>) -> Result<AuditCheck, ApiError> {
    Ok(shell.station.verify_audit().await?)
}

#[tauri::command]
pub async fn review_metrics(shell: State<'_, Shell>) -> Result<ReviewMetrics, ApiError> {
    Ok(shell.station.insights().review_metrics().await?)
}

#[tauri::command]
pub async fn review_insights(shell: State<'_, Shell>) -> Result<ReviewInsights, ApiError> {
    Ok(shell.station.insights().review_insights().await?)
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
    let Some(path) = dialogs::save_path(
        &app,
        "Save the evaluation set",
        &format!("evaluation.{extension}"),
        (extension, extension),
    )
    .await
    else {
        return Ok(None);
    };
    Ok(Some(
        shell
            .station
            .insights()
            .export_evaluation(&path, format)
            .await?,
    ))
}
