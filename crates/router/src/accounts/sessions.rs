//! Sessions: a token (kept as its hash) bound to the device that signed in, until it expires,
//! is signed out or is revoked.

use protocol::account::Account;
use sqlx::Row;

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
        let row = sqlx::query(
            "SELECT s.account_id, s.client_id, s.expires_at_ms, s.revoked_reason, a.name, a.role, a.disabled_at IS NOT NULL
             FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?",
        )
        .bind(sha256_hex(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(AuthError::SessionEnded("unknown session"))?;
        let revoked: Option<String> = row.get(3);
        if let Some(reason) = revoked {
            return Err(AuthError::SessionEnded(if reason == "signed_out" {
                "signed out"
            } else {
                "revoked by an admin"
            }));
        }
        if row.get::<i64, _>(2) <= now_ms() {
            return Err(AuthError::SessionEnded("expired"));
        }
        if row.get::<i64, _>(1) != client_id {
            let name: String = row.get(4);
            self.log(
                Some(row.get(0)),
                &name,
                Some(client_id),
                "session",
                "wrong_device",
                None,
            )
            .await;
            return Err(AuthError::SessionEnded("it was opened on another device"));
        }
        if row.get::<bool, _>(6) {
            return Err(AuthError::SessionEnded("the account was disabled"));
        }
        let role: String = row.get(5);
        Ok(Session {
            account: Account {
                id: row.get(0),
                name: row.get(4),
                role: role.parse().map_err(|_| {
                    AuthError::Invalid(format!("the stored role {role:?} is unknown"))
                })?,
            },
            client_id,
            expires_at_ms: row.get(2),
        })
    }

    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        sqlx::query("UPDATE sessions SET revoked_at = ?, revoked_reason = 'signed_out' WHERE token_hash = ? AND revoked_at IS NULL")
            .bind(crate::ledger::now_rfc3339())
            .bind(sha256_hex(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every open session of an account; answers how many.
    pub async fn revoke_sessions(&self, account_id: i64) -> Result<u64, AuthError> {
        Ok(sqlx::query("UPDATE sessions SET revoked_at = ?, revoked_reason = 'revoked' WHERE account_id = ? AND revoked_at IS NULL")
            .bind(crate::ledger::now_rfc3339())
            .bind(account_id)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
