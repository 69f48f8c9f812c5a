//! Watching: a visit's import folder (a phone or camera sync folder) and the stores config.
//!
//! Files are taken from the folder only once complete: inotify's close-after-write says so at
//! once; otherwise (a copy that never closes, a network share) a file is taken when its size
//! and modification time have not changed for [`SETTLE`] — and a JPEG only once it ends with
//! its end-of-image marker, so a half-copied photo is never judged. The folder vanishing (a
//! card pulled out) is reported and watched for; nothing recorded is lost, and files that
//! arrive while it is back are taken then.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio_util::sync::CancellationToken;

use crate::visits::{FolderState, FolderStatus, VisitPhoto};
use crate::{Station, StationError, StoresInfo};

/// How long a file must stay unchanged before it is read when no close event was seen.
pub const SETTLE: Duration = Duration::from_millis(300);
/// A JPEG without its end marker is read anyway after this long (it is then reported as
/// truncated, instead of waiting forever).
const TRUNCATED_AFTER: Duration = Duration::from_secs(5);
/// How often the folder is looked at besides the change notifications.
const POLL: Duration = Duration::from_millis(250);
const PHOTO_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// Receives what a watched folder produces; implemented by the Tauri shell and by tests.
pub trait VisitSink: Send + Sync {
    fn photo(&self, visit_id: i64, photo: &VisitPhoto);
    fn folder(&self, visit_id: i64, folder: &FolderState);
}

/// Receives the stores config each time it changes on disk (with `error` set when the edit was
/// rejected and the previous config kept).
pub trait ConfigSink: Send + Sync {
    fn stores_changed(&self, stores: &StoresInfo);
    /// A store's routing policy file changed: `error` says why it was rejected (the previous
    /// policy then stays in force).
    fn policy_changed(&self, _store_id: &str, _error: Option<&str>) {}
}

#[derive(Debug)]
pub(crate) struct FolderWatch {
    token: CancellationToken,
    state: Arc<Mutex<FolderState>>,
}

