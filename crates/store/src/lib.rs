//! The station's persistent state: one SQLite database (WAL) plus a content-addressed blob
//! directory, both under the station's data directory. Nothing else touches either.

mod audit_seal;
pub mod backup;
mod blobs;
mod embeddings;
mod items;
mod local_stats;
mod outbox;
mod review;
mod review_stats;
mod visits;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use audit_seal::AuditSeal;
pub use blobs::{BlobFault, BlobStore, Sha256Hex};
pub use embeddings::CachedEmbedding;
pub use items::{
    AnalysisRow, ItemRow, ItemSort, ItemStatus, NewAnalysis, NewItem, Recorded, VerdictFilter,
};
pub use local_stats::{ReviewerPaceRow, StepLatencyRow, StepRuns, BREAK_AFTER_MS};
pub use outbox::{
    CloudCheckRow, NewOutbox, OutboxCounts, OutboxRow, OutboxState, RuleAnswer, TaskUpdate,
    CORRECTION, RAISE_TASK, RESULTS_CURSOR, SHARED_DECISION,
};
pub use review::{
    ChainBreak, DecisionRow, NewDecision, NewTask, QueueFilter, QueueOrder, TaskRow, GENESIS_HASH,
    UNDO_PREFIX,
};
pub use review_stats::{DecisionTotals, FieldTally, ThresholdTally};
pub use visits::{VisitPhotoRow, VisitRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a sha256 hex digest: {0:?}")]
    InvalidHash(String),
    #[error("no item with id {0}")]
    ItemNotFound(i64),
    #[error("no visit with id {0}")]
    VisitNotFound(i64),
    #[error("no review task with id {0}")]
    TaskNotFound(i64),
    #[error("review task {0} is not held by this reviewer (decided already, leased to someone else, or the lease ran out)")]
    TaskNotHeld(i64),
    #[error("review task {0} has no decision of this reviewer to undo")]
    NothingToUndo(i64),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{path} was written by a newer Review Station (database version {found}; this one knows up to {known}): open it with that version, or restore a backup made by this one")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("no station database in {0}")]
    NoDatabase(PathBuf),
}

/// A failure of the disk under the data rather than of the data: the same operation may pass
/// when the disk is fixed (space freed, mounted writable again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskProblem {
    /// No space left (or the user's quota reached).
    Full,
    /// The filesystem is read-only, or the data may not be written by this user.
    ReadOnly,
    /// The disk reported an I/O error.
    Failed,
}

impl DiskProblem {
    /// From an OS error: ENOSPC/EDQUOT, EROFS/EACCES/EPERM, EIO.
    pub fn of_io(error: &std::io::Error) -> Option<Self> {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => return Some(Self::Full),
            ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied => {
                return Some(Self::ReadOnly)
            }
            _ => {}
        }
        match error.raw_os_error() {
            Some(5) => Some(Self::Failed), // EIO
            _ => None,
        }
    }

    /// From SQLite's primary result codes: SQLITE_FULL (13), SQLITE_READONLY (8),
    /// SQLITE_CANTOPEN (14) on a directory it may not write, SQLITE_IOERR (10).
    fn of_sqlite(error: &sqlx::Error) -> Option<Self> {
        let sqlx::Error::Database(db) = error else {
            return match error {
                sqlx::Error::Io(io) => Self::of_io(io),
                _ => None,
            };
        };
        let code: i64 = db.code()?.parse().ok()?;
        match code & 0xff {
            13 => Some(Self::Full),
            8 | 14 => Some(Self::ReadOnly),
            10 => Some(Self::Failed),
            _ => None,
        }
    }
}

impl StoreError {
    /// The OS's or SQLite's own words for a disk problem, without the temporary file's path
    /// they may carry ("writing: No space left on device (os error 28)").
    pub fn disk_detail(&self) -> String {
        let text = match self {
            Self::Io { action, source, .. } => format!("{action}: {source}"),
            Self::Db(sqlx::Error::Database(db)) => format!("database: {}", db.message()),
            other => other.to_string(),
        };
        text.split(" at path ")
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether this failure is the disk's (full, read-only, failing), and which.
    pub fn disk_problem(&self) -> Option<DiskProblem> {
        match self {
            Self::Db(error) => DiskProblem::of_sqlite(error),
            Self::Migrate(sqlx::migrate::MigrateError::Execute(error)) => {
                DiskProblem::of_sqlite(error)
            }
            Self::Io { source, .. } => DiskProblem::of_io(source),
            _ => None,
        }
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database and blob store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    blobs: BlobStore,
    data_dir: PathBuf,
    /// The audit key once the station has it (from the OS keyring; never stored here).
    audit_seal: Arc<RwLock<Option<AuditSeal>>>,
}

/// File name of the station database inside the data directory.
pub const DATABASE_FILE: &str = "station.db";

impl Store {
    /// Opens (creating if needed) the database and blob store in `data_dir` and applies pending
    /// migrations.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            action: "creating data directory",
            path: data_dir.into(),
            source,
        })?;
        let db_path = data_dir.join(DATABASE_FILE);
        if db_path.is_file() {
            // a newer version's database is refused before anything is written to it (the
            // write-ahead log this open would start included)
            Self::open_read_only(data_dir).await?.close().await;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&db_path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        refuse_newer_schema(&pool, &db_path).await?;
        MIGRATOR.run(&pool).await?;
        let blobs = BlobStore::open(&data_dir.join("blobs"))?;
        tracing::info!(db = %db_path.display(), "station database open");
        Ok(Self {
            pool,
            blobs,
            data_dir: data_dir.to_path_buf(),
            audit_seal: Arc::default(),
        })
    }

