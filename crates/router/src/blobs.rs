//! Content-addressed uploads from stations (photos, PDF pages), resumable: `HEAD` says how many
//! bytes the router has, `PATCH` continues from there, and the whole is checked against its
//! sha256 name before it counts. A cut connection keeps what arrived; bytes that do not hash
//! to their name are thrown away.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::body::Body;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::ledger::now_rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct UploadState {
    pub length: u64,
    pub received: u64,
    pub complete: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("a blob is named by its sha256: 64 lowercase hex digits")]
    BadName,
    #[error("the first piece of an upload must say its whole length (Upload-Length)")]
    LengthMissing,
    #[error("this blob was started with another Upload-Length ({0})")]
    LengthChanged(u64),
    #[error("a blob may be at most {0} bytes")]
    TooLarge(u64),
    #[error("the router has {have} bytes of this blob: continue from there")]
    OffsetMismatch { have: u64 },
    #[error("more bytes than Upload-Length")]
    Overrun,
    #[error("the upload was cut after {received} bytes: HEAD says where to continue")]
    Cut { received: u64 },
    #[error("the bytes hash to {actual}, not to the name they were sent under")]
    HashMismatch { actual: String },
    #[error("another upload of this blob is in progress")]
    Busy,
    #[error("the blob store failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the ledger failed: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    max: u64,
    uploading: Mutex<HashSet<String>>,
}

/// Releases a blob's upload slot when the upload ends, however it ends.
struct Uploading<'a>(&'a BlobStore, String);

impl Drop for Uploading<'_> {
    fn drop(&mut self) {
        self.0.lock().remove(&self.1);
    }
}

