//! The router as a witness of each station's decision chain: a station sends its chain's head
//! (how many decisions, the last one's hash) at every sync, and the router keeps every head it
//! was shown. A station's chain only grows, so a head with the same count and another hash, or
//! with fewer decisions than one shown before, means the history was rewritten: it is kept all
//! the same (it is evidence) and answered as a divergence.

use protocol::station_api::{AuditHead, WitnessedHead};

use crate::ledger::now_rfc3339;

#[derive(Debug, PartialEq, Eq)]
pub enum Witnessed {
    /// Not shown before; when it was received.
    New(WitnessedHead),
    /// Shown before: as first received.
    Repeat(WitnessedHead),
    /// It contradicts `earlier`, a head this station showed before.
    Diverged {
        head: WitnessedHead,
        earlier: WitnessedHead,
    },
}

type HeadRow = (i64, i64, String, String);

fn witnessed((decisions, last_id, last_hash, received_at): HeadRow) -> WitnessedHead {
    WitnessedHead {
        head: AuditHead {
            decisions: u64::try_from(decisions).unwrap_or_default(),
            last_id,
            last_hash,
        },
        received_at,
    }
}

/// Keeps `head` (once) and says whether it agrees with the heads `device` showed before.
/// `decisions` is at most `i64::MAX` (checked by the caller).
pub async fn witness(
    db: &crate::db::Db,
    device: i64,
    head: &AuditHead,
) -> Result<Witnessed, sqlx::Error> {
    crate::with_db!(db, pool => {
        let decisions = i64::try_from(head.decisions).unwrap_or(i64::MAX);
        let mut tx = pool.begin().await?;
        // the device's row locked first (a write that changes nothing): one device's heads are
        // written one at a time, so their ids are in commit order and `heads`' count of those
        // read is a cursor that never skips one committed late (PostgreSQL hands ids out
        // before commit)
        sqlx::query("UPDATE clients SET id = id WHERE id = $1")
            .bind(device)
            .execute(&mut *tx)
            .await?;
        let inserted: Option<HeadRow> = sqlx::query_as(
            "INSERT INTO audit_heads (device_id, decisions, last_id, last_hash, received_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (device_id, decisions, last_hash) DO NOTHING
         RETURNING decisions, last_id, last_hash, received_at",
        )
        .bind(device)
        .bind(decisions)
        .bind(head.last_id)
        .bind(&head.last_hash)
        .bind(now_rfc3339())
        .fetch_optional(&mut *tx)
        .await?;
        let new = inserted.is_some();
        let stored = match inserted {
            Some(row) => row,
            None => {
                sqlx::query_as(
                    "SELECT decisions, last_id, last_hash, received_at FROM audit_heads
                     WHERE device_id = $1 AND decisions = $2 AND last_hash = $3",
                )
                .bind(device)
                .bind(decisions)
                .bind(&head.last_hash)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let contradicted: Option<HeadRow> = sqlx::query_as(
            "SELECT decisions, last_id, last_hash, received_at FROM audit_heads
         WHERE device_id = $1 AND ((decisions = $2 AND last_hash <> $3) OR decisions > $4)
         ORDER BY id LIMIT 1",
        )
        .bind(device)
        .bind(decisions)
        .bind(&head.last_hash)
        .bind(decisions)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let head = witnessed(stored);
        Ok(match contradicted {
            Some(earlier) => Witnessed::Diverged {
                head,
                earlier: witnessed(earlier),
            },
            None if new => Witnessed::New(head),
            None => Witnessed::Repeat(head),
        })
    })
}

/// The heads `device` showed, oldest first, after the first `skip` (heads are only ever added,
/// so the count already read is a stable cursor).
pub async fn heads(
    db: &crate::db::Db,
    device: i64,
    skip: i64,
    limit: i64,
) -> Result<Vec<WitnessedHead>, sqlx::Error> {
    crate::with_db!(db, pool => {
        let rows: Vec<HeadRow> = sqlx::query_as(
            "SELECT decisions, last_id, last_hash, received_at FROM audit_heads WHERE device_id = $1
             ORDER BY id LIMIT $2 OFFSET $3",
        )
        .bind(device)
        .bind(limit)
        .bind(skip)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(witnessed).collect())
    })
}
