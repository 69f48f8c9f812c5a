//! Backups of a data directory, and their restore.
//!
//! A backup is a folder: `station.db` (a consistent copy taken while the station keeps
//! working: `store::Store::copy_database_to`), the blobs it refers to (each hashed as it is
//! copied), the configuration files (stores, policies, quality gate, session) and
//! `backup.json`, which names what is inside. It is written under a temporary name and renamed
//! when complete, so a folder with that name is never half a backup.
//!
//! A restore checks the backup first — `PRAGMA integrity_check`, the audit chain (with this
//! data directory's audit key when the keyring holds it), every blob's hash, the database's own
//! hash against `backup.json` — and only then moves the current data directory aside (never
//! deletes it) and copies the backup in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use store::backup::{copy_blob, verify_blob, BlobRef};
use store::{BlobStore, Store, DATABASE_FILE};
use tokio_util::sync::CancellationToken;

use crate::{StationError, GATE_CONFIG_FILE, POLICIES_DIR, SESSION_FILE};

/// The manifest's name inside a backup.
pub const MANIFEST_FILE: &str = "backup.json";
const FORMAT: &str = "review-station-backup/1";
/// Configuration kept beside the database (files and folders of the data directory).
const CONFIG: [&str; 4] = [
    crate::stores::STORES_FILE,
    GATE_CONFIG_FILE,
    SESSION_FILE,
    POLICIES_DIR,
];

/// What a backup holds, as `backup.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    pub format: String,
    pub app_version: String,
    pub created_at: String,
    pub source: String,
    pub schema_version: i64,
    pub database_sha256: String,
    pub decisions: u64,
    pub chain_head: String,
    pub blobs: u64,
    pub blob_bytes: u64,
    pub config: Vec<String>,
}

/// Called after each blob: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Emitted while a backup copies its photos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BackupProgress {
    #[ts(type = "number")]
    pub job_id: u64,
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// A finished backup, as the app reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BackupWritten {
    pub folder: String,
    #[ts(type = "number")]
    pub decisions: u64,
    #[ts(type = "number")]
    pub photos: u64,
    #[ts(type = "number")]
    pub bytes: u64,
}

impl BackupWritten {
    pub fn of(folder: &Path, manifest: &BackupManifest) -> Self {
        Self {
            folder: folder.display().to_string(),
            decisions: manifest.decisions,
            photos: manifest.blobs,
            bytes: manifest.blob_bytes,
        }
    }
}

/// A new backup folder's name inside the folder the user picked: `review-station-backup-`
/// and the UTC time to the second.
pub fn folder_name(now_rfc3339: &str) -> String {
    let stamp: String = now_rfc3339
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("review-station-backup-{stamp}Z")
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StationError {
    let path = path.to_path_buf();
    move |source| {
        StationError::Store(store::StoreError::Io {
            action,
            path,
            source,
        })
    }
}

fn sha256_file(path: &Path) -> Result<String, StationError> {
    use sha2::Digest;
    let bytes = std::fs::read(path).map_err(io("reading", path))?;
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), StationError> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(io("creating", to))?;
        for entry in std::fs::read_dir(from).map_err(io("reading", from))? {
            let entry = entry.map_err(io("reading", from))?;
            // configuration only: regular files and folders, never links out of the directory
            let kind = entry.file_type().map_err(io("reading", from))?;
            if kind.is_dir() || kind.is_file() {
                copy_tree(&entry.path(), &to.join(entry.file_name()))?;
            }
        }
    } else if from.is_file() {
        std::fs::copy(from, to).map_err(io("copying", from))?;
    }
    Ok(())
}

/// Backs up the data directory of `store` into `dest` (a folder that must not exist yet).
/// Cancellable between blobs; a cancelled or failed backup leaves nothing at `dest`.
pub async fn back_up(
    store: &Store,
    dest: &Path,
    progress: Progress<'_>,
    cancel: &CancellationToken,
) -> Result<BackupManifest, StationError> {
    if dest.exists() {
        return Err(StationError::InvalidRequest(format!(
            "{} exists already: a backup goes to a new folder",
            dest.display()
        )));
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest.file_name().ok_or_else(|| {
        StationError::InvalidRequest(format!("{} names no folder", dest.display()))
    })?;
    let partial = parent.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = async {
        std::fs::create_dir_all(&partial).map_err(io("creating", &partial))?;
        let db = partial.join(DATABASE_FILE);
        store.copy_database_to(&db).await?;
        // everything below is read from the copy: the backup is the database of one instant
        let copy = Store::open_read_only(&partial).await?;
        let described = describe(&copy).await;
        copy.close().await;
        let (refs, decisions, chain_head, schema_version) = described?;
        let source = BlobStore::existing(&store.data_dir().join("blobs"));
        let target = BlobStore::existing(&partial.join("blobs"));
        let total = refs.len() as u64;
        let mut bytes = 0;
        for (done, blob) in refs.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(StationError::Cancelled);
            }
            let (from, to) = (source.path_of(&blob.sha), target.path_of(&blob.sha));
            let blob = blob.clone();
            bytes += tokio::task::spawn_blocking(move || copy_blob(&from, &to, &blob)).await??;
            progress(done as u64 + 1, total);
        }
        let mut config = Vec::new();
        for name in CONFIG {
            let from = store.data_dir().join(name);
            if from.exists() {
                copy_tree(&from, &partial.join(name))?;
                config.push(name.to_owned());
            }
        }
        let manifest = BackupManifest {
            format: FORMAT.into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            created_at: store::now_rfc3339(),
            source: store.data_dir().display().to_string(),
            schema_version,
            database_sha256: sha256_file(&db)?,
            decisions,
            chain_head,
            blobs: total,
            blob_bytes: bytes,
            config,
        };
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| StationError::InvalidRequest(e.to_string()))?;
        let path = partial.join(MANIFEST_FILE);
        std::fs::write(&path, text).map_err(io("writing", &path))?;
        std::fs::rename(&partial, dest).map_err(io("naming the backup", dest))?;
        Ok(manifest)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    written
}

