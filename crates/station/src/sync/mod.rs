//! The station's link to the router: connecting with an enrolment code (the device key goes
//! to the OS keyring, never to the database, a file or a log), the background worker that
//! drains the outbox and pulls results, and what the sync panel shows.
//!
//! The outbox rows are written by the services whose changes need the router, in the same
//! transaction as the change (`store::queue_cloud_check`, every decision); this service only
//! moves them. Nothing here blocks a UI command: the worker is one task of its own, and a
//! command reads the database or flips a flag.

mod apply;
mod jobs;
mod machine;
mod second_opinion;
mod shared;
pub mod types;
mod witness;
pub(crate) use witness::compare as compare_witnessed;
mod worker;

use std::sync::{Arc, Mutex};

use ::sync::DeviceKeys;
use protocol::ErrorCode;
use tokio_util::sync::CancellationToken;

pub(crate) use jobs::{compliance_check_job, document_job, JOB_PAGES};
use types::{SyncConnection, SyncCounts, SyncJobPage, SyncJobState, SyncStatus};

use crate::shared::Core;
use crate::{Documents, Imports, StationError};

/// The keyring service name under which device keys are kept (one entry per router URL).
pub const KEYRING_SERVICE: &str = "review-station";

const URL: &str = "router_url";
const DEVICE_ID: &str = "device_id";
const STATION_NAME: &str = "station_name";

/// Whether the router answers, and why not.
#[derive(Debug, Clone, Default)]
struct Link {
    online: bool,
    problem: Option<String>,
    last_contact: Option<String>,
}

pub struct SyncService {
    core: Arc<Core>,
    documents: Arc<Documents>,
    /// Brings in the files of tasks other stations raised.
    imports: Arc<Imports>,
    keys: DeviceKeys,
    /// Told when the station connects or disconnects (then only accounts work).
    session: Arc<crate::Session>,
    link: Mutex<Link>,
    /// Bytes the router has of each uploading row's files, piece by piece (the row itself is
    /// written per file): the panel's percentage between two writes.
    uploads: Mutex<std::collections::HashMap<i64, (u64, u64)>>,
    worker: Mutex<Option<CancellationToken>>,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService").finish_non_exhaustive()
    }
}

impl SyncService {
    pub(crate) fn new(
        core: Arc<Core>,
        documents: Arc<Documents>,
        imports: Arc<Imports>,
        session: Arc<crate::Session>,
    ) -> Self {
        Self {
            core,
            documents,
            imports,
            keys: DeviceKeys::new(KEYRING_SERVICE),
            session,
            link: Mutex::new(Link::default()),
            uploads: Mutex::new(std::collections::HashMap::new()),
            worker: Mutex::new(None),
        }
    }

    /// The keyring entry of this station's key for the router at `url`: one per router and
    /// data directory, so two stations of one user (two data directories) never share a key.
    pub fn keyring_entry(&self, url: &str) -> String {
        keyring_entry(url, self.core.data_dir())
    }

    /// A client of the connected router with this station's device key; `None` when the
    /// station is not connected.
    pub(crate) async fn client(
        &self,
    ) -> Result<Option<(SyncConnection, ::sync::RouterClient)>, StationError> {
        let Some(connection) = self.connection().await? else {
            return Ok(None);
        };
        let key = self
            .keys
            .load(&self.keyring_entry(&connection.url))
            .await
            .map_err(keyring_error)?
            .ok_or_else(|| StationError::Sync {
                code: ErrorCode::Unauthorized,
                message: format!(
                    "the device key for {} is not in the keyring: connect again with a new enrolment code",
                    connection.url
                ),
            })?;
        let client = ::sync::RouterClient::new(&connection.url, Some(key)).map_err(sync_error)?;
        Ok(Some((connection, client)))
    }

    /// The keyring entry of the signed-in person's session token on the router at `url`.
    pub(crate) fn session_entry(&self, url: &str) -> String {
        format!("{} session", self.keyring_entry(url))
    }

    pub(crate) fn keys(&self) -> &DeviceKeys {
        &self.keys
    }

    /// Starts the worker when the station was connected before (called once the station is
    /// open). A key the keyring cannot give is a problem shown in the panel; the station goes on
    /// offline.
    pub async fn resume(self: &Arc<Self>) -> Result<(), StationError> {
        let Some(connection) = self.connection().await? else {
            return Ok(());
        };
        self.session.set_connected(true);
        match self.keys.load(&self.keyring_entry(&connection.url)).await {
            Ok(Some(key)) => self.start_worker(connection, key),
            Ok(None) => self.set_problem(format!(
                "the device key for {} is not in the keyring: connect again with a new enrolment code",
                connection.url
            )),
            Err(error) => self.set_problem(error.to_string()),
        }
        Ok(())
    }

