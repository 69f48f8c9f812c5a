//! What can go wrong between the station and its router, each said so that a person knows what
//! to do, and each mapped to what the retry policy makes of it.

use std::time::Duration;

use protocol::ErrorCode;

use crate::keys::KeyringError;
use crate::retry::Failure;

/// Why the station could not reach, or could not use, its router.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the router address {url:?} cannot be used: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot reach the router at {host}: {why}; check the address and the network (the station keeps working offline)")]
    Connect { host: String, why: ConnectFailure },
    #[error("the connection to the router at {host} was cut ({detail}); it is tried again")]
    Cut { host: String, detail: String },
    #[error("the secure connection to {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("the router at {host} showed a certificate this computer does not trust ({detail}): check the address; a company proxy's certificate must be installed in the system's store")]
    Certificate { host: String, detail: String },
    #[error("{url} is not a Review Station router ({reason}): check the address")]
    NotARouter { url: String, reason: String },
    #[error("the router speaks station API version {router}, this station speaks version {station}: {}", if .router > .station { "update the station" } else { "the router must be updated" })]
    ApiVersion { router: u32, station: u32 },
    #[error("the router did not answer {what} within {} s", .after.as_secs())]
    Timeout { what: &'static str, after: Duration },
    #[error("the router refused {what}: {status}{} {message}{}", .code.map_or(String::new(), |c| format!(" {c}")), .retry_after.as_ref().map_or(String::new(), |r| format!(" (retry after {r})")))]
    Http {
        what: &'static str,
        status: u16,
        code: Option<ErrorCode>,
        message: String,
        retry_after: Option<String>,
    },
    #[error("the router does not know this station's device key (it was revoked, or the router's records were reset): reconnect with a new enrolment code from an admin ({message})")]
    Unauthorized { message: String },
    #[error("this station is not enrolled with the router at {url}: connect it with an enrolment code from an admin")]
    NotEnrolled { url: String },
    #[error("the router's answer to {what} is not what the station API says ({detail}); it began: {excerpt:?}")]
    Garbage {
        what: &'static str,
        detail: String,
        excerpt: String,
    },
    #[error("the router's answer to {what} is larger than {limit} bytes, more than it can be: refused unread")]
    TooLarge { what: &'static str, limit: u64 },
    #[error("this computer's clock is {} {} the router's: set the clock right (sync checks times and would misjudge them)", human(*.off_by), if *.ahead { "ahead of" } else { "behind" })]
    ClockSkew { off_by: Duration, ahead: bool },
    #[error("cannot read {path} to upload it: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the upload of {sha256} went wrong: {reason}")]
    Upload { sha256: String, reason: String },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Keyring(#[from] KeyringError),
}

/// Why no connection was made, as far as the system said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectFailure {
    #[error("the connection was refused (nothing answers on that port)")]
    Refused,
    /// The system's words: no such name, or no DNS answer at all.
    #[error("the host name could not be resolved ({0})")]
    UnknownHost(String),
    #[error("the network or the host is unreachable")]
    Unreachable,
    #[error("{0}")]
    Other(String),
}

impl SyncError {
    /// What the retry policy makes of it: no answer is a network failure, an HTTP refusal is
    /// judged by its status and code, and what needs a person is parked.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Connect { .. } | Self::Cut { .. } | Self::Timeout { .. } => {
                Failure::Network(self.to_string())
            }
            // a stop (the app closing, sync paused) leaves the job to be sent again
            Self::Cancelled => Failure::Network(self.to_string()),
            Self::Http {
                status,
                code,
                retry_after,
                ..
            } => Failure::Http {
                status: *status,
                code: *code,
                retry_after: retry_after.clone(),
            },
            Self::Unauthorized { .. } => Failure::Http {
                status: 401,
                code: Some(ErrorCode::Unauthorized),
                retry_after: None,
            },
            Self::BadUrl { .. }
            | Self::Tls { .. }
            | Self::Certificate { .. }
            | Self::NotARouter { .. }
            | Self::ApiVersion { .. }
            | Self::NotEnrolled { .. }
            | Self::Garbage { .. }
            | Self::TooLarge { .. }
            | Self::ClockSkew { .. }
            | Self::Read { .. }
            | Self::Upload { .. }
            | Self::Keyring(_) => Failure::Final(self.to_string()),
        }
    }
}

