//! What a backup needs from the database: a consistent copy taken while the station keeps
//! writing, the blobs that copy refers to, and the checks a restore runs before it replaces
//! anything (`PRAGMA integrity_check`, every blob present with its hash).
//!
//! The copy is `VACUUM INTO`: one read transaction, so the file is the database as of one
//! instant (SQLite's documented online-copy statement, the backup API's result without its
//! page-by-page restarts under writes), compacted, with no write-ahead log beside it.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{Result, Sha256Hex, Store, StoreError};

/// A blob the database refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub sha: Sha256Hex,
    pub byte_len: u64,
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (which must not exist).
    pub async fn copy_database_to(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::Io {
                action: "copying the database to",
                path: dest.into(),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        let target = dest.to_str().ok_or_else(|| StoreError::Io {
            action: "copying the database to",
            path: dest.into(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path is not valid UTF-8",
            ),
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every blob the database records, in hash order.
    pub async fn blob_refs(&self) -> Result<Vec<BlobRef>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT sha256, byte_len FROM blobs ORDER BY sha256")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(sha, len)| {
                Ok(BlobRef {
                    sha: Sha256Hex::parse(&sha)?,
                    byte_len: u64::try_from(len).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Every stored file the database refers to that is missing or of another size, with the
    /// name of an item it belongs to (stat only: fast enough for each start).
    pub async fn blob_faults(&self) -> Result<(u64, Vec<(BlobRef, String, crate::BlobFault)>)> {
        let refs = self.blob_refs().await?;
        let looked = refs.len() as u64;
        let blobs = self.blobs.clone();
        let faults: Vec<(BlobRef, crate::BlobFault)> = tokio::task::spawn_blocking(move || {
            refs.into_iter()
                .filter_map(|r| blobs.look(&r.sha, r.byte_len).map(|fault| (r, fault)))
                .collect()
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("the blob check stopped: {e}")))?;
        let mut named = Vec::with_capacity(faults.len());
        for (blob, fault) in faults {
            let name: Option<String> =
                sqlx::query_scalar("SELECT file_name FROM items WHERE blob_sha256 = ? LIMIT 1")
                    .bind(blob.sha.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
            named.push((blob, name.unwrap_or_else(|| "a page image".into()), fault));
        }
        Ok((looked, named))
    }

    /// `PRAGMA integrity_check`: `Ok(())` or the first problems it names.
    pub async fn integrity_check(&self) -> Result<Result<(), String>> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check(20)")
            .fetch_all(&self.pool)
            .await?;
        Ok(if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(rows.join("; "))
        })
    }

    /// The last migration applied.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Copies `from` to `to` (creating its folder), hashing the bytes on the way: `Err` names a
/// blob whose bytes are not its name's (damaged at the source).
pub fn copy_blob(from: &Path, to: &Path, expected: &BlobRef) -> Result<u64> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    };
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    }
    let mut source = std::fs::File::open(from).map_err(io("reading", from))?;
    let mut hasher = Sha256::new();
    let mut out = std::fs::File::create(to).map_err(io("writing", to))?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut copied = 0u64;
    loop {
        let n = source.read(&mut buffer).map_err(io("reading", from))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        std::io::Write::write_all(&mut out, &buffer[..n]).map_err(io("writing", to))?;
        copied += n as u64;
    }
    out.sync_all().map_err(io("flushing", to))?;
    check_hash(&hex::encode(hasher.finalize()), copied, expected, from)?;
    Ok(copied)
}

/// Reads a blob file and checks it against its record.
pub fn verify_blob(path: &Path, expected: &BlobRef) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        action: "reading",
        path: path.into(),
        source,
    })?;
    check_hash(
        &hex::encode(Sha256::digest(&bytes)),
        bytes.len() as u64,
        expected,
        path,
    )
}

fn check_hash(found: &str, len: u64, expected: &BlobRef, path: &Path) -> Result<()> {
    if found != expected.sha.as_str() || len != expected.byte_len {
        return Err(StoreError::Corrupt(format!(
            "{} is damaged: {len} bytes hashing to {found}, but it should be {} bytes hashing to its name",
            path.display(),
            expected.byte_len
        )));
    }
    Ok(())
}
