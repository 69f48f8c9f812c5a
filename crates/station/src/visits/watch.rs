//! Watching a visit's import folder (a phone or camera sync folder).
//!
//! Files are taken from the folder only once complete: inotify's close-after-write says so at
//! once; otherwise (a copy that never closes, a network share) a file is taken when its size
//! and modification time have not changed for [`SETTLE`] — and only once its content is whole
//! (a JPEG ends with its end-of-image marker, a PNG with its `IEND` chunk, a WebP is as long as
//! its RIFF header says), so a half-copied photo is never judged. The folder vanishing (a card
//! pulled out) is reported and watched for; nothing recorded is lost, and files that arrive
//! while it is back are taken then. A file whose import fails (a read error, the database busy)
//! is tried again later, waiting longer each time.
//!
//! Past 600 lines with its unit tests: the code is 488 lines, the tests beside it 188.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio_util::sync::CancellationToken;

use super::{FolderState, FolderStatus, VisitPhoto, Visits};
use crate::StationError;

/// How long a file must stay unchanged before it is read when no close event was seen.
pub const SETTLE: Duration = Duration::from_millis(300);
/// A photo that does not look whole (see [`is_complete`]) is read anyway once unchanged for
/// this long: it is then reported as truncated, instead of waiting forever.
const TRUNCATED_AFTER: Duration = Duration::from_secs(5);
/// A file that could not be read at all is tried this many times before it joins the visit as
/// unreadable; a passing error (a card pulled mid-read, a busy share) gets over in that time.
const MAX_ATTEMPTS: u32 = 5;
/// The wait before the first retry of a failed file; it doubles with every failure up to
/// [`RETRY_MAX`], so a file that keeps failing costs one attempt every few minutes, not a spin.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(300);
/// How often the folder is looked at besides the change notifications.
const POLL: Duration = Duration::from_millis(250);
const PHOTO_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// Receives what a watched folder produces; implemented by the Tauri shell and by tests.
pub trait VisitSink: Send + Sync {
    fn photo(&self, visit_id: i64, photo: &VisitPhoto);
    fn folder(&self, visit_id: i64, folder: &FolderState);
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
    /// Failed attempts at this version of the file, and when the next one is due.
    failures: u32,
    retry_at: Option<Instant>,
}

impl Seen {
    fn new(len: u64, modified: Option<SystemTime>, now: Instant, closed: bool) -> Self {
        Self {
            len,
            modified,
            unchanged_since: now,
            closed,
            taken: None,
            failures: 0,
            retry_at: None,
        }
    }

