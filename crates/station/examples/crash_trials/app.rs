//! The real app (`review-station`, the Tauri binary) as a process of this program: started on
//! a data directory (with files to import, as "Open with" does), its log read from stderr for
//! the moments that matter, killed with SIGKILL — its whole process group, WebKit's helpers
//! included, as a power cut would.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// What the app's log says, in the order it says it.
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// The first screen answers (the `ui_ready` command ran): ms since start, as the app counts.
    Ready,
    /// A file of the import is saved (committed) — what the progress list shows.
    Imported {
        path: String,
        item: Option<i64>,
    },
    ImportFinished,
    /// The data directory did not open: the error window's reason.
    CannotOpen(String),
}

pub struct AppProcess {
    child: Child,
    pub events: mpsc::UnboundedReceiver<AppEvent>,
    reader: tokio::task::JoinHandle<()>,
    pub started: Instant,
}

/// Removes the terminal colour codes the app's log may carry.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `key=value` from a log line (values without spaces).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    line[at..].split_whitespace().next()
}

fn event_of(line: &str) -> Option<AppEvent> {
    let line = plain(line);
    if line.contains("first screen interactive") {
        Some(AppEvent::Ready)
    } else if line.contains("file imported") {
        let path = field(&line, "path")?.to_owned();
        let item = field(&line, "item_id")
            .and_then(|v| v.strip_prefix("Some(")?.strip_suffix(')')?.parse().ok());
        Some(AppEvent::Imported { path, item })
    } else if line.contains("import finished") {
        Some(AppEvent::ImportFinished)
    } else if line.contains("cannot open its data") {
        Some(AppEvent::CannotOpen(line))
    } else {
        None
    }
}

pub fn spawn(bin: &Path, data_dir: &Path, paths: &[PathBuf], log: &Path) -> AppProcess {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("the app's log file");
    let mut command = Command::new(bin);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--")
        .args(paths)
        .env("REVIEW_STATION_LOG", "info,station::imports=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // its own process group: the kill takes WebKit's processes with it
    command.as_std_mut().process_group(0);
    let started = Instant::now();
    let mut child = command.spawn().expect("the app starts");
    let stderr = child.stderr.take().expect("its stderr");
    let (tx, events) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        use std::io::Write as _;
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = writeln!(log, "{line}");
            if let Some(event) = event_of(&line) {
                let _ = tx.send(event);
            }
        }
    });
    AppProcess {
        child,
        events,
        reader,
        started,
    }
}

impl AppProcess {
    /// Waits for an event that `wanted` accepts (others are handed to `seen`), at most `limit`.
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        mut wanted: impl FnMut(&AppEvent) -> bool,
        mut seen: impl FnMut(AppEvent),
    ) -> Result<AppEvent, String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if wanted(&event) => return Ok(event),
                Ok(Some(event)) => seen(event),
                Ok(None) => {
                    let status = self.child.wait().await.ok();
                    return Err(format!("the app ended ({status:?})"));
                }
                Err(_) => return Err(format!("nothing in {} s", limit.as_secs())),
            }
        }
    }

    /// SIGKILL to the process group, reaped; every line it had written is read.
    pub async fn kill(mut self) -> Vec<AppEvent> {
        if let Some(pid) = self.child.id() {
            // SAFETY-free: a plain signal to the group this program made for the app
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = self.reader.await;
        let mut rest = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            rest.push(event);
        }
        rest
    }
}

/// Starts the app on `data_dir` without files and waits for its first screen: the "opens to
/// a usable screen" check. Returns the time to it, or what went wrong.
pub async fn opens(bin: &Path, data_dir: &Path, log: &Path) -> Result<Duration, String> {
    let mut app = spawn(bin, data_dir, &[], log);
    let outcome = app
        .wait_for(
            Duration::from_secs(60),
            |e| matches!(e, AppEvent::Ready | AppEvent::CannotOpen(_)),
            |_| {},
        )
        .await;
    let took = app.started.elapsed();
    app.kill().await;
    match outcome {
        Ok(AppEvent::Ready) => Ok(took),
        Ok(AppEvent::CannotOpen(line)) => Err(format!("the app could not open its data: {line}")),
        Ok(other) => Err(format!("unexpected {other:?}")),
        Err(why) => Err(format!("no first screen: {why}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_lines_are_read() {
        let line = "\u{1b}[2m2026-12-03T06:08:30Z\u{1b}[0m DEBUG station::imports: file imported path=/tmp/a/b.jpg item_id=Some(42)";
        match super::event_of(line) {
            Some(super::AppEvent::Imported { path, item }) => {
                assert_eq!(path, "/tmp/a/b.jpg");
                assert_eq!(item, Some(42));
            }
            other => panic!("{other:?}"),
        }
    }
}