pub fn valid_name(sha: &str) -> bool {
    sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    pub fn new(dir: &Path, max: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            max,
            uploading: Mutex::new(HashSet::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // a set of names: a panic elsewhere cannot leave it inconsistent
        self.uploading.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file of a whole, checked blob (the name is validated: no path can leave the folder).
    pub fn path_of(&self, sha: &str) -> Option<PathBuf> {
        valid_name(sha).then(|| self.dir.join(sha))
    }

    pub async fn state(
        &self,
        db: &crate::db::Db,
        sha: &str,
    ) -> Result<Option<UploadState>, UploadError> {
        crate::with_db!(db, pool => {
            if !valid_name(sha) {
                return Err(UploadError::BadName);
            }
            let row: Option<(i64, i64, bool)> =
                sqlx::query_as("SELECT length, received, complete FROM blobs WHERE sha256 = $1")
                    .bind(sha)
                    .fetch_optional(pool)
                    .await?;
            Ok(row.map(|(length, received, complete)| UploadState {
                length: length as u64,
                received: received as u64,
                complete,
            }))
        })
    }

    /// How long a piece may send nothing before it is taken as cut.
    const PIECE_IDLE: std::time::Duration = std::time::Duration::from_secs(15);

    /// Appends `body` at `offset`; checks the whole once the last byte is in.
    pub async fn append(
        &self,
        db: &crate::db::Db,
        sha: &str,
        device: i64,
        offset: u64,
        length: Option<u64>,
        body: Body,
    ) -> Result<UploadState, UploadError> {
        crate::with_db!(db, pool => {
            if !valid_name(sha) {
                return Err(UploadError::BadName);
            }
            if !self.lock().insert(sha.to_owned()) {
                return Err(UploadError::Busy);
            }
            let _slot = Uploading(self, sha.to_owned());
            if let Some(state) = self.state(db, sha).await?.filter(|s| s.complete) {
                return Ok(state);
            }
            // the part file is locked while a piece is written (flock): replicas sharing the
            // blob folder write one piece at a time, and the kernel drops the lock of one killed
            let part = self.dir.join(format!("{sha}.part"));
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&part)
                .await?
                .into_std()
                .await;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(UploadError::Busy),
                Err(std::fs::TryLockError::Error(error)) => return Err(error.into()),
            }
            let mut file = tokio::fs::File::from_std(file);
            // read again under the lock: another replica may have finished it meanwhile
            let state = match self.state(db, sha).await? {
                Some(state) if state.complete => {
                    // the part opened above is a new, empty file: the finished one was renamed
                    tokio::fs::remove_file(&part).await?;
                    return Ok(state);
                }
                Some(state) => {
                    if length.is_some_and(|l| l != state.length) {
                        return Err(UploadError::LengthChanged(state.length));
                    }
                    state
                }
                None => {
                    let refused = match length {
                        None => Some(UploadError::LengthMissing),
                        Some(length) if length > self.max => Some(UploadError::TooLarge(self.max)),
                        Some(_) => None,
                    };
                    if let Some(refused) = refused {
                        // no upload under this name: the part just made is empty and not kept
                        if file.metadata().await?.len() == 0 {
                            tokio::fs::remove_file(&part).await?;
                        }
                        return Err(refused);
                    }
                    let length = length.unwrap_or_default();
                    sqlx::query("INSERT INTO blobs (sha256, length, received, device_id, created_at) VALUES ($1, $2, 0, $3, $4)
                                 ON CONFLICT (sha256) DO NOTHING")
                        .bind(sha)
                        .bind(length as i64)
                        .bind(device)
                        .bind(now_rfc3339())
                        .execute(pool)
                        .await?;
                    UploadState {
                        length,
                        received: 0,
                        complete: false,
                    }
                }
            };
            // the file is the truth for what arrived (a crash may have cut the ledger's count short)
            let on_disk = file.metadata().await?.len();
            if on_disk != state.received {
                let have = on_disk.min(state.length);
                file.set_len(have).await?;
                set_received(db, sha, have).await?;
                if have != offset {
                    return Err(UploadError::OffsetMismatch { have });
                }
            } else if offset != state.received {
                return Err(UploadError::OffsetMismatch {
                    have: state.received,
                });
            }
            let mut received = offset;
            let mut stream = body.into_data_stream();
            let mut cut = false;
            let mut overrun = false;
            // a piece whose sender went quiet (a dead link, a stalled proxy) gives its slot up, so
            // the station's next try is not refused as busy for as long as the socket lingers
            loop {
                let Ok(next) = tokio::time::timeout(Self::PIECE_IDLE, stream.next()).await else {
                    cut = true;
                    break;
                };
                let Some(chunk) = next else { break };
                match chunk {
                    Ok(bytes) => {
                        if received + bytes.len() as u64 > state.length {
                            overrun = true;
                            break;
                        }
                        file.write_all(&bytes).await?;
                        received += bytes.len() as u64;
                    }
                    Err(_) => {
                        cut = true;
                        break;
                    }
                }
            }
            file.flush().await?;
            file.sync_data().await?;
            // `file` stays open (and locked) to the end: hashed and renamed under the lock
            set_received(db, sha, received).await?;
            if overrun {
                return Err(UploadError::Overrun);
            }
            if cut {
                return Err(UploadError::Cut { received });
            }
            if received < state.length {
                return Ok(UploadState {
                    length: state.length,
                    received,
                    complete: false,
                });
            }
            let actual = {
                let part = part.clone();
                tokio::task::spawn_blocking(move || -> std::io::Result<String> {
                    let mut hasher = Sha256::new();
                    std::io::copy(&mut std::fs::File::open(&part)?, &mut hasher)?;
                    Ok(hex::encode(hasher.finalize()))
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??
            };
            if actual != sha {
                tokio::fs::remove_file(&part).await?;
                sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
                    .bind(sha)
                    .execute(pool)
                    .await?;
                return Err(UploadError::HashMismatch { actual });
            }
            tokio::fs::rename(&part, self.dir.join(sha)).await?;
            sqlx::query("UPDATE blobs SET complete = TRUE, completed_at = $1 WHERE sha256 = $2")
                .bind(now_rfc3339())
                .bind(sha)
                .execute(pool)
                .await?;
            Ok(UploadState {
                length: state.length,
                received,
                complete: true,
            })
        })
    }
}

async fn set_received(db: &crate::db::Db, sha: &str, received: u64) -> Result<(), sqlx::Error> {
    crate::with_db!(db, pool => {
        sqlx::query("UPDATE blobs SET received = $1 WHERE sha256 = $2")
            .bind(received as i64)
            .bind(sha)
            .execute(pool)
            .await?;
        Ok(())
    })
}