    /// Notes the size and time seen now. A change is a new version of the file: it must settle
    /// again, and earlier failures (of the old version) no longer count.
    fn observe(&mut self, len: u64, modified: Option<SystemTime>, now: Instant) -> bool {
        if self.len == len && self.modified == modified {
            return false;
        }
        self.len = len;
        self.modified = modified;
        self.unchanged_since = now;
        self.failures = 0;
        self.retry_at = None;
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // plain values replaced whole; a panic cannot leave them half-written
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Visits {
    /// Starts watching the visit's import folder (replacing an earlier watch of it). Photos
    /// already there are taken too: a resumed visit picks up what arrived while the app was
    /// closed, and photos it already holds are recognized as duplicates.
    pub async fn watch_visit(
        self: &Arc<Self>,
        visit_id: i64,
        sink: Arc<dyn VisitSink>,
    ) -> Result<FolderState, StationError> {
        let visit = self.core.store.get_visit(visit_id).await?;
        let Some(folder) = visit
            .import_folder
            .clone()
            .filter(|_| visit.ended_at.is_none())
        else {
            return Ok(self.folder_state(visit_id, None));
        };
        self.stop_watching(visit_id);
        let token = CancellationToken::new();
        // Watching from the start when the folder is there: the watcher itself is only made
        // once the engine is warm, and saying "missing" meanwhile would send the auditor
        // looking for a card that is in place. Files landing meanwhile are taken then.
        let path = PathBuf::from(&folder);
        let (status, message) = if path.is_dir() {
            (FolderStatus::Watching, None)
        } else {
            (FolderStatus::Missing, Some(missing_message(&path)))
        };
        let state = Arc::new(Mutex::new(FolderState {
            path: Some(folder),
            status,
            message,
        }));
        lock(&self.watchers).insert(
            visit_id,
            FolderWatch {
                token: token.clone(),
                state: Arc::clone(&state),
            },
        );
        let visits = Arc::clone(self);
        let store_id = visit.store_id.clone();
        tokio::spawn(async move {
            // the engine and the store's categories ready before the first photo lands, so
            // that its verdicts come within a second
            if let Err(error) = visits.analysis.category_set(Some(&store_id)).await {
                tracing::warn!(%error, "category gate not ready; photos get quality verdicts");
            }
            visits.watch_loop(visit_id, path, token, state, sink).await;
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
        'watch: loop {
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
                set_state(FolderStatus::Missing, Some(missing_message(&folder)));
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
                    break 'watch;
                }
                let last = is_last_attempt(&seen, &path);
                match self.add_visit_photo_attempt(visit_id, &path, last).await {
                    Ok(photo) if photo.item_id.is_none() && !path.exists() => {
                        // vanished while being read: taken when it is back, not a failure
                        if let Some(s) = seen.get_mut(&path) {
                            s.taken = None;
                        }
                    }
                    Ok(photo) if photo.item_id.is_none() && !last => {
                        let wait = retry_later(&mut seen, &path);
                        tracing::warn!(visit = visit_id, path = %path.display(), error = ?photo.error, ?wait, "photo not read; trying again");
                    }
                    Ok(photo) => sink.photo(visit_id, &photo),
                    Err(StationError::InvalidRequest(message)) => {
                        // the visit ended or its store left the config: stop, and say so
                        tracing::error!(visit = visit_id, path = %path.display(), %message, "visit photo refused; watching stops");
                        set_state(
                            FolderStatus::Failed,
                            Some(format!(
                                "photos are no longer taken from {}: {message}",
                                folder.display()
                            )),
                        );
                        break 'watch;
                    }
                    Err(error) => {
                        let wait = retry_later(&mut seen, &path);
                        tracing::error!(visit = visit_id, path = %path.display(), %error, ?wait, "visit photo failed; trying again");
                    }
                }
            }
        }
        tracing::info!(visit = visit_id, "stopped watching {}", folder.display());
    }
}

/// A writer closed the file: it is complete as it is now (size and time read again, so that a
/// poll that saw it half-written does not undo this).
fn mark_closed(seen: &mut HashMap<PathBuf, Seen>, path: PathBuf) {
    let Ok(meta) = std::fs::metadata(&path) else {
        return;
    };
    let (len, modified) = (meta.len(), meta.modified().ok());
    let now = Instant::now();
    let entry = seen
        .entry(path)
        .or_insert_with(|| Seen::new(len, modified, now, true));
    entry.observe(len, modified, now);
    entry.closed = true;
}

fn missing_message(folder: &Path) -> String {
    format!(
        "{} is not there (card removed or phone unplugged?); waiting for it",
        folder.display()
    )
}

/// Whether the next attempt at `path` is its last one as a plain retry: if that one cannot read
/// the file either, it joins the visit as unreadable.
fn is_last_attempt(seen: &HashMap<PathBuf, Seen>, path: &Path) -> bool {
    seen.get(path)
        .is_none_or(|s| s.failures + 1 >= MAX_ATTEMPTS)
}

/// Counts a failed attempt at `path` and makes it due again after a wait that doubles with each
/// failure (capped at [`RETRY_MAX`]). Returns the wait.
fn retry_later(seen: &mut HashMap<PathBuf, Seen>, path: &Path) -> Duration {
    let Some(entry) = seen.get_mut(path) else {
        return Duration::ZERO;
    };
    entry.failures = entry.failures.saturating_add(1);
    let doublings = entry.failures.saturating_sub(1).min(16);
    let wait = RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_MAX);
    entry.taken = None;
    entry.retry_at = Some(Instant::now() + wait);
    wait
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
        let entry = seen
            .entry(path.clone())
            .or_insert_with(|| Seen::new(len, modified, now, false));
        if entry.observe(len, modified, now) {
            entry.closed = false;
        }
        if entry.taken == Some((len, modified)) || len == 0 {
            continue;
        }
        if entry.retry_at.is_some_and(|at| now < at) {
            continue;
        }
        let settled = entry.unchanged_since.elapsed() >= SETTLE;
        if !(entry.closed || settled) {
            continue;
        }
        match is_complete(&path, len, modified) {
            // it grew since it was looked at: judged again once the change is seen and settled
            Completeness::Changed => continue,
            Completeness::Partial if entry.unchanged_since.elapsed() < TRUNCATED_AFTER => continue,
            Completeness::Partial | Completeness::Whole => {}
        }
        entry.taken = Some((len, modified));
        ready.push(path);
    }
    ready.sort();
    ready
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhotoFormat {
    Jpeg,
    Png,
    Webp,
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// The `IEND` chunk that closes every PNG: zero length, the type, its (fixed) CRC.
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
/// How much of a file's end is looked at for its end marker: writers may pad after it.
const TAIL: u64 = 64;

impl PhotoFormat {
    /// The format the first bytes show; none when too few have landed yet or they are not a photo.
    fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if head.starts_with(&PNG_SIGNATURE) {
            Some(Self::Png)
        } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    fn of_name(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jpg" | "jpeg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            _ => None,
        }
    }
}

