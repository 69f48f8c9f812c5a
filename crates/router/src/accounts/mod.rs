//! People's accounts: creation, sign-in (password, then a TOTP code or a recovery code, under
//! a short challenge), TOTP enrolment, sessions bound to the device that opened them, the
//! throttle on failures, and the log of every attempt (never a secret in it).
//!
//! Just past 600 lines: the two sign-in steps and enrolment share the throttle, the challenge
//! and the log, and are checked together for what each refusal reveals.

mod password;
mod recovery;
pub mod seal;
mod sessions;
mod throttle;
pub mod totp;

use protocol::account::{Account, LoginChallenge, NextStep, Role, SignedIn};
use sha2::{Digest, Sha256};

pub use password::{LANES, MEMORY_KIB, MIN_CHARS, PASSES};
pub use seal::{SealError, Sealer, SECRET_KEY_ENV};
pub use sessions::Session;

use recovery::normalize_recovery;
pub use throttle::{Throttle, MAX_FAILURES, WINDOW_MS};

/// How long the second step may take after the password.
pub const CHALLENGE_MS: i64 = 5 * 60 * 1000;
/// How long a session lasts, whatever happens.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;
pub const RECOVERY_CODES: usize = 10;

/// Why a sign-in or a session was refused: each says what the person can do, and no more.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("accounts are off on this router: its operator must set {SECRET_KEY_ENV}")]
    Off,
    #[error("the name or password is wrong")]
    BadCredentials,
    #[error("too many failed sign-ins: this account is locked until {until}")]
    Locked { until: String, retry_after_s: u64 },
    #[error("{}", bad_code_message(*.skew_s))]
    BadCode { skew_s: Option<i64> },
    #[error("that recovery code is wrong or was used already")]
    BadRecoveryCode,
    #[error("the sign-in took too long or was finished already: start again with the password")]
    ChallengeExpired,
    #[error("the session ended ({0}): sign in again")]
    SessionEnded(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the account store failed: {0}")]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Seal(#[from] SealError),
}

fn bad_code_message(skew_s: Option<i64>) -> String {
    match skew_s {
        Some(s) => format!(
            "that code is not valid now: the authenticator's clock looks {} minute(s) {}; set it to the network time and try the next code",
            (s.unsigned_abs() + 30) / 60,
            if s < 0 { "behind" } else { "ahead" }
        ),
        None => "that code is wrong or was used already: wait for the next code".into(),
    }
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default(),
    )
    .unwrap_or(i64::MAX)
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

/// One row of `accounts`, as sign-in needs it.
/// An `accounts` row as selected: id, name, role, password hash, sealed TOTP secret, TOTP
/// confirmed, last TOTP step, failures, failures since, locked until, lockouts, disabled.
type AccountColumns = (
    i64,
    String,
    String,
    String,
    Option<String>,
    bool,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    bool,
);

#[derive(Debug, Clone)]
struct AccountRow {
    account: Account,
    password_hash: String,
    totp_sealed: Option<String>,
    totp_confirmed: bool,
    totp_last_step: Option<u64>,
    throttle: Throttle,
    disabled: bool,
}

/// The accounts over the router's database; `sealer` none: sign-in is off (accounts can still
/// be created).
#[derive(Debug, Clone)]
pub struct Accounts {
    db: crate::db::Db,
    sealer: Option<Sealer>,
}

impl Accounts {
    pub fn new(db: crate::db::Db, sealer: Option<Sealer>) -> Self {
        Self { db, sealer }
    }

    fn sealer(&self) -> Result<&Sealer, AuthError> {
        self.sealer.as_ref().ok_or(AuthError::Off)
    }

