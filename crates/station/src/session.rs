//! Who is working. The shell sets it once per session (today a local reviewer's name;
//! accounts come later) and every review command acts as that person: the webview never sends
//! a name with a call. The last name is remembered in the data directory (`session.toml`), so
//! it follows the data, never a reviewer into another station's data.

use std::path::{Path, PathBuf};

use protocol::account::{Account, Role};
use protocol::{ErrorCode, SessionInfo};
use serde::{Deserialize, Serialize};

use crate::{export_file, StationError};

pub const SESSION_FILE: &str = "session.toml";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    reviewer: Option<String>,
}

/// Who is signed in: the session service. It needs nothing but the data directory, so every
/// service that acts as the reviewer can be handed it.
///
/// Two modes: a station never connected to a router works under the name typed here (local,
/// and shown as such); a connected one works only under a router account signed in on it
/// (`AccountService`), so the audit trail names an authenticated person. A session still
/// valid by its expiry keeps working offline.
#[derive(Debug)]
pub struct Session {
    data_dir: PathBuf,
    reviewer: std::sync::RwLock<Option<String>>,
    router: std::sync::RwLock<RouterMode>,
}

/// The router side of the session.
#[derive(Debug, Clone, Default)]
struct RouterMode {
    connected: bool,
    account: Option<SignedAccount>,
}

/// An account signed in on this station, until its session expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAccount {
    pub account: Account,
    pub expires_at_ms: i64,
}

impl SignedAccount {
    pub fn valid_at(&self, now_ms: i64) -> bool {
        self.expires_at_ms > now_ms
    }
}

pub(crate) fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default(),
    )
    .unwrap_or(i64::MAX)
}

impl Session {
    /// The session the data directory remembers.
    pub(crate) fn remembered(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            reviewer: std::sync::RwLock::new(remembered(data_dir)),
            router: std::sync::RwLock::new(RouterMode::default()),
        }
    }

    /// Whether the station is connected to a router (then only accounts work).
    pub fn connected(&self) -> bool {
        self.router_mode().connected
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        let mut mode = self.router_mode_mut();
        mode.connected = connected;
        if !connected {
            mode.account = None;
        }
    }

    /// The account signed in (valid or expired).
    pub fn account(&self) -> Option<SignedAccount> {
        self.router_mode().account.clone()
    }

    pub(crate) fn set_account(&self, account: Option<SignedAccount>) {
        self.router_mode_mut().account = account;
    }

    /// The name work goes under in router mode, for one of `roles`.
    fn account_name(&self, roles: &[Role], work: &str) -> Result<String, StationError> {
        let Some(signed) = self.account() else {
            return Err(StationError::Analysis {
                code: ErrorCode::NotSignedIn,
                message: "this station is connected to a router: sign in with your account".into(),
            });
        };
        if !signed.valid_at(now_ms()) {
            return Err(StationError::Analysis {
                code: ErrorCode::SessionExpired,
                message: "your session ended: sign in again".into(),
            });
        }
        if !roles.contains(&signed.account.role) {
            return Err(StationError::Analysis {
                code: ErrorCode::Forbidden,
                message: format!(
                    "{} is signed in as {} {}: {work} needs a {} account",
                    signed.account.name,
                    if signed.account.role == Role::Reviewer {
                        "a"
                    } else {
                        "an"
                    },
                    signed.account.role.as_str(),
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            });
        }
        Ok(signed.account.name)
    }

    /// Who runs a visit: the signed-in auditor (router mode; the typed name is not used), or
    /// the name typed (local mode).
    pub(crate) fn auditor(&self, typed: &str) -> Result<String, StationError> {
        if self.connected() {
            self.account_name(&[Role::Auditor, Role::Admin], "a store visit")
        } else {
            Ok(typed.to_owned())
        }
    }

    fn router_mode(&self) -> std::sync::RwLockReadGuard<'_, RouterMode> {
        // a plain value replaced whole: a panic elsewhere cannot leave it half-written
        self.router
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn router_mode_mut(&self) -> std::sync::RwLockWriteGuard<'_, RouterMode> {
        self.router
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The reviewer remembered in `data_dir`; none when there is none or the file is not valid.
fn remembered(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(SESSION_FILE)).ok()?;
    match toml::from_str::<SessionFile>(&text) {
        Ok(file) => file.reviewer.and_then(|r| valid_name(&r).ok()),
        Err(error) => {
            tracing::warn!(%error, "session.toml ignored: nobody is signed in");
            None
        }
    }
}