    /// Connects this station to the router at `url` with an admin's one-time `code`. The key is
    /// made here and kept in the OS keyring before the router hears of it (only its hash is
    /// sent), so an answer lost on the way loses nothing: connecting again repeats the same
    /// enrolment.
    pub async fn connect(
        self: &Arc<Self>,
        url: &str,
        code: &str,
        station_name: &str,
    ) -> Result<SyncStatus, StationError> {
        let url = url.trim().trim_end_matches('/').to_string();
        let station_name = station_name.trim();
        if code.trim().is_empty() {
            return Err(StationError::InvalidRequest(
                "the enrolment code is empty: ask an admin for one".into(),
            ));
        }
        if station_name.is_empty() {
            return Err(StationError::InvalidRequest(
                "give this station a name (admins see it)".into(),
            ));
        }
        let client = ::sync::RouterClient::new(&url, None).map_err(sync_error)?;
        client.hello().await.map_err(sync_error)?;
        let entry = self.keyring_entry(&url);
        let key = match self.keys.load(&entry).await.map_err(keyring_error)? {
            // a repeat after an answer lost on the way: the same key, the same enrolment
            Some(key) => key,
            None => {
                let (key, _) = ::sync::new_device_key();
                self.keys.store(&entry, &key).await.map_err(keyring_error)?;
                key
            }
        };
        let enrolled = client
            .enrol(code.trim(), station_name, &key)
            .await
            .map_err(sync_error)?;
        self.stop_worker();
        let store = &self.core.store;
        store.set_sync_value(URL, Some(&url)).await?;
        store
            .set_sync_value(DEVICE_ID, Some(&enrolled.device_id.to_string()))
            .await?;
        store
            .set_sync_value(STATION_NAME, Some(station_name))
            .await?;
        let connection = SyncConnection {
            url,
            device_id: enrolled.device_id,
            station_name: station_name.to_string(),
        };
        self.session.set_connected(true);
        self.start_worker(connection, key);
        self.status().await
    }

    /// Disconnects: the worker stops and the key leaves the keyring. The outbox is kept, so
    /// nothing waiting is lost; it goes out when the station is connected again.
    pub async fn disconnect(&self) -> Result<SyncStatus, StationError> {
        self.stop_worker();
        if let Some(connection) = self.connection().await? {
            self.release_window(&connection).await;
            self.keys
                .delete(&self.keyring_entry(&connection.url))
                .await
                .map_err(keyring_error)?;
            // a person's session on this router ends with the connection
            self.keys
                .delete(&self.session_entry(&connection.url))
                .await
                .map_err(keyring_error)?;
            // the outbox stays; what was on its way is sent again after the next connect
        }
        for name in [URL, DEVICE_ID, STATION_NAME] {
            self.core.store.set_sync_value(name, None).await?;
        }
        self.session.set_connected(false);
        *self.link_mut() = Link::default();
        self.status().await
    }

    pub async fn status(&self) -> Result<SyncStatus, StationError> {
        let counts = self.core.store.outbox_counts().await?;
        let link = self.link_mut().clone();
        Ok(SyncStatus {
            connection: self.connection().await?,
            online: link.online,
            problem: link.problem,
            last_contact: link.last_contact,
            counts: SyncCounts {
                queued: counts.queued,
                uploading: counts.uploading,
                waiting: counts.waiting,
                retrying: counts.retrying,
                parked: counts.parked,
                done: counts.done,
            },
        })
    }

    /// A page of the outbox, newest first, optionally of one state.
    pub async fn jobs(
        &self,
        state: Option<SyncJobState>,
        offset: u32,
        limit: u32,
    ) -> Result<SyncJobPage, StationError> {
        let limit = limit.clamp(1, 500);
        let rows = self
            .core
            .store
            .list_outbox(state.map(SyncJobState::as_str), limit, offset)
            .await?;
        let counts = self.core.store.outbox_counts().await?;
        let total = match state {
            None => {
                counts.queued
                    + counts.uploading
                    + counts.waiting
                    + counts.retrying
                    + counts.parked
                    + counts.done
            }
            Some(SyncJobState::Queued) => counts.queued,
            Some(SyncJobState::Uploading) => counts.uploading,
            Some(SyncJobState::Waiting) => counts.waiting,
            Some(SyncJobState::Retrying) => counts.retrying,
            Some(SyncJobState::Parked) => counts.parked,
            Some(SyncJobState::Done) => counts.done,
        };
        let uploads = self
            .uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Ok(SyncJobPage {
            jobs: rows
                .into_iter()
                .map(|mut row| {
                    if let Some((done, total)) = uploads.get(&row.id) {
                        if row.state == "uploading" {
                            row.upload_done = i64::try_from(*done).unwrap_or(i64::MAX);
                            row.upload_total = i64::try_from(*total).unwrap_or(i64::MAX);
                        }
                    }
                    worker::describe(row)
                })
                .collect(),
            total,
        })
    }

