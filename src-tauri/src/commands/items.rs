//! The item list, an item's details, imports, stores and the category gate.

use std::sync::Arc;

use protocol::ApiError;
use station::{CategoryResult, ItemDetail, ItemPage, ItemQuery, StoresInfo};
use tauri::{AppHandle, Manager, Runtime, State};

use super::{app::take_files, dialogs};
use crate::Shell;

#[tauri::command]
pub async fn list_items(shell: State<'_, Shell>, query: ItemQuery) -> Result<ItemPage, ApiError> {
    Ok(shell.station.imports().list_items(query).await?)
}

#[tauri::command]
pub async fn get_item(shell: State<'_, Shell>, id: i64) -> Result<ItemDetail, ApiError> {
    Ok(shell.station.imports().get_item(id).await?)
}

/// Opens the native multi-select file dialog; the files are taken when the user confirms.
#[tauri::command]
pub async fn pick_and_import<R: Runtime>(app: AppHandle<R>) -> Result<(), ApiError> {
    let handle = app.clone();
    dialogs::pick_files(
        &app,
        "Open photos or PDFs",
        "Photos and PDF documents",
        &["jpg", "jpeg", "png", "webp", "pdf"],
        move |paths| {
            let station = Arc::clone(&handle.state::<Shell>().station);
            take_files(&handle, &station, paths);
        },
    );
    Ok(())
}

#[tauri::command]
pub async fn list_stores(shell: State<'_, Shell>) -> Result<StoresInfo, ApiError> {
    Ok(shell.station.stores().list().await)
}

#[tauri::command]
pub async fn set_active_store(shell: State<'_, Shell>, id: String) -> Result<StoresInfo, ApiError> {
    Ok(shell.station.stores().set_active(&id).await?)
}

#[tauri::command]
pub async fn judge_category(
    shell: State<'_, Shell>,
    id: i64,
    expected: Option<String>,
) -> Result<CategoryResult, ApiError> {
    Ok(shell
        .station
        .analysis()
        .judge_category(id, expected)
        .await?)
}
