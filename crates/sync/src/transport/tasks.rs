//! The team's shared review queue: raising a task, claiming a window of them under a lease,
//! a decision on one; and downloading a blob another station uploaded (the photo or pages of a
//! task raised there).

use protocol::station_api::{
    Claim, DecisionRecorded, NewTask, Release, Released, SharedDecision, SharedTask,
};
use reqwest::Method;
use sha2::{Digest, Sha256};

use super::{Call, RouterClient, BODY_LIMIT, REQUEST_TIMEOUT};
use crate::error::SyncError;

/// A blob downloaded is at most this large (the router's own upload limit is smaller).
pub const DOWNLOAD_LIMIT: u64 = 256 << 20;

impl RouterClient {
    /// Raises a task on the shared queue (a repeat of its `task_key` is the same task).
    pub async fn raise_task(&self, task: &NewTask) -> Result<SharedTask, SyncError> {
        let call = Call {
            what: "the raised task",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.request(Method::POST, "tasks", call)?.json(task);
        let response = self.send(request, call).await?;
        // a task carries its model output: a results page's cap, not a small answer's
        self.answer(response, call, super::RESULTS_BODY_LIMIT).await
    }

    /// Claims (and renews) this station's window of the shared queue.
    pub async fn claim_tasks(&self, claim: &Claim) -> Result<Vec<SharedTask>, SyncError> {
        let call = Call {
            what: "the claimed tasks",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.request(Method::POST, "tasks/claim", call)?.json(claim);
        let response = self.send(request, call).await?;
        self.answer(response, call, super::RESULTS_BODY_LIMIT).await
    }

    /// Gives tasks of this station's window back to the team (a station disconnecting).
    pub async fn release_tasks(&self, release: &Release) -> Result<Released, SyncError> {
        let call = Call {
            what: "the released tasks",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self
            .request(Method::POST, "tasks/release", call)?
            .json(release);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// A decision on shared task `id`; refused (`409 lease_lost`) when another station holds it.
    pub async fn decide_shared(
        &self,
        id: i64,
        decision: &SharedDecision,
    ) -> Result<DecisionRecorded, SyncError> {
        let call = Call {
            what: "the decision",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self
            .request(Method::POST, &format!("tasks/{id}/decision"), call)?
            .json(decision);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// The bytes of blob `sha256`, checked against their name.
    pub async fn download_blob(&self, sha256: &str) -> Result<Vec<u8>, SyncError> {
        let call = Call {
            what: "the blob",
            keyed: true,
            timeout: REQUEST_TIMEOUT * 4,
        };
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SyncError::Upload {
                sha256: sha256.to_owned(),
                reason: "not a sha256 name".into(),
            });
        }
        let request = self.request(Method::GET, &format!("blobs/{sha256}"), call)?;
        let response = self.send(request, call).await?;
        if !response.status().is_success() {
            return Err(self.refusal(response, call).await);
        }
        let bytes = self.body(response, call, DOWNLOAD_LIMIT).await?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(SyncError::Upload {
                sha256: sha256.to_owned(),
                reason: "the bytes the router sent do not hash to the blob's name".into(),
            });
        }
        Ok(bytes)
    }
}
