use serde::Serialize;
use ts_rs::TS;

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
    Analysis { code: &'static str, message: String },
}

impl StationError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(
                store::StoreError::ItemNotFound(_)
                | store::StoreError::VisitNotFound(_)
                | store::StoreError::TaskNotFound(_),
            ) => "not_found",
            Self::Store(store::StoreError::TaskNotHeld(_)) => "task_not_held",
            Self::Store(store::StoreError::NothingToUndo(_)) => "invalid_request",
            Self::Store(store::StoreError::InvalidHash(_)) => "invalid_request",
            Self::Store(_) => "storage",
            Self::Task(_) => "internal",
            Self::InvalidRequest(_) => "invalid_request",
            Self::EngineUnavailable(_) => "engine_unavailable",
            Self::NoStore => "no_store",
            Self::Cancelled => "cancelled",
            Self::Analysis { code, .. } => code,
        }
    }
}

/// The one error shape that crosses IPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl From<StationError> for IpcError {
    fn from(error: StationError) -> Self {
        Self {
            code: error.code().into(),
            message: error.to_string(),
        }
    }
}