    /// Opens an existing database for reading only: no migration, no file created, nothing
    /// written (what a verification needs: it must change nothing it checks).
    pub async fn open_read_only(data_dir: &Path) -> Result<Self> {
        let db_path = data_dir.join(DATABASE_FILE);
        if !db_path.is_file() {
            return Err(StoreError::NoDatabase(data_dir.into()));
        }
        // With no write-ahead log beside it, no process has the database open: read it as an
        // immutable file, or SQLite would create the -wal and -shm files a WAL database needs
        // and leave them behind. With one, read through it (a running station's last commits
        // are there), creating nothing.
        let wal = data_dir.join(format!("{DATABASE_FILE}-wal"));
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&db_path)
            .read_only(true)
            .immutable(!wal.exists())
            .create_if_missing(false)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        refuse_newer_schema(&pool, &db_path).await?;
        Ok(Self {
            pool,
            blobs: BlobStore::existing(&data_dir.join("blobs")),
            data_dir: data_dir.to_path_buf(),
            audit_seal: Arc::default(),
        })
    }

    /// [`Store::open_read_only`] for working on (read-only mode): refused when the database
    /// still needs a migration this version would apply, since its queries expect the schema
    /// they were written for.
    pub async fn open_read_only_current(data_dir: &Path) -> Result<Self> {
        let store = Self::open_read_only(data_dir).await?;
        let applied: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&store.pool)
        .await?;
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        if applied < known {
            store.close().await;
            return Err(StoreError::Io {
                action: "updating the database (written by an older version) in",
                path: data_dir.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem),
            });
        }
        Ok(store)
    }

    /// Seals every decision from now on with `seal` (and checks the seals it covers).
    pub fn set_audit_seal(&self, seal: AuditSeal) {
        *self
            .audit_seal
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(seal);
    }

    pub fn audit_seal(&self) -> Option<AuditSeal> {
        self.audit_seal
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many decisions carry a seal, and the last decision's id (0: none yet).
    pub async fn seal_census(&self) -> Result<(u64, i64)> {
        let (sealed, last): (i64, i64) =
            sqlx::query_as("SELECT count(seal), coalesce(max(id), 0) FROM review_decisions")
                .fetch_one(&self.pool)
                .await?;
        Ok((u64::try_from(sealed).unwrap_or(0), last))
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The time `seconds` from now, UTC, as RFC 3339 (e.g. a queued task's due time).
pub fn rfc3339_from_now(seconds: i64) -> String {
    // Adding a bounded offset to the current time stays in years 0..=9999, so formatting
    // cannot fail.
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds.clamp(0, 10 * 366 * 86_400)))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A time in milliseconds since the Unix epoch as RFC 3339; none outside years 0..=9999.
pub fn rfc3339_from_ms(ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

pub fn now_rfc3339() -> String {
    // Formatting a current UTC time as RFC 3339 cannot fail (years 0..=9999).
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A database migrated past what this build knows cannot be run on: said plainly, before
/// sqlx's "previously applied but missing" error.
async fn refuse_newer_schema(pool: &SqlitePool, path: &Path) -> Result<()> {
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        match sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
        {
            Ok(found) => found,
            // a new database: no migrations table yet
            Err(sqlx::Error::Database(e)) if e.message().contains("no such table") => None,
            // SQLITE_NOTADB, SQLITE_CORRUPT: said as what they mean for the person
            Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("26" | "11")) => {
                return Err(StoreError::Corrupt(format!(
                    "{} is damaged or is not a station database ({}); it was left as it is",
                    path.display(),
                    e.message()
                )))
            }
            Err(e) => return Err(e.into()),
        };
    match applied {
        Some(found) if found > known => Err(StoreError::NewerSchema {
            path: path.into(),
            found,
            known,
        }),
        _ => Ok(()),
    }
}