/// What [`is_complete`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completeness {
    Whole,
    Partial,
    /// The file is no longer the size or age it was seen with (still being written): what was
    /// seen must not be taken, or the finished file would be taken a second time.
    Changed,
}

/// Whether the file's content is whole as far as its format tells: a JPEG ends with its
/// end-of-image marker, a PNG with its `IEND` chunk (padding after either allowed), a WebP is
/// at least as long as its RIFF header says. The content decides the format, so a photo under
/// the wrong extension is judged by what it is; content that is no photo (yet) is judged by
/// the extension, so a file whose first bytes have not landed waits like any other. The
/// verdict holds for the file as `seen_len` and `seen_modified` describe it, which the open
/// file is checked against (a writer's growth is visible between a look and a read).
fn is_complete(path: &Path, seen_len: u64, seen_modified: Option<SystemTime>) -> Completeness {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return Completeness::Partial;
    };
    let Ok(meta) = file.metadata() else {
        return Completeness::Partial;
    };
    if meta.len() != seen_len || meta.modified().ok() != seen_modified {
        return Completeness::Changed;
    }
    let len = seen_len;
    let mut head = Vec::with_capacity(12);
    if file.by_ref().take(12).read_to_end(&mut head).is_err() {
        return Completeness::Partial;
    }
    let tail_len = len.min(TAIL);
    let mut tail = Vec::with_capacity(TAIL as usize);
    if file.seek(SeekFrom::Start(len - tail_len)).is_err()
        || file.take(tail_len).read_to_end(&mut tail).is_err()
    {
        return Completeness::Partial;
    }
    if content_is_complete(&head, &tail, len, PhotoFormat::of_name(path)) {
        Completeness::Whole
    } else {
        Completeness::Partial
    }
}

