//! The native dialogs, the only way a path reaches the app from the window.

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

/// Asks where to save a file; `None` when the dialog was cancelled. A name typed without the
/// extension gets it.
pub async fn save_path<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    file_name: &str,
    filter: (&str, &str),
) -> Option<PathBuf> {
    let (label, extension) = filter;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .set_file_name(file_name)
        .add_filter(label, &[extension])
        .save_file(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let mut path = rx.await.ok().flatten()?;
    if path.extension().is_none() {
        path.set_extension(extension);
    }
    Some(path)
}

/// Asks for a folder; `None` when the dialog was cancelled.
pub async fn folder<R: Runtime>(app: &AppHandle<R>, title: &str) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .pick_folder(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    rx.await.ok().flatten()
}

/// Asks for files of the given extensions (either case); calls `then` with what was chosen,
/// unless nothing was.
pub fn pick_files<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    label: &str,
    extensions: &[&str],
    then: impl FnOnce(Vec<PathBuf>) + Send + 'static,
) {
    let both_cases: Vec<String> = extensions
        .iter()
        .flat_map(|x| [x.to_ascii_lowercase(), x.to_ascii_uppercase()])
        .collect();
    let filter: Vec<&str> = both_cases.iter().map(String::as_str).collect();
    app.dialog()
        .file()
        .set_title(title)
        .add_filter(label, &filter)
        .pick_files(move |picked| {
            let paths: Vec<PathBuf> = picked
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.into_path().ok())
                .collect();
            if !paths.is_empty() {
                then(paths);
            }
        });
}
