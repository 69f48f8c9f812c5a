//! A person's calls: signing in (`/station/v1/auth`, with the device key) and, with the
//! session token beside the device key, the admin views (`/admin/v1`). The token is the
//! caller's to keep (the OS keyring); it is never logged or shown in an error.

use protocol::account::{
    Login, LoginChallenge, RecoveryCodes, RegenerateRecovery, SecondFactor, SessionState, SignedIn,
    SESSION_HEADER,
};
use protocol::admin::{Dashboard, DashboardQuery, Live, RequestPage};
use reqwest::{Method, RequestBuilder};

use super::{Call, RouterClient, BODY_LIMIT, REQUEST_TIMEOUT, RESULTS_BODY_LIMIT};
use crate::error::SyncError;
use crate::keys::Secret;

/// A CSV export is at most this large (a month of hourly rows is far less).
pub const CSV_LIMIT: u64 = 64 << 20;

/// The admin API's tables that export as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTable {
    Usage,
    Latency,
    Shares,
    Live,
    Requests,
}

impl AdminTable {
    fn path(self) -> &'static str {
        match self {
            Self::Usage => "usage",
            Self::Latency => "latency",
            Self::Shares => "shares",
            Self::Live => "live",
            Self::Requests => "requests",
        }
    }
}

/// `query`'s filters as URL parameters (values escaped).
fn query_pairs(query: &DashboardQuery) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    let mut add = |name: &'static str, value: Option<String>| {
        if let Some(value) = value {
            pairs.push((name, value));
        }
    };
    add("from", query.from.clone());
    add("to", query.to.clone());
    add("bucket", query.bucket.map(|b| b.as_str().to_owned()));
    add("backend", query.backend.clone());
    add("model", query.model.clone());
    add("store", query.store.clone());
    add("device", query.device.map(|d| d.to_string()));
    pairs
}

impl RouterClient {
    /// A request to `{base}{path}` with the device key and the session.
    fn as_person(
        &self,
        method: Method,
        path: &str,
        call: Call,
        session: &Secret,
    ) -> Result<RequestBuilder, SyncError> {
        self.as_person_with(method, path, &[], call, session)
    }

    /// [`Self::as_person`] with URL parameters (escaped here).
    fn as_person_with(
        &self,
        method: Method,
        path: &str,
        pairs: &[(&'static str, String)],
        call: Call,
        session: &Secret,
    ) -> Result<RequestBuilder, SyncError> {
        let mut url = self.base.join(path).map_err(|e| SyncError::BadUrl {
            url: self.url().to_owned(),
            reason: e.to_string(),
        })?;
        if !pairs.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(self
            .request_to(method, url, call)?
            .header(SESSION_HEADER, session.expose()))
    }

    /// The password step.
    pub async fn login(&self, login: &Login) -> Result<LoginChallenge, SyncError> {
        let call = Call {
            what: "the sign-in",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.request(Method::POST, "auth/login", call)?.json(login);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// The code (or recovery code) step: the session.
    pub async fn second_factor(&self, step: &SecondFactor) -> Result<SignedIn, SyncError> {
        let call = Call {
            what: "the sign-in code",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.request(Method::POST, "auth/code", call)?.json(step);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// The session as the router sees it (refused once it ended).
    pub async fn session(&self, session: &Secret) -> Result<SessionState, SyncError> {
        let call = Call {
            what: "the session",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.as_person(Method::GET, "station/v1/auth/session", call, session)?;
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    pub async fn logout(&self, session: &Secret) -> Result<(), SyncError> {
        let call = Call {
            what: "the sign-out",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.as_person(Method::POST, "station/v1/auth/logout", call, session)?;
        let response = self.send(request, call).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.refusal(response, call).await)
        }
    }

    pub async fn regenerate_recovery_codes(
        &self,
        session: &Secret,
        code: &str,
    ) -> Result<RecoveryCodes, SyncError> {
        let call = Call {
            what: "new recovery codes",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self
            .as_person(
                Method::POST,
                "station/v1/auth/recovery-codes",
                call,
                session,
            )?
            .json(&RegenerateRecovery {
                code: code.to_owned(),
            });
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    pub async fn dashboard(
        &self,
        session: &Secret,
        query: &DashboardQuery,
    ) -> Result<Dashboard, SyncError> {
        let call = Call {
            what: "the dashboard",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.as_person_with(
            Method::GET,
            "admin/v1/dashboard",
            &query_pairs(query),
            call,
            session,
        )?;
        let response = self.send(request, call).await?;
        self.answer(response, call, RESULTS_BODY_LIMIT).await
    }

    pub async fn live(&self, session: &Secret) -> Result<Live, SyncError> {
        let call = Call {
            what: "the live counters",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.as_person(Method::GET, "admin/v1/live", call, session)?;
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    pub async fn recent_requests(
        &self,
        session: &Secret,
        query: &DashboardQuery,
        before: Option<&str>,
        limit: u32,
    ) -> Result<RequestPage, SyncError> {
        let call = Call {
            what: "the recent requests",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let mut pairs = query_pairs(query);
        if let Some(before) = before {
            pairs.push(("before", before.to_owned()));
        }
        pairs.push(("limit", limit.clamp(1, 500).to_string()));
        let request =
            self.as_person_with(Method::GET, "admin/v1/requests", &pairs, call, session)?;
        let response = self.send(request, call).await?;
        self.answer(response, call, RESULTS_BODY_LIMIT).await
    }

    /// One admin table as the router's CSV, whole (requests: up to 500 rows of the window).
    pub async fn admin_csv(
        &self,
        session: &Secret,
        table: AdminTable,
        query: &DashboardQuery,
    ) -> Result<String, SyncError> {
        let call = Call {
            what: "the CSV export",
            keyed: true,
            timeout: REQUEST_TIMEOUT * 2,
        };
        let mut pairs = query_pairs(query);
        pairs.push(("format", "csv".to_owned()));
        if table == AdminTable::Requests {
            pairs.push(("limit", "500".to_owned()));
        }
        let request = self.as_person_with(
            Method::GET,
            &format!("admin/v1/{}", table.path()),
            &pairs,
            call,
            session,
        )?;
        let response = self.send(request, call).await?;
        if !response.status().is_success() {
            return Err(self.refusal(response, call).await);
        }
        let body = self.body(response, call, CSV_LIMIT).await?;
        String::from_utf8(body).map_err(|e| SyncError::Garbage {
            what: call.what,
            detail: format!("not UTF-8 text: {e}"),
            excerpt: String::new(),
        })
    }
}
