//! The station's HTTP client of its router (`/station/v1`): reqwest over rustls, the device key
//! as a bearer token, every answer read with a size cap and checked against the shared wire
//! types, and every failure said as a [`SyncError`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use protocol::station_api::{
    AuditHead, Corrections, CorrectionsReceived, Enrol, Enrolled, Hello, JobAccepted, JobResult,
    NewJob, WitnessedHead, ROUTER_SERVICE, STATION_API_VERSION,
};
use protocol::ErrorCode;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use account::{AdminTable, CSV_LIMIT};
pub use checks::{check_clock, router_url};
pub use upload::{BlobSource, Uploaded, PIECE_BYTES};

use crate::error::{excerpt, SyncError};
use crate::keys::Secret;

mod account;
mod checks;
mod failure;
mod tasks;
mod upload;

/// Small JSON answers (a job accepted, an enrolment): far below this; anything larger is not the
/// router speaking.
pub const BODY_LIMIT: u64 = 1 << 20;
/// A page of results is up to 500 finished jobs, each carrying a document's fields with their
/// evidence (tens of kB for a long invoice): room for that, still refusing an endless body.
pub const RESULTS_BODY_LIMIT: u64 = 32 << 20;
/// An error's `{code, message}`: read only this much of it.
const ERROR_BODY_LIMIT: u64 = 64 << 10;
/// The longest a result poll waits on the router for a result (the router's own cap).
pub const MAX_WAIT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A call that is not a long poll: the router answers these from its database, at once.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Beyond the long poll's wait: the answer's trip back and the router's own latency.
const LONG_POLL_MARGIN: Duration = Duration::from_secs(15);
/// How far the station's clock may be from the router's before sync refuses to go on.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// The router of this station, and its device key once enrolled.
#[derive(Clone)]
pub struct RouterClient {
    http: reqwest::Client,
    /// Ends with `/`, so endpoints join below it (a router behind a path prefix included).
    base: Url,
    host: String,
    key: Option<Secret>,
}

impl fmt::Debug for RouterClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterClient")
            .field("url", &self.url())
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// What a call is, for its error messages, and whether it carries the device key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    pub what: &'static str,
    pub keyed: bool,
    pub timeout: Duration,
}

