//! Stations as devices: an admin creates a one-time enrolment code; a station trades it for its
//! own device key (a client key of kind `device`), once; the key can be revoked. Codes and keys
//! are kept as sha256 hashes only.

use time::OffsetDateTime;

use crate::ledger::{key_hash, now_rfc3339, Client};

#[derive(Debug, PartialEq, Eq)]
pub enum Enrolment {
    /// `key`: the key the router made (none when the station brought its own).
    Enrolled { client: Client, key: Option<String> },
    /// A repeat of an enrolment that succeeded, with the same station-made key.
    Repeated { client: Client },
    /// No such code, or it expired.
    Invalid,
    /// The code enrolled a device already.
    Used,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A new one-time code, valid for `hours`. The router makes it and returns it once, or the
/// admin's tool made it and sends only its hash (`code_sha256`: then nothing secret is answered,
/// and the request can be repeated safely).
pub async fn create_code(
    db: &crate::db::Db,
    note: Option<&str>,
    hours: i64,
    code_sha256: Option<&str>,
) -> Result<(Option<String>, String), sqlx::Error> {
    crate::with_db!(db, pool => {
        let (hash, made) = match code_sha256 {
            Some(hash) => (hash.to_owned(), None),
            None => {
                let code = format!("enr-{}", hex::encode(rand::random::<[u8; 16]>()));
                (key_hash(&code), Some(code))
            }
        };
        let now = OffsetDateTime::now_utc();
        let expires = rfc3339(now + time::Duration::hours(hours));
        sqlx::query(
            "INSERT INTO enrolment_codes (code_hash, note, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(note)
        .bind(rfc3339(now))
        .bind(&expires)
        .execute(pool)
        .await?;
        Ok((made, expires))
    })
}

/// Trades a code for a device key, in one transaction: a code enrols one device, ever.
/// `key_sha256`: the hash of a key the station made (the router then never holds the key, and
/// a repeat with the same hash is answered again).
pub async fn enrol(
    db: &crate::db::Db,
    code: &str,
    name: &str,
    key_sha256: Option<&str>,
) -> Result<Enrolment, sqlx::Error> {
    crate::with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // the write comes first: a read first would pin a snapshot, and the ledger's writer
        // committing in between turns the later write into "database is locked" at once (SQLite
        // does not wait for a snapshot that went stale); a write waits its turn (busy_timeout)
        sqlx::query("UPDATE enrolment_codes SET code_hash = code_hash WHERE code_hash = $1")
            .bind(key_hash(code))
            .execute(&mut *tx)
            .await?;
        let row: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT expires_at, used_at, device_id FROM enrolment_codes WHERE code_hash = $1",
        )
        .bind(key_hash(code))
        .fetch_optional(&mut *tx)
        .await?;
        let now = now_rfc3339();
        let outcome = match row {
            None => Enrolment::Invalid,
            Some((_, Some(_), device)) => {
                // the same station again, with the same key: its answer was lost on the way
                let same: Option<(i64, String)> = match (key_sha256, device) {
                    (Some(hash), Some(id)) => {
                        sqlx::query_as("SELECT id, name FROM clients WHERE id = $1 AND key_hash = $2 AND revoked_at IS NULL")
                            .bind(id)
                            .bind(hash)
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                    _ => None,
                };
                match same {
                    Some((id, name)) => Enrolment::Repeated {
                        client: Client { id, name },
                    },
                    None => Enrolment::Used,
                }
            }
            Some((expires, None, _)) if expires < now => Enrolment::Invalid,
            Some(_) => {
                let (hash, made) = match key_sha256 {
                    Some(hash) => (hash.to_owned(), None),
                    None => {
                        let key = format!("rd-{}", hex::encode(rand::random::<[u8; 32]>()));
                        (key_hash(&key), Some(key))
                    }
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO clients (name, key_hash, created_at, kind) VALUES ($1, $2, $3, 'device') RETURNING id",
                )
                .bind(name)
                .bind(hash)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?;
                // the code's row is claimed only if still unused: two racing enrolments cannot both win
                let claimed = sqlx::query(
                    "UPDATE enrolment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3 AND used_at IS NULL",
                )
                .bind(&now)
                .bind(id)
                .bind(key_hash(code))
                .execute(&mut *tx)
                .await?;
                if claimed.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(Enrolment::Used);
                }
                Enrolment::Enrolled {
                    client: Client {
                        id,
                        name: name.to_owned(),
                    },
                    key: made,
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    })
}