/// "7 min 30 s", "2 h 5 min", "3 days 4 h": how far off a clock is, to a person.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        86_400..=172_799 => format!("1 day {} h", s % 86_400 / 3600),
        _ => format!("{} days {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The start of a body, safe to show: at most 120 characters, control characters as spaces,
/// runs of white space as one, and the device key (should a server echo it) blanked.
pub(crate) fn excerpt(body: &[u8], key: Option<&str>) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let text = match key {
        Some(key) if !key.is_empty() => text.replace(key, "[device key]"),
        _ => text.into_owned(),
    };
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
        if out.chars().count() >= 120 {
            out.push('…');
            break;
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::{Decision, RetryPolicy};

    #[test]
    fn excerpts_are_short_single_line_and_never_show_the_key() {
        let body =
            b"<html>\r\n  <title>Welcome\tto nginx</title>\x00\x1b[31m secret-key-123 </html>";
        assert_eq!(
            excerpt(body, Some("secret-key-123")),
            "<html> <title>Welcome to nginx</title> [31m [device key] </html>"
        );
        let long = "x".repeat(10_000);
        let cut = excerpt(long.as_bytes(), None);
        assert_eq!(cut.chars().count(), 121, "120 and an ellipsis");
        assert_eq!(excerpt(&[0xff, 0xfe, b'a'], None), "\u{fffd}\u{fffd}a");
    }

    #[test]
    fn each_error_tells_the_retry_policy_what_it_is() {
        let p = RetryPolicy::default();
        let now = time::macros::datetime!(2026-12-02 10:00:00 UTC);
        let decide = |e: &SyncError| p.decide(&e.failure(), 1, Duration::ZERO, 0.5, now);
        let refused = SyncError::Connect {
            host: "router.example".into(),
            why: ConnectFailure::Refused,
        };
        assert!(matches!(decide(&refused), Decision::RetryIn(_)));
        let busy = SyncError::Http {
            what: "a job",
            status: 503,
            code: Some(ErrorCode::Unavailable),
            message: "no backend".into(),
            retry_after: Some("9".into()),
        };
        assert_eq!(decide(&busy), Decision::RetryIn(Duration::from_secs(9)));
        let revoked = SyncError::Unauthorized {
            message: "this key was revoked".into(),
        };
        assert!(matches!(decide(&revoked), Decision::Park(why) if why.contains("401")));
        let html = SyncError::NotARouter {
            url: "https://example.com/".into(),
            reason: "its hello is not JSON".into(),
        };
        let Decision::Park(why) = decide(&html) else {
            panic!("parked")
        };
        assert!(why.contains("not a Review Station router"), "{why}");
        assert!(matches!(
            decide(&SyncError::Cancelled),
            Decision::RetryIn(_)
        ));
    }

    #[test]
    fn messages_say_what_to_do() {
        let skew = SyncError::ClockSkew {
            off_by: Duration::from_secs(7 * 60 + 30),
            ahead: false,
        };
        assert_eq!(
            skew.to_string(),
            "this computer's clock is 7 min 30 s behind the router's: set the clock right (sync checks times and would misjudge them)"
        );
        let old = SyncError::ApiVersion {
            router: 2,
            station: 1,
        };
        assert!(old.to_string().ends_with("update the station"), "{old}");
        let http = SyncError::Http {
            what: "the job",
            status: 429,
            code: Some(ErrorCode::RateLimited),
            message: "slow down".into(),
            retry_after: Some("3".into()),
        };
        assert_eq!(
            http.to_string(),
            "the router refused the job: 429 rate_limited slow down (retry after 3)"
        );
        assert_eq!(
            human(Duration::from_secs(3 * 86_400 + 4 * 3600)),
            "3 days 4 h"
        );
    }
}