/// [`is_complete`] over the first bytes, the last bytes and the length of a file.
fn content_is_complete(head: &[u8], tail: &[u8], len: u64, by_name: Option<PhotoFormat>) -> bool {
    match PhotoFormat::sniff(head).or(by_name) {
        Some(PhotoFormat::Jpeg) => {
            head.starts_with(&[0xFF, 0xD8]) && tail.windows(2).any(|w| w == [0xFF, 0xD9])
        }
        Some(PhotoFormat::Png) => {
            head.starts_with(&PNG_SIGNATURE) && tail.windows(PNG_IEND.len()).any(|w| w == PNG_IEND)
        }
        Some(PhotoFormat::Webp) => match head.get(4..8).map(<[u8; 4]>::try_from) {
            // RIFF's size counts what follows its first 8 bytes; trailing bytes after it are
            // tolerated, as padding after the JPEG and PNG end markers is
            Some(Ok(size)) if PhotoFormat::sniff(head) == Some(PhotoFormat::Webp) => {
                len >= u64::from(u32::from_le_bytes(size)) + 8
            }
            _ => false,
        },
        // not a photo extension (not taken from the folder anyway): nothing to wait for
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole PNG in form: signature, some chunk bytes, the `IEND` chunk.
    fn png(body: &[u8]) -> Vec<u8> {
        [&PNG_SIGNATURE[..], body, &PNG_IEND[..]].concat()
    }

    /// A whole WebP in form: the RIFF header with its size, then `body`.
    /// [`is_complete`] on the file as it is now.
    fn whole_now(path: &Path) -> bool {
        let meta = std::fs::metadata(path).unwrap();
        is_complete(path, meta.len(), meta.modified().ok()) == Completeness::Whole
    }

    fn webp(body: &[u8]) -> Vec<u8> {
        let size = u32::try_from(4 + body.len()).unwrap();
        [b"RIFF", &size.to_le_bytes()[..], b"WEBP", body].concat()
    }

    #[test]
    fn a_jpeg_is_complete_only_with_its_end_marker() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
        assert!(!whole_now(&photo));
        std::fs::write(&photo, [0xFF, 0xD8, 1, 2, 0xFF, 0xD9, 0, 0]).unwrap();
        assert!(whole_now(&photo));
    }

    #[test]
    fn a_png_is_complete_only_with_its_iend_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.png");
        let whole = png(&[0x11; 300]);
        for cut in [1, 8, 20, whole.len() - 12, whole.len() - 1] {
            std::fs::write(&photo, &whole[..cut]).unwrap();
            assert!(!whole_now(&photo), "{cut} of {} bytes", whole.len());
        }
        std::fs::write(&photo, &whole).unwrap();
        assert!(whole_now(&photo));
        // padding after the end marker, as after a JPEG's
        std::fs::write(&photo, [&whole[..], &[0; 16]].concat()).unwrap();
        assert!(whole_now(&photo));
        // the marker alone is not enough: the content must be a PNG from its start
        std::fs::write(&photo, [&[0u8; 40][..], &PNG_IEND].concat()).unwrap();
        assert!(!whole_now(&photo));
    }

    #[test]
    fn a_webp_is_complete_once_as_long_as_its_riff_header_says() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.webp");
        let whole = webp(&[0x22; 200]);
        for cut in [3, 8, 11, 12, 100, whole.len() - 1] {
            std::fs::write(&photo, &whole[..cut]).unwrap();
            assert!(!whole_now(&photo), "{cut} of {} bytes", whole.len());
        }
        std::fs::write(&photo, &whole).unwrap();
        assert!(whole_now(&photo));
        std::fs::write(&photo, [&whole[..], &[0; 2]].concat()).unwrap();
        assert!(whole_now(&photo));
        // RIFF that is not a WebP says nothing about a .webp being whole
        let mut wave = whole;
        wave[8..12].copy_from_slice(b"WAVE");
        std::fs::write(&photo, &wave).unwrap();
        assert!(!whole_now(&photo));
    }

    #[test]
    fn the_content_not_the_name_decides_which_check_applies() {
        let whole_jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 0xFF, 0xD9];
        let whole_png = png(b"x");
        let tail = |b: &[u8]| b[b.len().saturating_sub(TAIL as usize)..].to_vec();
        let check = |bytes: &[u8], name: Option<PhotoFormat>| {
            content_is_complete(
                &bytes[..bytes.len().min(12)],
                &tail(bytes),
                bytes.len() as u64,
                name,
            )
        };
        // a PNG saved as .jpg is whole with its IEND chunk, without a JPEG end marker
        assert!(check(&whole_png, Some(PhotoFormat::Jpeg)));
        assert!(!check(
            &whole_png[..whole_png.len() - 3],
            Some(PhotoFormat::Jpeg)
        ));
        assert!(check(&whole_jpeg, Some(PhotoFormat::Png)));
        // too few bytes to tell, or not a photo: the extension's check, which fails
        assert!(!check(&[0x89, b'P'], Some(PhotoFormat::Png)));
        assert!(!check(b"RIFF", Some(PhotoFormat::Webp)));
        assert!(!check(b"plain text, not a photo", Some(PhotoFormat::Jpeg)));
        assert!(!check(&[], Some(PhotoFormat::Jpeg)));
    }

    #[test]
    fn a_file_that_grew_since_it_was_looked_at_is_not_judged() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("growing.png");
        let whole = png(&[7; 100]);
        std::fs::write(&photo, &whole).unwrap();
        let modified = std::fs::metadata(&photo).unwrap().modified().ok();
        let len = whole.len() as u64;
        assert_eq!(is_complete(&photo, len, modified), Completeness::Whole);
        // seen while half written, read once whole: the half must not be taken as the photo
        assert_eq!(
            is_complete(&photo, len / 2, modified),
            Completeness::Changed
        );
        std::fs::write(&photo, &whole[..50]).unwrap();
        let modified = std::fs::metadata(&photo).unwrap().modified().ok();
        assert_eq!(is_complete(&photo, 50, modified), Completeness::Partial);
    }

    #[test]
    fn an_incomplete_file_waits_and_is_read_anyway_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("half.png");
        std::fs::write(&photo, &png(&[7; 100])[..50]).unwrap();
        let mut seen = HashMap::new();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        // settled, but not whole
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        // as if it had been unchanged for the whole timeout (the same for every format)
        for entry in seen.values_mut() {
            entry.unchanged_since = Instant::now() - TRUNCATED_AFTER;
        }
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo]);
    }

    #[test]
    fn a_failed_file_is_tried_again_later_with_growing_waits() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("c.png");
        std::fs::write(&photo, png(b"first shot")).unwrap();
        let mut seen = HashMap::new();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo.clone()]);
        let mut waits = Vec::new();
        for attempt in 1..MAX_ATTEMPTS {
            assert!(!is_last_attempt(&seen, &photo), "attempt {attempt}");
            waits.push(retry_later(&mut seen, &photo));
            // not again at once: the wait must pass first
            assert!(ready_files(dir.path(), &mut seen).is_empty());
            seen.get_mut(&photo).unwrap().retry_at = Some(Instant::now());
            assert_eq!(ready_files(dir.path(), &mut seen), vec![photo.clone()]);
        }
        assert!(is_last_attempt(&seen, &photo));
        assert_eq!(
            waits,
            [1, 2, 4, 8].map(Duration::from_secs).to_vec(),
            "doubling from the first wait"
        );
        for _ in 0..40 {
            assert!(retry_later(&mut seen, &photo) <= RETRY_MAX);
        }
        assert_eq!(retry_later(&mut seen, &photo), RETRY_MAX);
        // a new version of the file starts afresh, and at once
        std::fs::write(&photo, png(b"second, longer shot")).unwrap();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo.clone()]);
        assert_eq!(seen[&photo].failures, 0);
        assert!(!is_last_attempt(&seen, &photo));
    }

    #[test]
    fn files_are_taken_once_settled_and_again_when_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("b.png");
        std::fs::write(&photo, png(b"not yet settled")).unwrap();
        std::fs::write(dir.path().join(".hidden.png"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let mut seen = HashMap::new();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo.clone()]);
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::fs::write(&photo, png(b"replaced by a new shot")).unwrap();
        assert!(ready_files(dir.path(), &mut seen).is_empty());
        std::thread::sleep(SETTLE + Duration::from_millis(50));
        assert_eq!(ready_files(dir.path(), &mut seen), vec![photo]);
    }
}