/// [`back_up`] from a data directory by path (the command line's `--backup`; the app may be
/// running on it: the copy is a reader like any other).
pub async fn back_up_dir(
    data_dir: &Path,
    dest: &Path,
    progress: Progress<'_>,
) -> Result<BackupManifest, StationError> {
    // data on a disk that turned read-only is backed up as it is (no migration can run there)
    let store = match Store::open(data_dir).await {
        Err(error) if error.disk_problem() == Some(store::DiskProblem::ReadOnly) => {
            tracing::warn!(%error, "the data cannot be written: backed up as it is");
            Store::open_read_only(data_dir).await?
        }
        opened => opened?,
    };
    let made = back_up(&store, dest, progress, &CancellationToken::new()).await;
    store.close().await;
    made
}

async fn describe(copy: &Store) -> Result<(Vec<BlobRef>, u64, String, i64), StationError> {
    let refs = copy.blob_refs().await?;
    let (decisions, _, head) = copy.chain_head().await?;
    Ok((refs, decisions, head, copy.schema_version().await?))
}

/// Checks a backup without changing anything: its manifest, the database's hash and
/// integrity, the audit chain (sealed with `data_dir`'s audit key when the keyring holds it),
/// and every blob.
pub async fn check_backup(backup: &Path, data_dir: &Path) -> Result<BackupManifest, StationError> {
    let path = backup.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        StationError::InvalidRequest(format!(
            "{} is not a Review Station backup (no readable {MANIFEST_FILE}: {e})",
            backup.display()
        ))
    })?;
    let manifest: BackupManifest = serde_json::from_str(&text)
        .map_err(|e| StationError::InvalidRequest(format!("{} is damaged: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(StationError::InvalidRequest(format!(
            "{} is a backup of another format ({:?}; this version reads {FORMAT:?})",
            backup.display(),
            manifest.format
        )));
    }
    let bad = |what: String| {
        StationError::InvalidRequest(format!(
            "the backup in {} is damaged: {what}",
            backup.display()
        ))
    };
    let found = sha256_file(&backup.join(DATABASE_FILE))?;
    if found != manifest.database_sha256 {
        return Err(bad(format!(
            "its database hashes to {found}, not to the {} it was written with",
            manifest.database_sha256
        )));
    }
    let copy = Store::open_read_only(backup).await?;
    let checked = async {
        if let Err(problem) = copy.integrity_check().await? {
            return Err(bad(format!(
                "the database's integrity check says: {problem}"
            )));
        }
        if let Ok(Some(seal)) = crate::audit_key::load(data_dir).await {
            copy.set_audit_seal(seal);
        }
        if let Err(broken) = copy.verify_decisions().await? {
            return Err(bad(format!(
                "its audit trail breaks at decision {}: {}",
                broken.decision_id, broken.problem
            )));
        }
        let blobs = BlobStore::existing(&backup.join("blobs"));
        let refs = copy.blob_refs().await?;
        if refs.len() as u64 != manifest.blobs {
            return Err(bad(format!(
                "its database names {} blobs, its manifest {}",
                refs.len(),
                manifest.blobs
            )));
        }
        tokio::task::spawn_blocking(move || {
            refs.iter()
                .try_for_each(|blob| verify_blob(&blobs.path_of(&blob.sha), blob))
        })
        .await??;
        Ok(())
    }
    .await;
    copy.close().await;
    checked.map(|()| manifest)
}

/// Restores `backup` into `data_dir` once it checks out; the directory it replaces is moved to
/// the returned path (nothing is deleted). The caller makes sure no station has `data_dir`
/// open (the app's command line asks the session bus for the running instance's name).
pub async fn restore(
    backup: &Path,
    data_dir: &Path,
) -> Result<(BackupManifest, Option<PathBuf>), StationError> {
    let manifest = check_backup(backup, data_dir).await?;
    let aside = if data_dir.exists() {
        let stamp = store::now_rfc3339().replace([':', '.'], "-");
        let aside = data_dir.with_file_name(format!(
            "{}.before-restore-{stamp}",
            data_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        std::fs::rename(data_dir, &aside).map_err(io("moving aside", data_dir))?;
        Some(aside)
    } else {
        None
    };
    let copied = (|| {
        std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
        for entry in std::fs::read_dir(backup).map_err(io("reading", backup))? {
            let entry = entry.map_err(io("reading", backup))?;
            if entry.file_name() != MANIFEST_FILE {
                copy_tree(&entry.path(), &data_dir.join(entry.file_name()))?;
            }
        }
        Ok::<_, StationError>(())
    })();
    if let Err(error) = copied {
        // put the old directory back: a failed restore leaves things as they were
        let _ = std::fs::remove_dir_all(data_dir);
        if let Some(aside) = &aside {
            let _ = std::fs::rename(aside, data_dir);
        }
        return Err(error);
    }
    // what the station keeps beside its data but a backup does not carry (logs, the webview's
    // storage) stays in the moved-aside folder
    Ok((manifest, aside))
}
