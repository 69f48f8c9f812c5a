//! Content-addressed blob storage: `<root>/<first two hex digits>/<sha256>`.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// A validated lowercase sha256 hex digest. Constructing one is the only way to name a blob, so
/// a path built from it can never escape the blob directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }

    pub fn parse(text: &str) -> Result<Self> {
        if text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(text.to_string()))
        } else {
            Err(StoreError::InvalidHash(text.chars().take(80).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a look at a stored file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobFault {
    Missing,
    WrongSize { found: u64 },
    Unreadable(String),
}

impl fmt::Display for BlobFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("its file is missing"),
            Self::WrongSize { found } => write!(f, "its file has another size ({found} bytes)"),
            Self::Unreadable(why) => write!(f, "its file cannot be read ({why})"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("tmp")).map_err(|source| StoreError::Io {
            action: "creating blob directory",
            path: root.into(),
            source,
        })?;
        remove_stale_temporaries(&root.join("tmp"));
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The blob store at `root` as it is, creating nothing (read-only use).
    pub fn existing(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn path_of(&self, sha: &Sha256Hex) -> PathBuf {
        self.root.join(&sha.as_str()[..2]).join(sha.as_str())
    }

    /// Stores `bytes` under their hash (a no-op when already present) and returns the hash.
    /// Written to a temporary file, flushed, then renamed: a crash never leaves a partial blob.
    pub fn put(&self, bytes: &[u8]) -> Result<Sha256Hex> {
        let sha = Sha256Hex::of(bytes);
        self.put_hashed(&sha, bytes)?;
        Ok(sha)
    }

    /// As [`put`](Self::put), for a caller that already hashed the bytes with [`Sha256Hex::of`].
    pub fn put_hashed(&self, sha: &Sha256Hex, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(sha);
        if path.exists() {
            return Ok(());
        }
        fn io<'p>(
            action: &'static str,
            path: &'p Path,
        ) -> impl FnOnce(std::io::Error) -> StoreError + 'p {
            move |source| StoreError::Io {
                action,
                path: path.to_path_buf(),
                source,
            }
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        let tmp_dir = self.root.join("tmp");
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir)
            .map_err(io("creating a temporary file in", &tmp_dir))?;
        tmp.write_all(bytes).map_err(io("writing", tmp.path()))?;
        tmp.as_file().sync_all().map_err(io("flushing", &path))?;
        tmp.persist(&path).map_err(|e| StoreError::Io {
            action: "storing",
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }

    /// The blob's bytes, checked against its name: a file changed on disk (bit rot, an edit,
    /// a half-copied restore) is refused as damaged rather than analyzed or shown.
    pub fn read(&self, sha: &Sha256Hex) -> Result<Vec<u8>> {
        let path = self.path_of(sha);
        let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
            action: "reading",
            path,
            source,
        })?;
        if Sha256Hex::of(&bytes) != *sha {
            return Err(StoreError::Corrupt(format!(
                "the stored file {sha} is damaged (its bytes no longer match it): restore a \
                 backup, or import the original again, which repairs it"
            )));
        }
        Ok(bytes)
    }

    /// What is wrong with the stored file of a blob of `byte_len` bytes, by a look at its size
    /// only (cheap enough for every blob at each start), or `None` when it looks whole.
    pub fn look(&self, sha: &Sha256Hex, byte_len: u64) -> Option<BlobFault> {
        match std::fs::metadata(self.path_of(sha)) {
            Ok(meta) if meta.is_file() && meta.len() == byte_len => None,
            Ok(meta) if meta.is_file() => Some(BlobFault::WrongSize { found: meta.len() }),
            Ok(_) => Some(BlobFault::Missing),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(BlobFault::Missing),
            Err(e) => Some(BlobFault::Unreadable(e.to_string())),
        }
    }

    /// Writes `bytes` (which hash to `sha`) again when the stored file is missing or differs:
    /// importing an original repairs its damaged copy. Returns whether it wrote.
    pub fn repair(&self, sha: &Sha256Hex, bytes: &[u8]) -> Result<bool> {
        let path = self.path_of(sha);
        let whole = std::fs::read(&path).is_ok_and(|stored| Sha256Hex::of(&stored) == *sha);
        if whole {
            return Ok(false);
        }
        let _ = std::fs::remove_file(&path);
        self.put_hashed(sha, bytes)?;
        Ok(true)
    }
}

/// A temporary file older than this was left by a process that died while writing it (one
/// process writes a data directory, and a blob takes far less to write).
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the half-written temporaries of processes that died (power cut, kill); never a
/// finished blob, which is renamed out of `tmp/` before it counts.
fn remove_stale_temporaries(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMPORARY);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_writers_temporaries_go_at_open_and_a_fresh_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        BlobStore::open(dir.path()).unwrap();
        let old = dir.path().join("tmp/.tmpOLD");
        let fresh = dir.path().join("tmp/.tmpNEW");
        std::fs::write(&old, b"half a photo").unwrap();
        std::fs::write(&fresh, b"being written").unwrap();
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        BlobStore::open(dir.path()).unwrap();
        assert!(!old.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn hash_validation_rejects_paths_and_uppercase() {
        assert!(Sha256Hex::parse("../../etc/passwd").is_err());
        assert!(Sha256Hex::parse(&"A".repeat(64)).is_err());
        assert!(Sha256Hex::parse(&"a".repeat(63)).is_err());
        assert!(Sha256Hex::parse(&"0".repeat(64)).is_ok());
    }

    #[test]
    fn put_is_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let a = store.put(b"hello").unwrap();
        let b = store.put(b"hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.as_str(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.read(&a).unwrap(), b"hello");
        assert!(store.path_of(&a).starts_with(dir.path().join("2c")));
    }
}
