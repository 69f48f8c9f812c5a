//! The admin views through the signed-in admin's session: the dashboard, the live counters and
//! the recent requests, each kept as the last snapshot synced; when the router cannot be
//! reached the snapshot is answered with its age and the reason, and nothing newer is made up.
//! The router checks the role on every call; the station forwards, never decides it.

use std::path::Path;

use protocol::admin::DashboardQuery;
use protocol::ErrorCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    unreachable, AccountService, CsvTable, DashboardView, Freshness, LiveView, RequestsView,
};
use crate::StationError;

/// `sync_state` names of the snapshots.
const DASHBOARD: &str = "admin_snapshot.dashboard";
const LIVE: &str = "admin_snapshot.live";
const REQUESTS: &str = "admin_snapshot.requests";

#[derive(Serialize, Deserialize)]
struct Snapshot<T> {
    fetched_at: String,
    body: T,
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl AccountService {
    /// The admin's client and session. The role is checked by the router on every call (a
    /// reviewer's session is refused there, whatever this station believes).
    async fn admin_client(&self) -> Result<(::sync::RouterClient, ::sync::Secret), StationError> {
        let (client, token, _) = self.as_person().await?;
        Ok((client, token))
    }

    /// Answers `fetched` fresh (and keeps it), or the snapshot when the router is unreachable.
    async fn fresh_or_snapshot<T: Serialize + DeserializeOwned>(
        &self,
        name: &str,
        fetched: Result<T, ::sync::SyncError>,
    ) -> Result<(T, Freshness), StationError> {
        match fetched {
            Ok(body) => {
                let snapshot = Snapshot {
                    fetched_at: now_rfc3339(),
                    body,
                };
                if let Ok(text) = serde_json::to_string(&snapshot) {
                    self.core.store.set_sync_value(name, Some(&text)).await?;
                }
                Ok((
                    snapshot.body,
                    Freshness {
                        fetched_at: snapshot.fetched_at,
                        fresh: true,
                        offline_reason: None,
                    },
                ))
            }
            Err(error) if unreachable(&error) => {
                // offline the router cannot check the role: the snapshot only for an admin
                let admin = self
                    .session
                    .account()
                    .is_some_and(|a| a.account.role == protocol::account::Role::Admin);
                if !admin {
                    return Err(StationError::Sync {
                        code: ErrorCode::Forbidden,
                        message: "The admin views need an admin account.".into(),
                    });
                }
                let reason = error.to_string();
                let kept = self.core.store.sync_value(name).await?;
                let snapshot = kept
                    .and_then(|text| serde_json::from_str::<Snapshot<T>>(&text).ok())
                    .ok_or_else(|| StationError::Sync {
                        code: ErrorCode::Unavailable,
                        message: format!("{reason}; no snapshot of this view was synced yet"),
                    })?;
                Ok((
                    snapshot.body,
                    Freshness {
                        fetched_at: snapshot.fetched_at,
                        fresh: false,
                        offline_reason: Some(reason),
                    },
                ))
            }
            Err(error) => Err(self.after_refusal(error).await),
        }
    }

    /// The dashboard for `query`: fresh, or the last one synced when the router is unreachable.
    pub async fn dashboard(&self, query: &DashboardQuery) -> Result<DashboardView, StationError> {
        let (client, token) = self.admin_client().await?;
        let fetched = client.dashboard(&token, query).await;
        let (dashboard, freshness) = self.fresh_or_snapshot(DASHBOARD, fetched).await?;
        Ok(DashboardView {
            dashboard,
            freshness,
        })
    }

    pub async fn live(&self) -> Result<LiveView, StationError> {
        let (client, token) = self.admin_client().await?;
        let fetched = client.live(&token).await;
        let (live, freshness) = self.fresh_or_snapshot(LIVE, fetched).await?;
        Ok(LiveView { live, freshness })
    }

    /// A page of recent requests (newest first; `before` pages back).
    pub async fn requests(
        &self,
        query: &DashboardQuery,
        before: Option<&str>,
    ) -> Result<RequestsView, StationError> {
        let (client, token) = self.admin_client().await?;
        let fetched = client.recent_requests(&token, query, before, 50).await;
        let (page, freshness) = self.fresh_or_snapshot(REQUESTS, fetched).await?;
        Ok(RequestsView { page, freshness })
    }

    /// Writes one router table as CSV to `dest`; answers the rows written. Exports need the
    /// router (a snapshot is not exported as if it were the current data).
    pub async fn export_csv(
        &self,
        table: CsvTable,
        query: &DashboardQuery,
        dest: &Path,
    ) -> Result<u32, StationError> {
        let table = match table {
            CsvTable::Usage => ::sync::AdminTable::Usage,
            CsvTable::Latency => ::sync::AdminTable::Latency,
            CsvTable::Shares => ::sync::AdminTable::Shares,
            CsvTable::Live => ::sync::AdminTable::Live,
            CsvTable::Requests => ::sync::AdminTable::Requests,
            CsvTable::Engine => {
                return Err(StationError::InvalidRequest(
                    "the local engine's table is exported by the station, not the router".into(),
                ))
            }
        };
        let (client, token) = self.admin_client().await?;
        let csv = match client.admin_csv(&token, table, query).await {
            Ok(csv) => csv,
            Err(error) => return Err(self.after_refusal(error).await),
        };
        crate::export_file::write_atomically(dest, csv.as_bytes())?;
        Ok(csv_rows(&csv))
    }
}

/// Forgets every snapshot (a sign-out: the next person may not be an admin).
pub(super) async fn forget_snapshots(store: &store::Store) -> Result<(), StationError> {
    for name in [DASHBOARD, LIVE, REQUESTS] {
        store.set_sync_value(name, None).await?;
    }
    Ok(())
}

/// Data rows of a CSV text (its lines but the header).
pub(crate) fn csv_rows(csv: &str) -> u32 {
    u32::try_from(csv.lines().count().saturating_sub(1)).unwrap_or(u32::MAX)
}
