//! Sign-in with a router account (password, then TOTP or a recovery code), the session token in
//! the OS keyring, and the admin views fetched through the session, with the last snapshot kept
//! for when the router cannot be reached. The station never holds a password or a TOTP secret:
//! the router verifies; only the session token is kept here (in the keyring, never the DB).

mod admin;
mod qr;
mod types;

use std::sync::Arc;

use protocol::account::{Account, Login, LoginChallenge, RecoveryCodes, SecondFactor};
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};

pub use qr::qr_code;
pub use types::{
    AccountMode, AccountStatus, CsvTable, DashboardView, Freshness, LiveView, LocalStats,
    LoginOutcome, QrCode, RequestsView, ReviewerPace, StepLatency,
};

use crate::session::{now_ms, SignedAccount};
use crate::shared::Core;
use crate::sync::{keyring_error, sync_error};
use crate::{Session, StationError, SyncService};

/// `sync_state`: the account signed in (no secret: who, which role, until when), so that a
/// restart offline finds the person still signed in while the session lasts.
const ACCOUNT_VALUE: &str = "account";

#[derive(Debug, Serialize, Deserialize)]
struct StoredAccount {
    id: i64,
    name: String,
    role: protocol::account::Role,
    expires_at_ms: i64,
}

/// The station's side of router accounts.
#[derive(Debug)]
pub struct AccountService {
    core: Arc<Core>,
    session: Arc<Session>,
    sync: Arc<SyncService>,
    /// Why the router ended the last session (shown on the login screen).
    ended: std::sync::Mutex<Option<String>>,
}

