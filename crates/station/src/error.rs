use protocol::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error(transparent)]
    Store(store::StoreError),
    /// The disk under the data failed the operation (full, read-only, an I/O error); nothing
    /// of it was saved, and the same operation passes once the disk is fixed.
    #[error("{} ({})", disk_words(*problem), source.disk_detail())]
    Disk {
        problem: store::DiskProblem,
        source: store::StoreError,
    },
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("the local engine is unavailable: {0}")]
    EngineUnavailable(String),
    #[error("cancelled")]
    Cancelled,
    #[error("no store is configured: add one to stores.toml in the data directory")]
    NoStore,
    /// An analysis could not run on this item; `code` names the cause (e.g. `pdf_encrypted`).
    #[error("{message}")]
    Analysis { code: ErrorCode, message: String },
    /// The router could not be reached or refused (`code` says why), or the OS keyring
    /// could not keep the device key.
    #[error("{message}")]
    Sync { code: ErrorCode, message: String },
    /// A file the user chose (an export's destination) could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// What a person reads first about a disk problem (the UI's banner adds which disk and its
/// free space).
fn disk_words(problem: store::DiskProblem) -> &'static str {
    match problem {
        store::DiskProblem::Full => {
            "The disk holding the station's data is full, so this was not saved; free some space \
             on it and do it again (nothing already stored was changed)"
        }
        store::DiskProblem::ReadOnly => {
            "The station's data cannot be written (the disk is read-only or the folder is not \
             yours), so this was not saved; what is stored can still be read and exported"
        }
        store::DiskProblem::Failed => {
            "The disk failed a read or write, so this was not saved; check the disk and make a \
             backup (review-station --backup FOLDER)"
        }
    }
}

impl From<store::StoreError> for StationError {
    fn from(error: store::StoreError) -> Self {
        match error.disk_problem() {
            Some(problem) => Self::Disk {
                problem,
                source: error,
            },
            None => Self::Store(error),
        }
    }
}

fn disk_code(problem: store::DiskProblem) -> ErrorCode {
    match problem {
        store::DiskProblem::Full => ErrorCode::DiskFull,
        store::DiskProblem::ReadOnly => ErrorCode::DataReadOnly,
        store::DiskProblem::Failed => ErrorCode::DiskFailed,
    }
}

impl StationError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Disk { problem, .. } => disk_code(*problem),
            Self::Store(
                store::StoreError::ItemNotFound(_)
                | store::StoreError::VisitNotFound(_)
                | store::StoreError::TaskNotFound(_),
            ) => ErrorCode::NotFound,
            Self::Store(store::StoreError::TaskNotHeld(_)) => ErrorCode::TaskNotHeld,
            Self::Store(
                store::StoreError::NothingToUndo(_) | store::StoreError::InvalidHash(_),
            ) => ErrorCode::InvalidRequest,
            Self::Store(_) => ErrorCode::Storage,
            Self::Task(_) => ErrorCode::Internal,
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::EngineUnavailable(_) => ErrorCode::EngineUnavailable,
            Self::NoStore => ErrorCode::NoStore,
            Self::Cancelled => ErrorCode::Cancelled,
            Self::Analysis { code, .. } => *code,
            // an export's own folder: "read-only" there is not the station's data
            Self::Write { source, .. } => match store::DiskProblem::of_io(source) {
                Some(store::DiskProblem::Full) => ErrorCode::DiskFull,
                Some(store::DiskProblem::Failed) => ErrorCode::DiskFailed,
                Some(store::DiskProblem::ReadOnly) | None => ErrorCode::Io,
            },
            Self::Sync { code, .. } => *code,
        }
    }
}

impl From<StationError> for ApiError {
    fn from(error: StationError) -> Self {
        Self {
            code: error.code(),
            message: error.to_string(),
        }
    }
}