impl RouterClient {
    /// A client of the router at `url` (`https://…`; plain `http://` only to this computer),
    /// with the device key when the station has one.
    pub fn new(url: &str, key: Option<Secret>) -> Result<Self, SyncError> {
        let base = router_url(url)?;
        let host = base.host_str().unwrap_or_default().to_owned();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config(&host)?)
            .connect_timeout(CONNECT_TIMEOUT)
            // the router never redirects: a redirect is another server (a login page, a proxy),
            // and following it could carry the key elsewhere
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("review-station-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Tls {
                host: host.clone(),
                detail: format!("the HTTP client could not be set up: {e}"),
            })?;
        Ok(Self {
            http,
            base,
            host,
            key,
        })
    }

    /// The same router, with this device key (after enrolment).
    pub fn with_key(mut self, key: Secret) -> Self {
        self.key = Some(key);
        self
    }

    /// The router's address as the station keeps it (no trailing slash): the keyring's entry.
    pub fn url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Who answers: a router speaking this station's API, with a clock near the station's.
    pub async fn hello(&self) -> Result<Hello, SyncError> {
        let call = Call {
            what: "hello",
            keyed: false,
            timeout: REQUEST_TIMEOUT,
        };
        let response = self
            .send(self.request(Method::GET, "hello", call)?, call)
            .await?;
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            // a proxy in front of a router that is down, or a busy router: try again later
            return Err(self.refusal(response, call).await);
        }
        let not_router = |reason: String| SyncError::NotARouter {
            url: self.url().to_owned(),
            reason,
        };
        if !status.is_success() {
            return Err(not_router(format!(
                "it answers {status} to /station/v1/hello, which every router answers"
            )));
        }
        let body = self.body(response, call, BODY_LIMIT).await?;
        let json: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
            not_router(format!(
                "its answer to /station/v1/hello is not JSON but {:?}",
                excerpt(&body, None)
            ))
        })?;
        let hello: Hello = serde_json::from_value(json).map_err(|e| {
            not_router(format!(
                "its answer to /station/v1/hello is not a router's ({e})"
            ))
        })?;
        if hello.service != ROUTER_SERVICE {
            return Err(not_router(format!(
                "it says it is {:?}, not {ROUTER_SERVICE:?}",
                excerpt(hello.service.as_bytes(), None)
            )));
        }
        if hello.api != STATION_API_VERSION {
            return Err(SyncError::ApiVersion {
                router: hello.api,
                station: STATION_API_VERSION,
            });
        }
        check_clock(&hello.now, OffsetDateTime::now_utc())?;
        Ok(hello)
    }

    /// Enrols this station with a one-time `code` from an admin, under `key` (made by
    /// [`crate::keys::new_device_key`] and kept in the keyring before this call): only its hash
    /// is sent. A repeat (the answer lost on the way) is answered again, as the first time.
    pub async fn enrol(&self, code: &str, name: &str, key: &Secret) -> Result<Enrolled, SyncError> {
        let call = Call {
            what: "the enrolment",
            keyed: false,
            timeout: REQUEST_TIMEOUT,
        };
        let key_sha256 = key.sha256_hex();
        // the same code and key are the same enrolment, whenever it is sent again
        let idempotency = hex::encode(Sha256::digest(format!("{key_sha256}\n{}", code.trim())));
        let request = self
            .request(Method::POST, "enrol", call)?
            .header("idempotency-key", format!("enrol-{}", &idempotency[..32]))
            .json(&Enrol {
                code: code.trim().to_owned(),
                name: name.to_owned(),
                key_sha256: Some(key_sha256),
            });
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// Submits a job; `idempotency_key` names it (the outbox row's), so a repeat is the same job
    /// (`new: false`).
    pub async fn submit_job(
        &self,
        idempotency_key: &str,
        job: &NewJob,
    ) -> Result<JobAccepted, SyncError> {
        let call = Call {
            what: "the job",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self
            .request(Method::POST, "jobs", call)?
            .header("idempotency-key", idempotency_key)
            .json(job);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// The results after cursor `after` (the last `seq` seen), waiting up to `wait` (at most
    /// [`MAX_WAIT`]) for one when there is none yet; at most `limit` (1 to 500).
    pub async fn results(
        &self,
        after: i64,
        wait: Duration,
        limit: u32,
    ) -> Result<Vec<JobResult>, SyncError> {
        let wait = wait.min(MAX_WAIT);
        let call = Call {
            what: "the results",
            keyed: true,
            timeout: wait + LONG_POLL_MARGIN,
        };
        let path = format!(
            "results?after={after}&wait={}&limit={}",
            wait.as_secs(),
            limit.clamp(1, 500)
        );
        let request = self.request(Method::GET, &path, call)?;
        let response = self.send(request, call).await?;
        self.answer(response, call, RESULTS_BODY_LIMIT).await
    }

    /// Reviewers' corrections; the router counts a repeat once.
    pub async fn send_corrections(
        &self,
        corrections: &Corrections,
    ) -> Result<CorrectionsReceived, SyncError> {
        let call = Call {
            what: "the corrections",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self
            .request(Method::POST, "corrections", call)?
            .json(corrections);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// The head of the decision chain, for the router to witness (a head that contradicts an
    /// earlier one is refused as `409 audit_diverged`, and kept by the router all the same).
    pub async fn send_audit_head(&self, head: &AuditHead) -> Result<WitnessedHead, SyncError> {
        let call = Call {
            what: "the audit head",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let request = self.request(Method::POST, "audit-heads", call)?.json(head);
        let response = self.send(request, call).await?;
        self.answer(response, call, BODY_LIMIT).await
    }

    /// The heads the router witnessed for this station, oldest first, past the first `after`.
    pub async fn audit_heads(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<WitnessedHead>, SyncError> {
        let call = Call {
            what: "the witnessed audit heads",
            keyed: true,
            timeout: REQUEST_TIMEOUT,
        };
        let path = format!("audit-heads?after={after}&limit={}", limit.clamp(1, 1000));
        let request = self.request(Method::GET, &path, call)?;
        let response = self.send(request, call).await?;
        // 1000 heads of ~200 bytes: well inside the small answers' cap
        self.answer(response, call, BODY_LIMIT).await
    }

    /// A request to `/station/v1/{path}` (a query of numbers may follow), with the device key when the call needs it.
    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        call: Call,
    ) -> Result<RequestBuilder, SyncError> {
        self.request_at(method, &format!("station/v1/{path}"), call)
    }

    /// A request to `{base}{path}`, with the device key when the call needs it.
    pub(crate) fn request_at(
        &self,
        method: Method,
        path: &str,
        call: Call,
    ) -> Result<RequestBuilder, SyncError> {
        let url = self.base.join(path).map_err(|e| SyncError::BadUrl {
            url: self.url().to_owned(),
            reason: e.to_string(),
        })?;
        self.request_to(method, url, call)
    }

    /// A request to `url` (below the router's base), with the device key when the call needs it.
    pub(crate) fn request_to(
        &self,
        method: Method,
        url: Url,
        call: Call,
    ) -> Result<RequestBuilder, SyncError> {
        let request = self.http.request(method, url).timeout(call.timeout);
        if !call.keyed {
            return Ok(request);
        }
        match &self.key {
            Some(key) => Ok(request.bearer_auth(key.expose())),
            None => Err(SyncError::NotEnrolled {
                url: self.url().to_owned(),
            }),
        }
    }

    pub(crate) async fn send(
        &self,
        request: RequestBuilder,
        call: Call,
    ) -> Result<Response, SyncError> {
        request
            .send()
            .await
            .map_err(|e| failure::transport_error(&self.host, &e, call))
    }

    /// A success's body as `T`, or the refusal.
    pub(crate) async fn answer<T: DeserializeOwned>(
        &self,
        response: Response,
        call: Call,
        limit: u64,
    ) -> Result<T, SyncError> {
        if !response.status().is_success() {
            return Err(self.refusal(response, call).await);
        }
        let body = self.body(response, call, limit).await?;
        serde_json::from_slice(&body).map_err(|e| SyncError::Garbage {
            what: call.what,
            detail: e.to_string(),
            excerpt: excerpt(&body, self.key.as_ref().map(Secret::expose)),
        })
    }

    /// The body, refused past `limit` bytes (by its declared length before reading, else as it
    /// comes): an endless or huge answer is an error, never the station's memory filled.
    pub(crate) async fn body(
        &self,
        mut response: Response,
        call: Call,
        limit: u64,
    ) -> Result<Vec<u8>, SyncError> {
        let too_large = SyncError::TooLarge {
            what: call.what,
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failure::transport_error(&self.host, &e, call))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// An answer that is not a success: its status, its `{code, message}` and `Retry-After`.
    pub(crate) async fn refusal(&self, response: Response, call: Call) -> SyncError {
        #[derive(serde::Deserialize)]
        struct Body {
            code: Option<String>,
            message: Option<String>,
        }
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match self.body(response, call, ERROR_BODY_LIMIT).await {
            Ok(body) => body,
            // cut (or stalled) before the body ended: what was refused, and whether for good, is
            // unknown, so it is a failed connection (tried again), never a final refusal
            Err(error @ (SyncError::Cut { .. } | SyncError::Timeout { .. })) => return error,
            Err(_) => Vec::new(),
        };
        let parsed: Option<Body> = serde_json::from_slice(&body).ok();
        let code = parsed
            .as_ref()
            .and_then(|b| b.code.as_deref())
            .and_then(|c| c.parse::<ErrorCode>().ok());
        let message = match parsed.and_then(|b| b.message) {
            Some(message) => excerpt(message.as_bytes(), None),
            None if body.is_empty() => status.canonical_reason().unwrap_or("").to_owned(),
            None => excerpt(&body, self.key.as_ref().map(Secret::expose)),
        };
        if call.keyed
            && status == StatusCode::UNAUTHORIZED
            && matches!(code, None | Some(ErrorCode::Unauthorized))
        {
            return SyncError::Unauthorized { message };
        }
        SyncError::Http {
            what: call.what,
            status: status.as_u16(),
            code,
            message,
            retry_after,
        }
    }
}

/// rustls over ring, with the platform's verifier (the system's trust store, a company's own
/// root included); its own config, so nothing process-wide is installed.
fn tls_config(host: &str) -> Result<rustls::ClientConfig, SyncError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|e| SyncError::Tls {
            host: host.to_owned(),
            detail: format!("the system's certificates could not be loaded: {e}"),
        })?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_never_shows_its_key() {
        let client =
            RouterClient::new("http://127.0.0.1:9", Some(Secret::new("rd-very-secret"))).unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("http://127.0.0.1:9"), "{shown}");
        assert_eq!(client.url(), "http://127.0.0.1:9");
    }
}
