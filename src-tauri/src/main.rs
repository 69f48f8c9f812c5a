//! Review Station's desktop shell. Everything the app does lives in `crates/station`; this crate
//! parses the command line, opens the station, wires commands and events, and serves stored
//! photos to the webview.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod blob_protocol;
mod cli;
mod commands;
mod logging;
mod updates;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use station::Station;
use tauri::{Emitter, Manager};
use tauri_plugin_dialog::DialogExt;

/// When the process started; cold-start time is measured from here to the UI's first render.
pub(crate) static PROCESS_START: OnceLock<Instant> = OnceLock::new();

/// Shared state of the shell.
pub(crate) struct Shell {
    pub station: Arc<Station>,
    /// Paths given on the command line, imported once the UI is listening for progress.
    pub startup_paths: Mutex<Vec<std::path::PathBuf>>,
    /// The release the last update check found.
    pub pending_update: Arc<updates::Pending>,
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

    if args.verify_audit {
        std::process::exit(verify_audit(args.data_dir));
    }
    if let Some(dest) = &args.backup {
        std::process::exit(backup(args.data_dir.clone(), dest));
    }
    if let Some(from) = &args.restore {
        std::process::exit(restore(args.data_dir.as_deref(), from));
    }

    let instance_id = instance_id(args.data_dir.as_deref());
    let result = tauri::Builder::default()
        // first: a second launch on the same data directory ("Open with" while the app runs)
        // hands its paths to this process and exits, instead of opening the database twice
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id)
                .callback(|app, argv, cwd| open_forwarded(app, argv, &cwd))
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .register_asynchronous_uri_scheme_protocol("rsblob", blob_protocol::serve_blob)
        .invoke_handler(tauri::generate_handler![
            commands::ui_ready,
            commands::app_info,
            commands::disk_status,
            commands::check_data,
            commands::engine_status,
            commands::list_items,
            commands::get_item,
            commands::pick_and_import,
            commands::cancel_import,
            commands::back_up,
            commands::session,
            commands::sign_in,
            commands::sign_out,
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
            commands::renew_leases,
            commands::decide,
            commands::undo_decision,
            commands::verify_audit,
            commands::review_metrics,
            commands::review_insights,
            commands::export_evaluation,
            commands::sync_status,
            commands::sync_connect,
            commands::sync_disconnect,
            commands::sync_jobs,
            commands::sync_retry,
            commands::account_status,
            commands::login_password,
            commands::login_code,
            commands::logout,
            commands::qr_code,
            commands::regenerate_recovery_codes,
            commands::admin_dashboard,
            commands::admin_live,
            commands::admin_requests,
            commands::local_stats,
            commands::admin_export_csv,
            commands::update_state,
            commands::update_check,
            commands::update_install,
            commands::update_cancel,
            commands::update_restart,
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
            let models_dir = station::models_dir(std::env::current_exe().ok().as_deref());
            tracing::info!(models_dir = %models_dir.display(), "the engine's models");
            let station = match tauri::async_runtime::block_on(Station::open_with_models(&data_dir, &models_dir)) {
                Ok(station) => station,
                Err(error) => {
                    // said once, in a window, with what to do; the process then ends instead of
                    // a window whose every command fails (and never restarts itself)
                    tracing::error!(%error, data_dir = %data_dir.display(), "the station cannot open its data");
                    if let Some(window) = app.get_webview_window("main") {
                        let _ = window.hide();
                    }
                    app.dialog()
                        .message(cannot_open_message(&data_dir, &error))
                        .title("Review Station cannot open its data")
                        .kind(tauri_plugin_dialog::MessageDialogKind::Error)
                        .show(|_| std::process::exit(1));
                    return Ok(());
                }
            };
            commands::watch_at_start(app.handle(), &station);
            let pending_update = Arc::new(updates::Pending::default());
            // a connected station asks its router for a newer release at every start
            tauri::async_runtime::spawn(updates::check(
                app.handle().clone(),
                Arc::clone(&station),
                Arc::clone(&pending_update),
            ));
            app.manage(Shell { station, startup_paths: Mutex::new(args.paths), pending_update });
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
                        commands::take_files(window.app_handle(), &shell.station, paths.clone());
                    }
                    _ => {}
                }
            }
        })
        .run(tauri::generate_context!());
    if let Err(error) = result {
        // A launch that met an instance on its way out (its D-Bus name still held, the forward
        // unanswered) starts afresh once that one is gone, rather than failing the user's
        // "Open with". The plugin reports this only as text.
        if error.to_string().contains("failed to forward arguments") {
            relaunch();
        }
        tracing::error!(%error, "Review Station failed");
        eprintln!("review-station: {error}");
        std::process::exit(1);
    }
}

