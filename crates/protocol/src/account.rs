//! People's accounts on the router (`/station/v1/auth`): sign-in with a password and then a
//! TOTP code (or a recovery code), TOTP enrolment, sessions bound to the device that opened
//! them. The router verifies everything; a station keeps only the session token (in the OS
//! keyring), never a password or a TOTP secret.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::wire_enum::wire_enum;

wire_enum! {
    /// What an account may do: reviewers decide review tasks, auditors run store visits,
    /// admins do both and see the dashboards.
    #[derive(ToSchema)]
    pub enum Role {
        Reviewer => "reviewer",
        Auditor => "auditor",
        Admin => "admin",
    }
}

wire_enum! {
    /// What the router asks for after a right password.
    #[derive(ToSchema)]
    pub enum NextStep {
        /// A code from the authenticator app (or a recovery code).
        Code => "code",
        /// The account has no authenticator yet: scan the `otpauth` URL, then confirm a code.
        EnrolTotp => "enrol_totp",
    }
}

/// `POST /station/v1/auth/login`, with the station's device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Login {
    pub name: String,
    pub password: String,
}

/// The password was right: the second step, under a challenge that lasts a few minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct LoginChallenge {
    pub challenge: String,
    pub next: NextStep,
    /// RFC 3339.
    pub expires_at: String,
    /// For `enrol_totp`: the `otpauth://totp/…` URL to show as a QR code (it holds the secret:
    /// shown, never stored by the station).
    pub otpauth_url: Option<String>,
}

/// `POST /station/v1/auth/code`: the second factor for a challenge, either a TOTP code or one
/// of the account's recovery codes. For a challenge of `enrol_totp`, the first code confirms
/// the authenticator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecondFactor {
    pub challenge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<String>,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Account {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// A session: the token goes to the station's keyring, the rest is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignedIn {
    pub token: String,
    pub account: Account,
    /// RFC 3339: the session ends then, whatever happens.
    pub expires_at: String,
    /// After enrolment (or when regenerated): 10 single-use recovery codes, shown once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
    /// Recovery codes left after a recovery code was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_codes_left: Option<u32>,
}

/// `GET /station/v1/auth/session`: the session of `X-Session-Token` as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionState {
    pub account: Account,
    pub expires_at: String,
}

/// `POST /admin/v1/users`: an admin adds an account (the person enrols TOTP at first sign-in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewAccount {
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// `POST /station/v1/auth/recovery-codes`: a fresh TOTP code proves the person is there; the
/// old codes are void once the new ones are made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegenerateRecovery {
    pub code: String,
}

/// New recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// The header a person's requests carry beside the device key.
pub const SESSION_HEADER: &str = "x-session-token";