/// A reviewer's name: 1–100 characters, trimmed, no control characters.
fn valid_name(name: &str) -> Result<String, StationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StationError::InvalidRequest(
            "the reviewer's name must be 1–100 characters, without control characters".into(),
        ));
    }
    Ok(name.to_string())
}

impl Session {
    pub fn info(&self) -> SessionInfo {
        let reviewer = if self.connected() {
            self.account()
                .filter(|a| a.valid_at(now_ms()))
                .map(|a| a.account.name)
        } else {
            self.signed_in().clone()
        };
        SessionInfo { reviewer }
    }

    /// The name typed in local mode (shown beside the "local" mark).
    pub fn local_reviewer(&self) -> Option<String> {
        self.signed_in().clone()
    }

    /// Makes `name` the reviewer of this session (and of the next one in this data directory).
    /// Local mode only: a connected station works under router accounts.
    pub fn sign_in(&self, name: &str) -> Result<SessionInfo, StationError> {
        if self.connected() {
            return Err(StationError::Analysis {
                code: ErrorCode::NotSignedIn,
                message: "this station is connected to a router: sign in with your account".into(),
            });
        }
        let name = valid_name(name)?;
        self.remember(Some(name.clone()))?;
        *self.signed_in_mut() = Some(name);
        tracing::info!("reviewer signed in");
        Ok(self.info())
    }

    pub fn sign_out(&self) -> Result<SessionInfo, StationError> {
        self.remember(None)?;
        *self.signed_in_mut() = None;
        Ok(self.info())
    }

    /// The signed-in reviewer, or why there is none.
    pub(crate) fn reviewer(&self) -> Result<String, StationError> {
        if self.connected() {
            return self.account_name(&[Role::Reviewer, Role::Admin], "reviewing");
        }
        self.signed_in().clone().ok_or(StationError::Analysis {
            code: ErrorCode::NotSignedIn,
            message: "nobody is signed in: enter your name to review".into(),
        })
    }

    fn remember(&self, reviewer: Option<String>) -> Result<(), StationError> {
        let text = toml::to_string(&SessionFile { reviewer }).unwrap_or_default();
        export_file::write_atomically(&self.data_dir.join(SESSION_FILE), text.as_bytes())
    }

    fn signed_in(&self) -> std::sync::RwLockReadGuard<'_, Option<String>> {
        // a plain value replaced whole: a panic elsewhere cannot leave it half-written
        self.reviewer
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn signed_in_mut(&self) -> std::sync::RwLockWriteGuard<'_, Option<String>> {
        self.reviewer
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  Ana ").unwrap(), "Ana");
        assert!(valid_name("   ").is_err());
        assert!(valid_name(&"x".repeat(101)).is_err());
        assert!(valid_name("Ana\u{7}").is_err());
    }

    #[test]
    fn a_broken_or_hostile_session_file_signs_nobody_in() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(remembered(dir.path()), None);
        std::fs::write(dir.path().join(SESSION_FILE), "reviewer = 'Ana'\n").unwrap();
        assert_eq!(remembered(dir.path()).as_deref(), Some("Ana"));
        std::fs::write(dir.path().join(SESSION_FILE), "reviewer = [1, 2]\n").unwrap();
        assert_eq!(remembered(dir.path()), None);
        std::fs::write(dir.path().join(SESSION_FILE), "reviewer = '   '\n").unwrap();
        assert_eq!(remembered(dir.path()), None);
    }
}