/// Starts this program again in this process (same PID, arguments and environment), a few
/// times at most, half a second apart; returns only when it cannot.
fn relaunch() {
    const TRIES: &str = "REVIEW_STATION_RELAUNCHES";
    let tries: u32 = std::env::var(TRIES)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if tries >= 5 {
        return;
    }
    let Ok(program) = std::env::current_exe() else {
        return;
    };
    std::thread::sleep(std::time::Duration::from_millis(500));
    tracing::warn!(
        attempt = tries + 1,
        "the running instance was exiting; starting again"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = std::process::Command::new(program)
            .args(std::env::args_os().skip(1))
            .env(TRIES, (tries + 1).to_string())
            .exec();
        tracing::error!(%error, "could not start again");
    }
}

/// What a person can do when the data directory does not open: first what fits the cause
/// (a disk that is full or read-only, a damaged or newer database), then the general ways out.
fn cannot_open_message(data_dir: &std::path::Path, error: &station::StationError) -> String {
    use protocol::ErrorCode;
    let dir = data_dir.display();
    let first = match error.code() {
        ErrorCode::DataReadOnly => format!(
            "• make the folder writable again (a read-only disk or card, a folder of another \
             user), or copy the data to a writable place and open that:\n  \
             review-station --backup NEW_FOLDER --data-dir \"{dir}\"  then  \
             review-station --restore NEW_FOLDER --data-dir WRITABLE_FOLDER\n"
        ),
        ErrorCode::DiskFull => "• free some space on that disk, then start again\n".to_owned(),
        _ => String::new(),
    };
    format!(
        "The data in {dir} could not be opened:\n\n{error}\n\nNothing was changed. What you can do:\n\
         {first}\
         • restore a backup: review-station --restore BACKUP_FOLDER --data-dir \"{dir}\" \
         (the current folder is kept beside it);\n\
         • check the review audit trail: review-station --verify-audit --data-dir \"{dir}\";\n\
         • start with another data folder: review-station --data-dir NEW_FOLDER.\n\n\
         The log is in the logs folder of the data directory."
    )
}

/// `--backup DIR`: a consistent copy of the data directory (the app may be running).
fn backup(data_dir: Option<std::path::PathBuf>, dest: &std::path::Path) -> i32 {
    let Some(dir) = existing_data_dir(data_dir) else {
        return 2;
    };
    let progress = |done: u64, total: u64| {
        if done == total || done.is_multiple_of(500) {
            eprint!("\rphotos copied: {done}/{total}");
        }
    };
    let done = tauri::async_runtime::block_on(station::backup::back_up_dir(&dir, dest, &progress));
    match done {
        Ok(m) => {
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "\nbacked up {} to {}: {} decisions, {} photos ({} bytes), configuration: {}",
                    dir.display(),
                    dest.display(),
                    m.decisions,
                    m.blobs,
                    m.blob_bytes,
                    m.config.join(", ")
                );
            }
            0
        }
        Err(e) => {
            eprintln!("\nreview-station: the backup failed: {e}");
            1
        }
    }
}