    pub async fn create(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<Account, AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(AuthError::Invalid(
                "a name is 1 to 64 characters, without control characters".into(),
            ));
        }
        if let Some(why) = password::weakness(password) {
            return Err(AuthError::Invalid(why));
        }
        let hash = password::hash(password.to_owned())
            .await
            .map_err(AuthError::Invalid)?;
        let inserted: Result<i64, sqlx::Error> = crate::with_db!(&self.db, pool => sqlx::query_scalar(
            "INSERT INTO accounts (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(crate::ledger::now_rfc3339())
        .fetch_one(pool)
        .await);
        match inserted {
            Ok(id) => {
                let account = Account {
                    id,
                    name: name.to_owned(),
                    role,
                };
                self.log(
                    Some(account.id),
                    name,
                    None,
                    "admin",
                    "created",
                    Some(role.as_str()),
                )
                .await;
                Ok(account)
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AuthError::Invalid(
                format!("an account named {name:?} exists already"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(&self) -> Result<Vec<Account>, AuthError> {
        let rows: Vec<(i64, String, String)> = crate::with_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, name, role FROM accounts WHERE disabled_at IS NULL ORDER BY name",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .iter()
            .filter_map(|(id, name, role)| {
                Some(Account {
                    id: *id,
                    name: name.clone(),
                    role: role.parse().ok()?,
                })
            })
            .collect())
    }

    async fn row_by_name(&self, name: &str) -> Result<Option<AccountRow>, AuthError> {
        let row: Option<AccountColumns> = crate::with_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, name, role, password_hash, totp_sealed, totp_confirmed, totp_last_step, failures,
                    failures_since_ms, locked_until_ms, lockouts, disabled_at IS NOT NULL
             FROM accounts WHERE lower(name) = lower($1)",
        )
        .bind(name.trim())
        .fetch_optional(pool)
        .await)?;
        self.to_row(row)
    }

    async fn row_by_id(&self, id: i64) -> Result<Option<AccountRow>, AuthError> {
        let row: Option<AccountColumns> = crate::with_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, name, role, password_hash, totp_sealed, totp_confirmed, totp_last_step, failures,
                    failures_since_ms, locked_until_ms, lockouts, disabled_at IS NOT NULL
             FROM accounts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        self.to_row(row)
    }

    #[allow(clippy::unused_self)]
    fn to_row(&self, row: Option<AccountColumns>) -> Result<Option<AccountRow>, AuthError> {
        let Some((
            id,
            name,
            role,
            password_hash,
            totp_sealed,
            totp_confirmed,
            totp_last_step,
            failures,
            failures_since_ms,
            locked_until_ms,
            lockouts,
            disabled,
        )) = row
        else {
            return Ok(None);
        };
        let role = role
            .parse()
            .map_err(|_| AuthError::Invalid(format!("the stored role {role:?} is unknown")))?;
        Ok(Some(AccountRow {
            account: Account { id, name, role },
            password_hash,
            totp_sealed,
            totp_confirmed,
            totp_last_step: totp_last_step.and_then(|s| u64::try_from(s).ok()),
            throttle: Throttle {
                failures: u32::try_from(failures).unwrap_or(0),
                failures_since_ms,
                locked_until_ms,
                lockouts: u32::try_from(lockouts).unwrap_or(0),
            },
            disabled,
        }))
    }

    /// Records an attempt: in the ledger's `auth_events` and the log, never with a secret.
    async fn log(
        &self,
        account_id: Option<i64>,
        name: &str,
        client_id: Option<i64>,
        event: &str,
        outcome: &str,
        detail: Option<&str>,
    ) {
        let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        tracing::info!(account = ?account_id, %name, client = ?client_id, event, outcome, "sign-in event");
        let written = crate::with_db!(&self.db, pool => sqlx::query(
            "INSERT INTO auth_events (at, account_id, name, client_id, event, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::ledger::now_rfc3339())
        .bind(account_id)
        .bind(&name)
        .bind(client_id)
        .bind(event)
        .bind(outcome)
        .bind(detail)
        .execute(pool)
        .await.map(|done| done.rows_affected()));
        if let Err(error) = written {
            tracing::error!(%error, "a sign-in event could not be logged");
        }
    }

    /// Counts a failure; answers the lock when this one started it. A compare-and-set on the
    /// state read: failures counted at the same moment (parallel guesses, other replicas) each
    /// count, where a plain write would keep one of them and let the guesses pass the lock.
    async fn fail(&self, row: &AccountRow, now: i64) -> Result<Option<AuthError>, AuthError> {
        let mut seen = row.throttle;
        loop {
            let next = seen.after_failure(now);
            let written = crate::with_db!(&self.db, pool => sqlx::query(
                "UPDATE accounts SET failures = $1, failures_since_ms = $2, locked_until_ms = $3, lockouts = $4
                 WHERE id = $5 AND failures = $6 AND failures_since_ms IS NOT DISTINCT FROM $7
                   AND locked_until_ms IS NOT DISTINCT FROM $8 AND lockouts = $9",
            )
            .bind(i64::from(next.failures))
            .bind(next.failures_since_ms)
            .bind(next.locked_until_ms)
            .bind(i64::from(next.lockouts))
            .bind(row.account.id)
            .bind(i64::from(seen.failures))
            .bind(seen.failures_since_ms)
            .bind(seen.locked_until_ms)
            .bind(i64::from(seen.lockouts))
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
            if written == 1 {
                return Ok(next.locked_until(now).map(|until| locked(until, now)));
            }
            // another failure (or a success) was written since: count on top of it
            match self.row_by_id(row.account.id).await? {
                Some(again) => seen = again.throttle,
                None => return Ok(None),
            }
        }
    }

    /// The password step: a challenge for the code (or for enrolling an authenticator).
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client_id: i64,
    ) -> Result<LoginChallenge, AuthError> {
        let sealer = self.sealer()?.clone();
        let now = now_ms();
        let row = match self.row_by_name(name).await? {
            Some(row) if !row.disabled => row,
            found => {
                // the same work as for a real account: the time taken says nothing
                let _ = password::verify(password.to_owned(), password::dummy_hash().await).await;
                let outcome = if found.is_some() {
                    "disabled"
                } else {
                    "unknown_account"
                };
                self.log(
                    found.map(|r| r.account.id),
                    name,
                    Some(client_id),
                    "password",
                    outcome,
                    None,
                )
                .await;
                return Err(AuthError::BadCredentials);
            }
        };
        if let Some(until) = row.throttle.locked_until(now) {
            self.log(
                Some(row.account.id),
                name,
                Some(client_id),
                "password",
                "locked",
                None,
            )
            .await;
            return Err(locked(until, now));
        }
        if !password::verify(password.to_owned(), row.password_hash.clone()).await {
            let lock = self.fail(&row, now).await?;
            self.log(
                Some(row.account.id),
                name,
                Some(client_id),
                "password",
                "wrong",
                None,
            )
            .await;
            return Err(lock.unwrap_or(AuthError::BadCredentials));
        }
        let challenge = hex::encode(random_bytes::<32>());
        let enrol = !row.totp_confirmed;
        let mut otpauth_url = None;
        if enrol {
            // a new secret for each enrolment attempt: one shown before and not confirmed is void
            let secret = totp::new_secret();
            crate::with_db!(&self.db, pool => sqlx::query("UPDATE accounts SET totp_sealed = $1, totp_last_step = NULL WHERE id = $2 AND totp_confirmed = FALSE")
                .bind(sealer.seal(&secret, &row.account.id.to_string()))
                .bind(row.account.id)
                .execute(pool)
                .await.map(|done| done.rows_affected()))?;
            otpauth_url = Some(totp::otpauth_url(&secret, &row.account.name));
        }
        let expires = now + CHALLENGE_MS;
        crate::with_db!(&self.db, pool => sqlx::query("INSERT INTO login_challenges (id_hash, account_id, client_id, enrol, expires_at_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(&challenge))
            .bind(row.account.id)
            .bind(client_id)
            .bind(enrol)
            .bind(expires)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        self.log(
            Some(row.account.id),
            name,
            Some(client_id),
            "password",
            "ok",
            enrol.then_some("enrol_totp"),
        )
        .await;
        Ok(LoginChallenge {
            challenge,
            next: if enrol {
                NextStep::EnrolTotp
            } else {
                NextStep::Code
            },
            expires_at: rfc3339_ms(expires),
            otpauth_url,
        })
    }

    /// The second step: a TOTP code (which confirms the authenticator on an enrolment
    /// challenge) or a recovery code; answers a new session.
    pub async fn second_factor(
        &self,
        challenge: &str,
        code: Option<&str>,
        recovery_code: Option<&str>,
        client_id: i64,
    ) -> Result<SignedIn, AuthError> {
        let sealer = self.sealer()?.clone();
        let now = now_ms();
        let found: Option<(i64, bool)> = crate::with_db!(&self.db, pool => sqlx::query_as(
            "SELECT account_id, enrol FROM login_challenges WHERE id_hash = $1 AND client_id = $2 AND NOT used AND expires_at_ms > $3",
        )
        .bind(sha256_hex(challenge))
        .bind(client_id)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        let Some(found) = found else {
            self.log(None, "", Some(client_id), "code", "expired", None)
                .await;
            return Err(AuthError::ChallengeExpired);
        };
        let (account_id, enrol) = found;
        let row = self
            .row_by_id(account_id)
            .await?
            .filter(|r| !r.disabled)
            .ok_or(AuthError::ChallengeExpired)?;
        let name = row.account.name.clone();
        if let Some(until) = row.throttle.locked_until(now) {
            self.log(
                Some(account_id),
                &name,
                Some(client_id),
                "code",
                "locked",
                None,
            )
            .await;
            return Err(locked(until, now));
        }
        let mut recovery_codes = Vec::new();
        let mut recovery_codes_left = None;
        match (code, recovery_code) {
            (Some(code), None) => {
                let sealed = row
                    .totp_sealed
                    .as_deref()
                    .ok_or(AuthError::ChallengeExpired)?;
                let secret = sealer.open(sealed, &account_id.to_string())?;
                let unix = u64::try_from(now / 1000).unwrap_or_default();
                let refused = match totp::check(&secret, code, unix, row.totp_last_step) {
                    totp::CodeCheck::Accepted(step) => {
                        // one use per step, also against a second request racing this one
                        let taken = crate::with_db!(&self.db, pool => sqlx::query(
                            "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)",
                        )
                        .bind(i64::try_from(step).unwrap_or(i64::MAX))
                        .bind(account_id)
                        .bind(i64::try_from(step).unwrap_or(i64::MAX))
                        .execute(pool)
                        .await.map(|done| done.rows_affected()))?;
                        (taken == 0).then_some(("reused", None))
                    }
                    totp::CodeCheck::Reused => Some(("reused", None)),
                    totp::CodeCheck::Skewed(s) => Some(("skewed", Some(s))),
                    totp::CodeCheck::Wrong => Some(("wrong", None)),
                };
                if let Some((outcome, skew_s)) = refused {
                    let lock = self.fail(&row, now).await?;
                    let event = if enrol { "enrol" } else { "code" };
                    let detail = skew_s.map(|s| format!("clock off by {s} s"));
                    self.log(
                        Some(account_id),
                        &name,
                        Some(client_id),
                        event,
                        outcome,
                        detail.as_deref(),
                    )
                    .await;
                    return Err(lock.unwrap_or(AuthError::BadCode { skew_s }));
                }
                if enrol {
                    // only the secret this code was checked against: a sign-in that began
                    // meanwhile may have put a new one in its place, unknown to this authenticator
                    let confirmed = crate::with_db!(&self.db, pool => sqlx::query(
                        "UPDATE accounts SET totp_confirmed = TRUE WHERE id = $1 AND totp_sealed = $2 AND totp_confirmed = FALSE",
                    )
                        .bind(account_id)
                        .bind(sealed)
                        .execute(pool)
                        .await.map(|done| done.rows_affected()))?;
                    if confirmed == 0 {
                        return Err(AuthError::ChallengeExpired);
                    }
                    recovery_codes = self.replace_recovery_codes(account_id).await?;
                }
            }
            (None, Some(recovery)) if !enrol => {
                let used = crate::with_db!(&self.db, pool => sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(crate::ledger::now_rfc3339())
                .bind(account_id)
                .bind(sha256_hex(&normalize_recovery(recovery)))
                .execute(pool)
                .await.map(|done| done.rows_affected()))?;
                if used == 0 {
                    let lock = self.fail(&row, now).await?;
                    self.log(
                        Some(account_id),
                        &name,
                        Some(client_id),
                        "recovery_code",
                        "wrong",
                        None,
                    )
                    .await;
                    return Err(lock.unwrap_or(AuthError::BadRecoveryCode));
                }
                let left: i64 = crate::with_db!(&self.db, pool => sqlx::query_scalar(
                    "SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
                )
                .bind(account_id)
                .fetch_one(pool)
                .await)?;
                recovery_codes_left = Some(u32::try_from(left).unwrap_or(0));
            }
            (None, Some(_)) => {
                return Err(AuthError::Invalid(
                    "an authenticator is enrolled with a code from it, not a recovery code".into(),
                ))
            }
            _ => {
                return Err(AuthError::Invalid(
                    "send either a code or a recovery code".into(),
                ))
            }
        }
        let taken = crate::with_db!(&self.db, pool => sqlx::query("UPDATE login_challenges SET used = TRUE WHERE id_hash = $1 AND NOT used")
                .bind(sha256_hex(challenge))
                .execute(pool)
                .await.map(|done| done.rows_affected()))?;
        if taken == 0 {
            return Err(AuthError::ChallengeExpired);
        }
        let fresh = Throttle::after_success();
        crate::with_db!(&self.db, pool => sqlx::query("UPDATE accounts SET failures = 0, failures_since_ms = NULL, locked_until_ms = NULL, lockouts = $1 WHERE id = $2")
            .bind(i64::from(fresh.lockouts))
            .bind(account_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        let token = hex::encode(random_bytes::<32>());
        let expires = now + SESSION_MS;
        crate::with_db!(&self.db, pool => sqlx::query("INSERT INTO sessions (token_hash, account_id, client_id, created_at, expires_at_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(&token))
            .bind(account_id)
            .bind(client_id)
            .bind(crate::ledger::now_rfc3339())
            .bind(expires)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        let event = match (enrol, recovery_code.is_some()) {
            (true, _) => "enrol",
            (false, true) => "recovery_code",
            (false, false) => "code",
        };
        self.log(Some(account_id), &name, Some(client_id), event, "ok", None)
            .await;
        Ok(SignedIn {
            token,
            account: row.account,
            expires_at: rfc3339_ms(expires),
            recovery_codes,
            recovery_codes_left,
        })
    }

    pub async fn id_of(&self, name: &str) -> Result<Option<i64>, AuthError> {
        Ok(
            crate::with_db!(&self.db, pool => sqlx::query_scalar("SELECT id FROM accounts WHERE lower(name) = lower($1)")
            .bind(name.trim())
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// For a person who lost the authenticator and the recovery codes (the operator's command):
    /// the next sign-in enrols a new one; open sessions end.
    pub async fn reset_totp(&self, account_id: i64) -> Result<(), AuthError> {
        crate::with_db!(&self.db, pool => sqlx::query("UPDATE accounts SET totp_sealed = NULL, totp_confirmed = FALSE, totp_last_step = NULL WHERE id = $1")
            .bind(account_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        crate::with_db!(&self.db, pool => sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        self.revoke_sessions(account_id).await?;
        Ok(())
    }

    /// Opens a locked account (the operator's command).
    pub async fn unlock(&self, account_id: i64) -> Result<(), AuthError> {
        crate::with_db!(&self.db, pool => sqlx::query("UPDATE accounts SET failures = 0, failures_since_ms = NULL, locked_until_ms = NULL, lockouts = 0 WHERE id = $1")
            .bind(account_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }
}

fn locked(until_ms: i64, now_ms: i64) -> AuthError {
    AuthError::Locked {
        until: rfc3339_ms(until_ms),
        retry_after_s: u64::try_from((until_ms - now_ms + 999) / 1000).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_message_says_which_way() {
        assert!(bad_code_message(Some(-180)).contains("3 minute(s) behind"));
        assert!(bad_code_message(Some(300)).contains("5 minute(s) ahead"));
        assert!(bad_code_message(None).contains("wait for the next code"));
    }
}
