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
}

impl StationError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(store::StoreError::ItemNotFound(_)) => "not_found",
            Self::Store(store::StoreError::InvalidHash(_)) => "invalid_request",
            Self::Store(_) => "storage",
            Self::Task(_) => "internal",
            Self::InvalidRequest(_) => "invalid_request",
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
