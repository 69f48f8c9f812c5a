use protocol::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
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

impl StationError {
    pub fn code(&self) -> ErrorCode {
        match self {
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
            Self::Write { .. } => ErrorCode::Io,
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