    /// "Retry now" on one row (parked or retrying); `None`: every retrying row.
    pub async fn retry_now(&self, id: Option<i64>) -> Result<u64, StationError> {
        let moved = match id {
            Some(id) => u64::from(self.core.store.retry_outbox_now(id).await?),
            None => self.core.store.retry_all_now().await?,
        };
        self.core.outbox_written.notify_one();
        Ok(moved)
    }

    /// Adds to a local audit check how the chain compares with every head the router
    /// witnessed (`witness::compare`).
    pub async fn check_witnessed(
        &self,
        check: protocol::AuditCheck,
    ) -> Result<protocol::AuditCheck, StationError> {
        witness::compare(&self.core.store, &self.keys, self.core.data_dir(), check).await
    }

    /// Gives the station's window of the team's queue back, so other stations need not wait for
    /// its leases to run out; best effort (offline, the leases run out by themselves).
    async fn release_window(&self, connection: &SyncConnection) {
        let Ok(held) = self.core.store.drop_held_shared(worker::now_ms()).await else {
            return;
        };
        if held.is_empty() {
            return;
        }
        let Ok(Some(key)) = self.keys.load(&self.keyring_entry(&connection.url)).await else {
            return;
        };
        let Ok(client) = ::sync::RouterClient::new(&connection.url, Some(key)) else {
            return;
        };
        for ids in held.chunks(500) {
            if let Err(error) = client
                .release_tasks(&protocol::station_api::Release { ids: ids.to_vec() })
                .await
            {
                tracing::warn!(%error, "the window of the team's queue not given back");
                return;
            }
        }
    }

    pub(crate) async fn connection(&self) -> Result<Option<SyncConnection>, StationError> {
        connection_of(&self.core.store).await
    }

    fn start_worker(self: &Arc<Self>, connection: SyncConnection, key: ::sync::Secret) {
        self.stop_worker();
        let cancel = CancellationToken::new();
        *self.worker.lock().unwrap_or_else(|p| p.into_inner()) = Some(cancel.clone());
        let this = Arc::clone(self);
        tokio::spawn(async move {
            worker::run(this, connection, key, cancel).await;
        });
    }

    fn stop_worker(&self) {
        if let Some(cancel) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            cancel.cancel();
        }
    }

    fn set_upload(&self, row: i64, progress: Option<(u64, u64)>) {
        let mut uploads = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        match progress {
            Some(progress) => uploads.insert(row, progress),
            None => uploads.remove(&row),
        };
    }

    fn link_mut(&self) -> std::sync::MutexGuard<'_, Link> {
        // a poisoned lock only means a panic elsewhere while holding it; the link is plain data
        self.link.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_problem(&self, problem: String) {
        tracing::warn!(%problem, "sync offline");
        let mut link = self.link_mut();
        link.online = false;
        link.problem = Some(problem);
    }

    fn set_online(&self) {
        let mut link = self.link_mut();
        link.online = true;
        link.problem = None;
        link.last_contact = Some(store::now_rfc3339());
    }
}

#[allow(clippy::needless_pass_by_value)] // by value: it is `map_err`'s function
pub(crate) fn sync_error(error: ::sync::SyncError) -> StationError {
    use ::sync::SyncError as E;
    let code = match &error {
        E::Http {
            code: Some(code), ..
        } => *code,
        E::Unauthorized { .. } | E::NotEnrolled { .. } => ErrorCode::Unauthorized,
        E::BadUrl { .. } => ErrorCode::InvalidRequest,
        _ => ErrorCode::Unavailable,
    };
    StationError::Sync {
        code,
        message: error.to_string(),
    }
}

#[allow(clippy::needless_pass_by_value)] // by value: it is `map_err`'s function
pub(crate) fn keyring_error(error: ::sync::KeyringError) -> StationError {
    StationError::Sync {
        code: ErrorCode::Unavailable,
        message: error.to_string(),
    }
}

/// The keyring entry of a data directory's device key for the router at `url`.
pub(crate) fn keyring_entry(url: &str, data_dir: &std::path::Path) -> String {
    format!("{url} {}", data_dir.display())
}

/// The router this station is connected to, as its database says (`None`: local).
pub(crate) async fn connection_of(
    store: &store::Store,
) -> Result<Option<SyncConnection>, StationError> {
    let (Some(url), Some(device)) = (
        store.sync_value(URL).await?,
        store.sync_value(DEVICE_ID).await?,
    ) else {
        return Ok(None);
    };
    Ok(Some(SyncConnection {
        url,
        device_id: device.parse().unwrap_or_default(),
        station_name: store.sync_value(STATION_NAME).await?.unwrap_or_default(),
    }))
}

pub(crate) fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
