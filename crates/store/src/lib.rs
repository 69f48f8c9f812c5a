//! The station's persistent state: one SQLite database (WAL) plus a content-addressed blob
//! directory, both under the station's data directory. Nothing else touches either.

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
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use blobs::{BlobStore, Sha256Hex};
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
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database and blob store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    blobs: BlobStore,
    data_dir: PathBuf,
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
        sqlx::migrate!("../../migrations").run(&pool).await?;
        let blobs = BlobStore::open(&data_dir.join("blobs"))?;
        tracing::info!(db = %db_path.display(), "station database open");
        Ok(Self {
            pool,
            blobs,
            data_dir: data_dir.to_path_buf(),
        })
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
