//! Recovery codes: 10 single-use codes shown once at enrolment, kept as hashes; new ones void
//! the old ones.

use super::{
    locked, now_ms, random_bytes, sha256_hex, totp, Accounts, AuthError, Session, RECOVERY_CODES,
};

/// A recovery code as typed: case, spaces and dashes do not matter.
pub(super) fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// 10 codes of 12 characters from 32 unambiguous ones (60 random bits each: a fast hash is
/// enough to keep them, as for API keys).
fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = random_bytes::<12>();
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

impl Accounts {
    pub(super) async fn replace_recovery_codes(
        &self,
        account_id: i64,
    ) -> Result<Vec<String>, AuthError> {
        let codes = new_recovery_codes();
        crate::with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            // the account's row locked first (a write that changes nothing): two replacements
            // at once follow one another, and the later one's DELETE sees the earlier's codes
            sqlx::query("UPDATE accounts SET id = id WHERE id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            for code in &codes {
                sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                    .bind(account_id)
                    .bind(sha256_hex(&normalize_recovery(code)))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(codes)
    }

    /// New recovery codes for a signed-in person who types a fresh TOTP code; the old ones are
    /// void.
    pub async fn regenerate_recovery_codes(
        &self,
        session: &Session,
        code: &str,
    ) -> Result<Vec<String>, AuthError> {
        let sealer = self.sealer()?.clone();
        let now = now_ms();
        let row = self
            .row_by_id(session.account.id)
            .await?
            .ok_or(AuthError::SessionEnded("the account was removed"))?;
        if let Some(until) = row.throttle.locked_until(now) {
            return Err(locked(until, now));
        }
        let sealed = row
            .totp_sealed
            .as_deref()
            .ok_or(AuthError::BadCode { skew_s: None })?;
        let secret = sealer.open(sealed, &row.account.id.to_string())?;
        let unix = u64::try_from(now / 1000).unwrap_or_default();
        let accepted = match totp::check(&secret, code, unix, row.totp_last_step) {
            totp::CodeCheck::Accepted(step) => {
                crate::with_db!(&self.db, pool => sqlx::query("UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)")
                    .bind(i64::try_from(step).unwrap_or(i64::MAX))
                    .bind(row.account.id)
                    .bind(i64::try_from(step).unwrap_or(i64::MAX))
                    .execute(pool)
                    .await.map(|done| done.rows_affected()))?
                    == 1
            }
            _ => false,
        };
        if !accepted {
            let lock = self.fail(&row, now).await?;
            self.log(
                Some(row.account.id),
                &row.account.name,
                Some(session.client_id),
                "recovery_codes",
                "wrong",
                None,
            )
            .await;
            return Err(lock.unwrap_or(AuthError::BadCode { skew_s: None }));
        }
        let codes = self.replace_recovery_codes(row.account.id).await?;
        self.log(
            Some(row.account.id),
            &row.account.name,
            Some(session.client_id),
            "recovery_codes",
            "ok",
            None,
        )
        .await;
        Ok(codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            assert_eq!(
                normalize_recovery(&code.to_lowercase().replace('-', " ")),
                normalize_recovery(code)
            );
        }
    }
}
