//! Sessions: a token (kept as its hash) bound to the device that signed in, until it expires,
//! is signed out or is revoked.

use protocol::account::Account;

use super::{now_ms, rfc3339_ms, sha256_hex, Accounts, AuthError};

/// A checked session.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub client_id: i64,
    pub expires_at_ms: i64,
}

impl Session {
    pub fn expires_at(&self) -> String {
        rfc3339_ms(self.expires_at_ms)
    }
}

impl Accounts {
    /// The session of `token` for a request from `client_id`.
    pub async fn session(&self, token: &str, client_id: i64) -> Result<Session, AuthError> {
        type SessionColumns = (i64, i64, i64, Option<String>, String, String, bool);
        let row: SessionColumns = crate::with_db!(&self.db, pool => sqlx::query_as(
            "SELECT s.account_id, s.client_id, s.expires_at_ms, s.revoked_reason, a.name, a.role, a.disabled_at IS NOT NULL
             FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1",
        )
        .bind(sha256_hex(token))
        .fetch_optional(pool)
        .await)?
        .ok_or(AuthError::SessionEnded("unknown session"))?;
        let (account_id, opened_on, expires_at_ms, revoked, name, role, disabled) = row;
        if let Some(reason) = revoked {
            return Err(AuthError::SessionEnded(if reason == "signed_out" {
                "signed out"
            } else {
                "revoked by an admin"
            }));
        }
        if expires_at_ms <= now_ms() {
            return Err(AuthError::SessionEnded("expired"));
        }
        if opened_on != client_id {
            self.log(
                Some(account_id),
                &name,
                Some(client_id),
                "session",
                "wrong_device",
                None,
            )
            .await;
            return Err(AuthError::SessionEnded("it was opened on another device"));
        }
        if disabled {
            return Err(AuthError::SessionEnded("the account was disabled"));
        }
        Ok(Session {
            account: Account {
                id: account_id,
                name,
                role: role.parse().map_err(|_| {
                    AuthError::Invalid(format!("the stored role {role:?} is unknown"))
                })?,
            },
            client_id,
            expires_at_ms,
        })
    }

    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        crate::with_db!(&self.db, pool => sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = 'signed_out' WHERE token_hash = $2 AND revoked_at IS NULL")
            .bind(crate::ledger::now_rfc3339())
            .bind(sha256_hex(token))
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Ends every open session of an account; answers how many.
    pub async fn revoke_sessions(&self, account_id: i64) -> Result<u64, AuthError> {
        Ok(
            crate::with_db!(&self.db, pool => sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = 'revoked' WHERE account_id = $2 AND revoked_at IS NULL")
            .bind(crate::ledger::now_rfc3339())
            .bind(account_id)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?,
        )
    }
}
