//! Logs go to stderr and to a daily-rotated file (7 kept) in the app log directory.

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Keeps the background log writer alive for the app's lifetime.
pub struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

pub fn init(log_dir: &Path) -> LogGuard {
    let filter =
        EnvFilter::try_from_env("REVIEW_STATION_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // The appender prunes old files at start and complains if the directory is not there yet.
    let _ = std::fs::create_dir_all(log_dir);
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("review-station")
        .filename_suffix("log")
        .max_log_files(7)
        .build(log_dir);
    let (file_layer, guard) = match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(fmt::layer().with_ansi(false).with_writer(writer)),
                Some(guard),
            )
        }
        Err(error) => {
            eprintln!(
                "review-station: cannot log to {}: {error}",
                log_dir.display()
            );
            (None, None)
        }
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .try_init();
    LogGuard(guard)
}