/// What was last seen of a file.
#[derive(Debug, Clone, Copy)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    unchanged_since: Instant,
    closed: bool,
    /// (len, modified) when it was taken; taken again only when it changes.
    taken: Option<(u64, Option<SystemTime>)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // plain values replaced whole; a panic cannot leave them half-written
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Station {
    /// Starts watching the visit's import folder (replacing an earlier watch of it). Photos
    /// already there are taken too: a resumed visit picks up what arrived while the app was
    /// closed, and photos it already holds are recognized as duplicates.
    pub async fn watch_visit(
        self: &Arc<Self>,
        visit_id: i64,
        sink: Arc<dyn VisitSink>,
    ) -> Result<FolderState, StationError> {
        let visit = self.store.get_visit(visit_id).await?;
        let Some(folder) = visit
            .import_folder
            .clone()
            .filter(|_| visit.ended_at.is_none())
        else {
            return Ok(self.folder_state(visit_id, None));
        };
        self.stop_watching(visit_id);
        let token = CancellationToken::new();
        let state = Arc::new(Mutex::new(FolderState {
            path: Some(folder.clone()),
            status: FolderStatus::Missing,
            message: None,
        }));
        lock(&self.watchers).insert(
            visit_id,
            FolderWatch {
                token: token.clone(),
                state: Arc::clone(&state),
            },
        );
        let station = Arc::clone(self);
        let store_id = visit.store_id.clone();
        tokio::spawn(async move {
            // the engine and the store's categories ready before the first photo lands, so
            // that its verdicts come within a second
            if let Err(error) = station.category_set(Some(&store_id)).await {
                tracing::warn!(%error, "category gate not ready; photos get quality verdicts");
            }
            station
                .watch_loop(visit_id, PathBuf::from(folder), token, state, sink)
                .await;
        });
        Ok(self.folder_state(visit_id, visit.import_folder.as_deref()))
    }

    pub(crate) fn stop_watching(&self, visit_id: i64) {
        if let Some(watch) = lock(&self.watchers).remove(&visit_id) {
            watch.token.cancel();
        }
    }

    pub(crate) fn folder_state(&self, visit_id: i64, folder: Option<&str>) -> FolderState {
        match lock(&self.watchers).get(&visit_id) {
            Some(watch) => lock(&watch.state).clone(),
            None => FolderState {
                path: folder.map(str::to_string),
                status: FolderStatus::None,
                message: folder.map(|_| "not watched".to_string()),
            },
        }
    }

    async fn watch_loop(
        self: Arc<Self>,
        visit_id: i64,
        folder: PathBuf,
        token: CancellationToken,
        state: Arc<Mutex<FolderState>>,
        sink: Arc<dyn VisitSink>,
    ) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<PathBuf>>();
        let mut watcher: Option<notify::RecommendedWatcher> = None;
        let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let set_state = |status: FolderStatus, message: Option<String>| {
            let mut s = lock(&state);
            if s.status != status || s.message != message {
                s.status = status;
                s.message = message;
                let snapshot = s.clone();
                drop(s);
                sink.folder(visit_id, &snapshot);
            }
        };
        loop {
            tokio::select! {
                () = token.cancelled() => break,
                event = rx.recv() => {
                    if let Some(Some(closed)) = event {
                        mark_closed(&mut seen, closed);
                    }
                }
                _ = poll.tick() => {}
            }
            while let Ok(event) = rx.try_recv() {
                if let Some(closed) = event {
                    mark_closed(&mut seen, closed);
                }
            }
            if !folder.is_dir() {
                watcher = None;
                set_state(
                    FolderStatus::Missing,
                    Some(format!(
                        "{} is not there (card removed or phone unplugged?); waiting for it",
                        folder.display()
                    )),
                );
                continue;
            }
            if watcher.is_none() {
                let events = tx.clone();
                let made =
                    notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                        if let Ok(event) = res {
                            let closed = matches!(
                                event.kind,
                                EventKind::Access(AccessKind::Close(AccessMode::Write))
                            );
                            for path in event.paths {
                                let _ = events.send(closed.then_some(path));
                            }
                            let _ = events.send(None);
                        }
                    })
                    .and_then(|mut w| w.watch(&folder, RecursiveMode::Recursive).map(|()| w));
                match made {
                    Ok(w) => {
                        watcher = Some(w);
                        set_state(FolderStatus::Watching, None);
                    }
                    Err(error) => {
                        // still polled; only the instant notifications are lost
                        set_state(
                            FolderStatus::Failed,
                            Some(format!("cannot watch {}: {error}", folder.display())),
                        );
                    }
                }
            }
            for path in ready_files(&folder, &mut seen) {
                if token.is_cancelled() {
                    break;
                }
                match self.add_visit_photo(visit_id, &path).await {
                    Ok(photo) => {
                        // a file that vanished while being read is taken when it is back
                        if photo.item_id.is_none() && !path.exists() {
                            if let Some(s) = seen.get_mut(&path) {
                                s.taken = None;
                            }
                            continue;
                        }
                        sink.photo(visit_id, &photo);
                    }
                    Err(error) => {
                        tracing::error!(visit = visit_id, path = %path.display(), %error, "visit photo failed");
                        if let StationError::InvalidRequest(_) = error {
                            // the visit ended or its store left the config: stop
                            break;
                        }
                    }
                }
            }
        }
        tracing::info!(visit = visit_id, "stopped watching {}", folder.display());
    }

    /// Watches the data directory and rereads `stores.toml` whenever it changes, reporting the
    /// new stores, or the error while the previous config stays in force.
    pub fn watch_config(self: &Arc<Self>, sink: Arc<dyn ConfigSink>) -> CancellationToken {
        let token = CancellationToken::new();
        let station = Arc::clone(self);
        let stop = token.clone();
        tokio::spawn(async move {
            // `None`: stores.toml; `Some(store)`: that store's policy file
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
            let dir = station.data_dir().to_path_buf();
            let policies = dir.join(crate::POLICIES_DIR);
            if let Err(error) = std::fs::create_dir_all(&policies) {
                tracing::warn!(%error, "cannot create the policies folder");
            }
            let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                let Ok(event) = res else { return };
                for path in &event.paths {
                    if path
                        .file_name()
                        .is_some_and(|n| n == crate::stores::STORES_FILE)
                    {
                        let _ = tx.send(None);
                    } else if path.extension().is_some_and(|x| x == "toml")
                        && path
                            .parent()
                            .and_then(|p| p.file_name())
                            .is_some_and(|n| n == crate::POLICIES_DIR)
                    {
                        if let Some(store) = path.file_stem().and_then(|s| s.to_str()) {
                            let _ = tx.send(Some(store.to_string()));
                        }
                    }
                }
            })
            .and_then(|mut w| {
                w.watch(&dir, RecursiveMode::NonRecursive)?;
                w.watch(&policies, RecursiveMode::NonRecursive)?;
                Ok(w)
            });
            let _watcher = match watcher {
                Ok(w) => w,
                Err(error) => {
                    tracing::error!(%error, "cannot watch the data directory; stores.toml is reread on use");
                    return;
                }
            };
            let mut last = station.stores().await;
            loop {
                let first = tokio::select! {
                    () = stop.cancelled() => break,
                    got = rx.recv() => match got { Some(what) => what, None => break },
                };
                // an editor writes in several steps: let them land
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut changed = std::collections::BTreeSet::new();
                changed.insert(first);
                while let Ok(what) = rx.try_recv() {
                    changed.insert(what);
                }
                for what in changed {
                    match what {
                        None => {
                            let now = station.stores().await;
                            if now != last {
                                sink.stores_changed(&now);
                                last = now;
                            }
                        }
                        Some(store) => match station.policy(&store) {
                            Ok((_, error)) => sink.policy_changed(&store, error.as_deref()),
                            Err(error) => sink.policy_changed(&store, Some(&error.to_string())),
                        },
                    }
                }
            }
        });
        token
    }
}