/// `--restore DIR`: checks the backup, then puts it in place of the data directory.
fn restore(data_dir: Option<&std::path::Path>, from: &std::path::Path) -> i32 {
    let Some(dir) = data_dir
        .map(std::path::Path::to_path_buf)
        .or_else(default_data_dir)
    else {
        eprintln!("review-station: no data directory (give --data-dir DIR)");
        return 2;
    };
    // a running station holds its instance's name on the session bus (as given on its command
    // line, or none for the default directory)
    let mut names = vec![instance_id(data_dir)];
    if Some(&dir) == default_data_dir().as_ref() {
        names.push(instance_id(None));
        names.push(instance_id(Some(&dir)));
    }
    // An app that was just closed lets go of its name when its process is fully gone, which
    // on a busy machine can be a moment after its window: it gets a few seconds.
    let closing_grace = Instant::now() + std::time::Duration::from_secs(5);
    for name in names {
        let name = format!("{name}.SingleInstance");
        while let Ok(true) = tauri::async_runtime::block_on(::sync::bus_name_owned(&name)) {
            if Instant::now() >= closing_grace {
                eprintln!(
                    "review-station: nothing was restored: Review Station is running on {}; close it first",
                    dir.display()
                );
                return 1;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    match tauri::async_runtime::block_on(station::backup::restore(from, &dir)) {
        Ok((m, aside)) => {
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "restored {} (made {}): {} decisions, {} photos checked; {}",
                    from.display(),
                    m.created_at,
                    m.decisions,
                    m.blobs,
                    aside.map_or("there was no data directory before".into(), |a| format!(
                        "the previous data directory is kept at {}",
                        a.display()
                    ))
                );
            }
            0
        }
        Err(e) => {
            eprintln!("review-station: nothing was restored: {e}");
            1
        }
    }
}

/// The data directory given or the default one, when it holds a station database.
fn existing_data_dir(data_dir: Option<std::path::PathBuf>) -> Option<std::path::PathBuf> {
    let Some(dir) = data_dir.or_else(default_data_dir) else {
        eprintln!("review-station: no data directory (give --data-dir DIR)");
        return None;
    };
    if !dir.join(station::DATABASE_FILE).is_file() {
        eprintln!("review-station: no station database in {}", dir.display());
        return None;
    }
    Some(dir)
}

/// Where Tauri puts the app-data directory of this identifier on Linux.
fn default_data_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/share"))
        })
        .map(|d| d.join("com.reviewstation.desktop"))
}

/// `--verify-audit`: walks the review audit trail of the data directory and says whether it is
/// intact; the exit status tells scripts.
#[allow(clippy::print_stdout)]
fn verify_audit(data_dir: Option<std::path::PathBuf>) -> i32 {
    // the default is where Tauri puts the app-data directory of this identifier on Linux
    let Some(dir) = data_dir.or_else(default_data_dir) else {
        eprintln!("review-station: no data directory (give --data-dir DIR)");
        return 2;
    };
    if !dir.join(station::DATABASE_FILE).is_file() {
        eprintln!("review-station: no station database in {}", dir.display());
        return 2;
    }
    // read-only: a verification changes nothing it checks (no migration, no config written)
    let checked = tauri::async_runtime::block_on(station::verify_audit_read_only(&dir));
    match checked {
        Ok(check) if check.intact => {
            println!(
                "audit trail intact: {} decisions ({}){}{}",
                check.decisions,
                dir.display(),
                check.seal.map_or(String::new(), |s| format!("; seal: {s}")),
                check
                    .witnessed
                    .map_or(String::new(), |w| format!("; router: {w}"))
            );
            0
        }
        Ok(check) => {
            println!(
                "audit trail BROKEN at decision {}: {}{}",
                check.broken_at.unwrap_or_default(),
                check.problem.unwrap_or_default(),
                check
                    .seal
                    .map_or(String::new(), |s| format!(" (seal: {s})"))
            );
            1
        }
        Err(e) => {
            eprintln!("review-station: cannot verify the audit trail: {e}");
            2
        }
    }
}

/// The D-Bus name that makes one process per data directory: the app's identifier and a hash
/// of the directory (two stations on two directories may run side by side).
fn instance_id(data_dir: Option<&std::path::Path>) -> String {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() has fixed keys: the same binary hashes a path the same in every process
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    format!("com.reviewstation.desktop.d{:016x}", hasher.finish())
}

/// Paths from a second launch ("Open with" while running): imported here, as a drop would be,
/// and the window brought to the front.
fn open_forwarded<R: tauri::Runtime>(app: &tauri::AppHandle<R>, argv: Vec<String>, cwd: &str) {
    // the other process's relative paths are relative to its working directory
    let argv = argv.into_iter().skip(1).map(|arg| {
        let path = std::path::Path::new(&arg);
        if !arg.starts_with('-') && path.is_relative() {
            std::path::Path::new(cwd).join(path).into_os_string()
        } else {
            arg.into()
        }
    });
    let paths = match cli::Args::parse(argv) {
        Ok(cli::Parsed::Run(args)) => args.paths,
        Ok(cli::Parsed::Exit(_)) => Vec::new(),
        Err(message) => {
            tracing::warn!(%message, "a second launch passed arguments that are not understood");
            Vec::new()
        }
    };
    tracing::info!(paths = paths.len(), "a second launch handed over its files");
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    if !paths.is_empty() {
        if let Some(shell) = app.try_state::<Shell>() {
            commands::take_files(app, &shell.station, paths);
        }
    }
}
