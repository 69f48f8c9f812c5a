//! `Idempotency-Key`: the first request with a key runs; a repeat with the same body gets the
//! stored answer (`Idempotent-Replayed: true`) and reaches no backend, so it is never charged
//! twice; the same key with another body is 422; a repeat while the first still runs is 409.
//! An answer that says "try later" (429, 5xx) is not kept: the key is free for the retry.
//! Keys are kept 24 hours.

use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use time::OffsetDateTime;

use crate::ledger::now_rfc3339;

/// How long a key and its answer are kept.
pub const KEEP: time::Duration = time::Duration::hours(24);
/// A key still "running" after this long belongs to a request that died with the process.
const ABANDONED: time::Duration = time::Duration::minutes(10);

#[derive(Debug)]
pub enum Claim {
    /// This request runs; `finish` records its answer.
    Run,
    Replay {
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
    },
    /// The same key is running now.
    InProgress,
    /// The same key came with another body.
    Mismatch,
}

pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub async fn claim(
    pool: &SqlitePool,
    client: i64,
    key: &str,
    hash: &str,
) -> Result<Claim, sqlx::Error> {
    let now = OffsetDateTime::now_utc();
    let mut tx = pool.begin().await?;
    // expired keys, and one left running by a process that died, are free again
    sqlx::query("DELETE FROM idempotency WHERE client_id = ? AND key = ? AND (created_at < ? OR (state = 'running' AND updated_at < ?))")
        .bind(client)
        .bind(key)
        .bind(rfc3339(now - KEEP))
        .bind(rfc3339(now - ABANDONED))
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency (client_id, key, body_hash, state, created_at, updated_at) VALUES (?, ?, ?, 'running', ?, ?)
         ON CONFLICT (client_id, key) DO NOTHING",
    )
    .bind(client)
    .bind(key)
    .bind(hash)
    .bind(rfc3339(now))
    .bind(rfc3339(now))
    .execute(&mut *tx)
    .await?;
    let claim = if inserted.rows_affected() == 1 {
        Claim::Run
    } else {
        let (stored_hash, state, status, content_type, body): (String, String, Option<i64>, Option<String>, Option<Vec<u8>>) =
            sqlx::query_as("SELECT body_hash, state, status, content_type, response FROM idempotency WHERE client_id = ? AND key = ?")
                .bind(client)
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        if stored_hash != hash {
            Claim::Mismatch
        } else if state == "running" {
            Claim::InProgress
        } else {
            Claim::Replay {
                status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                content_type,
                body: body.unwrap_or_default(),
            }
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Keeps the answer for repeats, or frees the key when the answer says "try later".
pub async fn finish(
    pool: &SqlitePool,
    client: i64,
    key: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), sqlx::Error> {
    if status == 429 || status >= 500 {
        sqlx::query("DELETE FROM idempotency WHERE client_id = ? AND key = ?")
            .bind(client)
            .bind(key)
            .execute(pool)
            .await?;
        return Ok(());
    }
    sqlx::query("UPDATE idempotency SET state = 'done', status = ?, content_type = ?, response = ?, updated_at = ? WHERE client_id = ? AND key = ?")
        .bind(i64::from(status))
        .bind(content_type)
        .bind(body)
        .bind(now_rfc3339())
        .bind(client)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Drops keys older than 24 h (run now and then).
pub async fn sweep(pool: &SqlitePool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM idempotency WHERE created_at < ?")
        .bind(rfc3339(OffsetDateTime::now_utc() - KEEP))
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
