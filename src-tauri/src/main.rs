//! Review Station's desktop shell. Everything the app does lives in `crates/station`; this crate
//! parses the command line, opens the station, wires commands and events, and serves stored
//! photos to the webview.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod cli;
mod commands;
mod logging;
mod protocol;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use station::Station;
use tauri::{Emitter, Manager};

/// When the process started; cold-start time is measured from here to the UI's first render.
pub(crate) static PROCESS_START: OnceLock<Instant> = OnceLock::new();

/// Shared state of the shell.
pub(crate) struct Shell {
    pub station: Arc<Station>,
    /// Paths given on the command line, imported once the UI is listening for progress.
    pub startup_paths: Mutex<Vec<std::path::PathBuf>>,
}

fn main() {
    PROCESS_START.get_or_init(Instant::now);
    let args = match cli::Args::parse(std::env::args_os().skip(1)) {
        Ok(cli::Parsed::Run(args)) => args,
        Ok(cli::Parsed::Exit(text)) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{text}");
            }
            return;
        }
        Err(message) => {
            eprintln!("review-station: {message}\n\n{}", cli::USAGE);
            std::process::exit(2);
        }
    };

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol("rsblob", protocol::serve_blob)
        .invoke_handler(tauri::generate_handler![
            commands::ui_ready,
            commands::app_info,
            commands::engine_status,
            commands::list_items,
            commands::get_item,
            commands::pick_and_import,
            commands::cancel_import,
            commands::list_stores,
            commands::set_active_store,
            commands::judge_category,
            commands::new_job,
            commands::read_text,
            commands::extract_document,
            commands::latest_document,
            commands::compliance,
            commands::current_visit,
            commands::start_visit,
            commands::end_visit,
            commands::visit_state,
            commands::pick_visit_photos,
            commands::export_visit_report,
            commands::review_queue,
            commands::claim_next,
            commands::release_task,
            commands::decide,
            commands::undo_decision,
            commands::verify_audit,
            commands::review_metrics,
            commands::review_insights,
            commands::export_evaluation,
        ])
        .setup(move |app| {
            let data_dir = match &args.data_dir {
                Some(dir) => dir.clone(),
                None => app.path().app_data_dir()?,
            };
            let log_dir = match &args.data_dir {
                Some(dir) => dir.join("logs"),
                None => app.path().app_log_dir()?,
            };
            let guard = logging::init(&log_dir);
            app.manage(guard);
            tracing::info!(data_dir = %data_dir.display(), log_dir = %log_dir.display(), "starting Review Station");
            let station = tauri::async_runtime::block_on(Station::open(&data_dir))?;
            commands::resume(app.handle(), &station);
            app.manage(Shell { station, startup_paths: Mutex::new(args.paths) });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(drag) = event {
                match drag {
                    tauri::DragDropEvent::Enter { .. } | tauri::DragDropEvent::Over { .. } => {
                        let _ = window.emit("drop-hover", true);
                    }
                    tauri::DragDropEvent::Leave => {
                        let _ = window.emit("drop-hover", false);
                    }
                    tauri::DragDropEvent::Drop { paths, .. } => {
                        let _ = window.emit("drop-hover", false);
                        let shell = window.state::<Shell>();
                        commands::start_import(window.app_handle(), &shell.station, paths.clone());
                    }
                    _ => {}
                }
            }
        })
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(error) = result {
        tracing::error!(%error, "Review Station failed");
        eprintln!("review-station: {error}");
        std::process::exit(1);
    }
}