/// A person-facing message from the router's: its own words, first letter capitalized.
fn said(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

/// Whether the router could not be reached at all (then the admin views show the snapshot).
pub(crate) fn unreachable(error: &::sync::SyncError) -> bool {
    use ::sync::SyncError as E;
    match error {
        E::Connect { .. } | E::Cut { .. } | E::Timeout { .. } => true,
        E::Http { status, code, .. } => {
            *status >= 500 && matches!(code, None | Some(ErrorCode::Unavailable))
        }
        _ => false,
    }
}

/// A refusal as the person should read it: the router's code and message.
pub(crate) fn person_error(error: ::sync::SyncError) -> StationError {
    match &error {
        ::sync::SyncError::Http {
            code: Some(code),
            message,
            ..
        } => StationError::Sync {
            code: *code,
            message: said(message),
        },
        _ => sync_error(error),
    }
}

impl AccountService {
    pub(crate) fn new(core: Arc<Core>, session: Arc<Session>, sync: Arc<SyncService>) -> Self {
        Self {
            core,
            session,
            sync,
            ended: std::sync::Mutex::new(None),
        }
    }

    /// At start: the account remembered, while its session lasts (checked with the router on
    /// the first call that needs it).
    pub(crate) async fn resume(&self) -> Result<(), StationError> {
        if !self.session.connected() {
            return Ok(());
        }
        if let Some(text) = self.core.store.sync_value(ACCOUNT_VALUE).await? {
            if let Ok(stored) = serde_json::from_str::<StoredAccount>(&text) {
                self.session.set_account(Some(SignedAccount {
                    account: Account {
                        id: stored.id,
                        name: stored.name,
                        role: stored.role,
                    },
                    expires_at_ms: stored.expires_at_ms,
                }));
            }
        }
        Ok(())
    }

    fn set_ended(&self, reason: Option<String>) {
        *self
            .ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = reason;
    }

    pub async fn status(&self) -> Result<AccountStatus, StationError> {
        let connection = self.sync.connection().await?;
        self.session.set_connected(connection.is_some());
        if connection.is_none() && self.core.store.sync_value(ACCOUNT_VALUE).await?.is_some() {
            self.core.store.set_sync_value(ACCOUNT_VALUE, None).await?;
        }
        let account = self.session.account().filter(|a| a.valid_at(now_ms()));
        let ended_reason = self
            .ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Ok(match connection {
            None => AccountStatus {
                mode: AccountMode::Local,
                account: None,
                expires_at: None,
                router_url: None,
                sign_in_required: false,
                local_reviewer: self.session.local_reviewer(),
                ended_reason: None,
            },
            Some(connection) => AccountStatus {
                mode: AccountMode::Router,
                sign_in_required: account.is_none(),
                expires_at: account.as_ref().map(|a| rfc3339_ms(a.expires_at_ms)),
                account: account.map(|a| a.account),
                router_url: Some(connection.url),
                local_reviewer: None,
                ended_reason,
            },
        })
    }

    async fn client(&self) -> Result<(String, ::sync::RouterClient), StationError> {
        match self.sync.client().await? {
            Some((connection, client)) => Ok((connection.url, client)),
            None => Err(StationError::Sync {
                code: ErrorCode::NotSignedIn,
                message: "this station is not connected to a router: accounts live on the router (connect it in the Sync panel)".into(),
            }),
        }
    }

    /// The password step; the router answers what comes next.
    pub async fn login_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<LoginChallenge, StationError> {
        if name.trim().is_empty() || password.is_empty() {
            return Err(StationError::InvalidRequest(
                "type your name and your password".into(),
            ));
        }
        let (_, client) = self.client().await?;
        client
            .login(&Login {
                name: name.trim().to_owned(),
                password: password.to_owned(),
            })
            .await
            .map_err(person_error)
    }

    /// The code step: the session token goes to the keyring, the account is signed in.
    pub async fn login_code(
        &self,
        challenge: &str,
        code: Option<&str>,
        recovery_code: Option<&str>,
    ) -> Result<LoginOutcome, StationError> {
        let (url, client) = self.client().await?;
        let signed = client
            .second_factor(&SecondFactor {
                challenge: challenge.to_owned(),
                code: code.map(str::to_owned),
                recovery_code: recovery_code.map(str::to_owned),
            })
            .await
            .map_err(person_error)?;
        self.sync
            .keys()
            .store(
                &self.sync.session_entry(&url),
                &::sync::Secret::new(signed.token.clone()),
            )
            .await
            .map_err(keyring_error)?;
        if self.session.account().map(|a| a.account.id) != Some(signed.account.id) {
            // another person: the last one's admin snapshots are not theirs to see
            admin::forget_snapshots(&self.core.store).await?;
        }
        let expires_at_ms = parse_ms(&signed.expires_at).unwrap_or_else(now_ms);
        let stored = StoredAccount {
            id: signed.account.id,
            name: signed.account.name.clone(),
            role: signed.account.role,
            expires_at_ms,
        };
        self.core
            .store
            .set_sync_value(
                ACCOUNT_VALUE,
                Some(&serde_json::to_string(&stored).unwrap_or_default()),
            )
            .await?;
        self.session.set_account(Some(SignedAccount {
            account: signed.account.clone(),
            expires_at_ms,
        }));
        self.set_ended(None);
        tracing::info!(account = signed.account.id, "signed in");
        Ok(LoginOutcome {
            status: self.status().await?,
            recovery_codes: signed.recovery_codes,
            recovery_codes_left: signed.recovery_codes_left,
        })
    }

    /// Signs out here and on the router (offline: here; the session then ends by its expiry).
    pub async fn logout(&self) -> Result<AccountStatus, StationError> {
        if let Ok((url, client)) = self.client().await {
            let entry = self.sync.session_entry(&url);
            if let Ok(Some(token)) = self.sync.keys().load(&entry).await {
                if let Err(error) = client.logout(&token).await {
                    tracing::warn!(%error, "the router did not hear the sign-out");
                }
            }
            self.sync
                .keys()
                .delete(&entry)
                .await
                .map_err(keyring_error)?;
        }
        self.forget_account().await?;
        self.status().await
    }

    async fn forget_account(&self) -> Result<(), StationError> {
        self.session.set_account(None);
        self.core.store.set_sync_value(ACCOUNT_VALUE, None).await?;
        admin::forget_snapshots(&self.core.store).await
    }

    /// The session token and a client, for a call as the signed-in person.
    async fn as_person(
        &self,
    ) -> Result<(::sync::RouterClient, ::sync::Secret, SignedAccount), StationError> {
        let signed = self
            .session
            .account()
            .filter(|a| a.valid_at(now_ms()))
            .ok_or_else(|| StationError::Sync {
                code: ErrorCode::SessionExpired,
                message: "Your session ended: sign in again.".into(),
            })?;
        let (url, client) = self.client().await?;
        let token = self
            .sync
            .keys()
            .load(&self.sync.session_entry(&url))
            .await
            .map_err(keyring_error)?
            .ok_or_else(|| StationError::Sync {
                code: ErrorCode::SessionExpired,
                message: "The session is not in the keyring any more: sign in again.".into(),
            })?;
        Ok((client, token, signed))
    }

    /// A refusal that ends the session here too (expired, revoked, signed out elsewhere).
    async fn after_refusal(&self, error: ::sync::SyncError) -> StationError {
        let error = person_error(error);
        if error.code() == ErrorCode::SessionExpired {
            self.set_ended(Some(error.to_string()));
            if let Err(forget) = self.forget_account().await {
                tracing::warn!(%forget, "the ended session could not be forgotten");
            }
        }
        error
    }

    /// New recovery codes for a fresh TOTP code (the old ones are void).
    pub async fn regenerate_recovery_codes(
        &self,
        code: &str,
    ) -> Result<RecoveryCodes, StationError> {
        let (client, token, _) = self.as_person().await?;
        match client.regenerate_recovery_codes(&token, code).await {
            Ok(codes) => Ok(codes),
            Err(error) => Err(self.after_refusal(error).await),
        }
    }
}

fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn parse_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routers_words_are_shown_as_a_sentence() {
        assert_eq!(
            said("the name or password is wrong"),
            "The name or password is wrong."
        );
        assert_eq!(said(""), "");
    }

    #[test]
    fn times_round_trip() {
        let ms = 1_800_000_000_123;
        assert_eq!(parse_ms(&rfc3339_ms(ms)), Some(ms));
    }
}