/// A writer closed the file: it is complete as it is now (size and time read again, so that a
/// poll that saw it half-written does not undo this).
fn mark_closed(seen: &mut HashMap<PathBuf, Seen>, path: PathBuf) {
    let Ok(meta) = std::fs::metadata(&path) else {
        return;
    };
    let (len, modified) = (meta.len(), meta.modified().ok());
    let entry = seen.entry(path).or_insert(Seen {
        len,
        modified,
        unchanged_since: Instant::now(),
        closed: true,
        taken: None,
    });
    if entry.len != len || entry.modified != modified {
        entry.unchanged_since = Instant::now();
    }
    entry.len = len;
    entry.modified = modified;
    entry.closed = true;
}

/// Photos under `folder` that are complete and not yet taken (in name order).
fn ready_files(folder: &Path, seen: &mut HashMap<PathBuf, Seen>) -> Vec<PathBuf> {
    let now = Instant::now();
    let mut ready = Vec::new();
    let files = walkdir::WalkDir::new(folder)
        .max_depth(4)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| n.starts_with('.'));
            !hidden
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| PHOTO_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
        });
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let (len, modified) = (meta.len(), meta.modified().ok());
        let entry = seen.entry(path.clone()).or_insert(Seen {
            len,
            modified,
            unchanged_since: now,
            closed: false,
            taken: None,
        });
        if entry.len != len || entry.modified != modified {
            entry.len = len;
            entry.modified = modified;
            entry.unchanged_since = now;
            entry.closed = false;
        }
        if entry.taken == Some((len, modified)) || len == 0 {
            continue;
        }
        let settled = entry.unchanged_since.elapsed() >= SETTLE;
        if !(entry.closed || settled) {
            continue;
        }
        let jpeg = path
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg"));
        if jpeg && !ends_with_eoi(&path) && entry.unchanged_since.elapsed() < TRUNCATED_AFTER {
            continue;
        }
        entry.taken = Some((len, modified));
        ready.push(path);
    }
    ready.sort();
    ready
}

/// Whether a JPEG file ends with its end-of-image marker (trailing padding allowed).
fn ends_with_eoi(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(len) = file.seek(SeekFrom::End(0)) else {
        return false;
    };
    let tail_len = len.min(64);
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
    if file.seek(SeekFrom::Start(len - tail_len)).is_err() || file.read_exact(&mut tail).is_err() {
        return false;
    }
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_is_complete_only_with_its_end_marker() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
        assert!(!ends_with_eoi(&photo));
        std::fs::write(&photo, [0xFF, 0xD8, 1, 2, 0xFF, 0xD9, 0, 0]).unwrap();
        assert!(ends_with_eoi(&photo));
    }

    #[test]
    fn files_are_taken_once_settled_and_again_when_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("b.png");
        std::fs::write(&photo, b"not yet settled").unwrap();
        std::fs::write(dir.path().join(".hidden.png"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let mut seen = HashMap::new();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo.clone()]);
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::fs::write(&photo, b"replaced by a new shot").unwrap();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo]);
    }
}
