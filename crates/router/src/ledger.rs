//! The usage ledger (SQLite in WAL mode, or PostgreSQL: `db`): one row per request, one per attempt, the dashboards'
//! rollups (`rollup`), and the client keys. Requests are written by one task in batches, off the
//! request path: a batch's rows and its rollups go in one transaction, so a request and its
//! attempts are never recorded apart (nor twice: the request id is the primary key), nor the
//! rollups apart from the rows they sum.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::db::{Db, Location};
use crate::error::RouterError;
use crate::with_db;

/// A request as recorded.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: String,
    pub client_id: i64,
    pub idempotency_key: Option<String>,
    pub store_id: Option<String>,
    pub requested_model: String,
    pub stream: bool,
    pub decision: &'static str,
    pub decision_reason: &'static str,
    pub decided_backend: Option<String>,
    pub final_backend: Option<String>,
    pub status: u16,
    pub error_code: Option<String>,
    pub started_at: String,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub attempts: Vec<AttemptRow>,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub backend: String,
    pub provider_model: String,
    pub outcome: &'static str,
    pub http_status: Option<u16>,
    pub provider_error: Option<String>,
    pub retry_after_ms: Option<i64>,
    pub queue_wait_ms: f64,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub usage: crate::backend::Usage,
    pub cost_usd: f64,
    pub started_at: String,
}

/// A client key's owner, once the key checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    db: Db,
    writes: mpsc::Sender<Write>,
}

#[derive(Debug)]
enum Write {
    Request(Box<RequestRow>),
    /// Answered once everything queued before it is committed.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Requests waiting to be written at most (past it, a request waits for room: never dropped).
const QUEUE: usize = 10_000;
/// Requests per transaction at most.
const BATCH: usize = 256;

impl Ledger {
    pub async fn open(location: &Location) -> Result<Self, RouterError> {
        // SQLite has one writer at a time (WAL readers beside it); a PostgreSQL server takes
        // more: 16 per replica (its max_connections must cover every replica's)
        let connections = match location {
            Location::Sqlite(_) => 4,
            Location::Postgres(_) => 16,
        };
        let db = Db::open(location, connections).await?;
        let (writes, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(db.clone(), queue));
        Ok(Self { db, writes })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Queues a finished request for writing.
    pub async fn record(&self, row: RequestRow) {
        if self
            .writes
            .send(Write::Request(Box::new(row)))
            .await
            .is_err()
        {
            tracing::error!("the ledger writer has stopped; a request was not recorded");
        }
    }

    /// Waits until everything queued so far is written (tests, shutdown).
    pub async fn flush(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        if self.writes.send(Write::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// Creates a client key: returns it once (only its hash is kept).
    pub async fn create_client(&self, name: &str) -> Result<(Client, String), RouterError> {
        let key = format!("rr-{}", hex::encode(rand::random::<[u8; 32]>()));
        let id = with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO clients (name, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(name)
            .bind(key_hash(&key))
            .bind(now_rfc3339())
            .fetch_one(pool)
            .await?
        });
        Ok((
            Client {
                id,
                name: name.to_owned(),
            },
            key,
        ))
    }

    /// The client of a key, and whether the key was revoked.
    pub async fn client_of(&self, key: &str) -> Result<Option<(Client, bool)>, RouterError> {
        let row = with_db!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String, bool)>(
                "SELECT id, name, revoked_at IS NOT NULL FROM clients WHERE key_hash = $1",
            )
            .bind(key_hash(key))
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(id, name, revoked)| (Client { id, name }, revoked)))
    }

    pub async fn revoke_client(&self, id: i64) -> Result<bool, RouterError> {
        let done = with_db!(&self.db, pool => {
            sqlx::query("UPDATE clients SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_rfc3339())
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }
}

pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn write_loop(db: Db, mut queue: mpsc::Receiver<Write>) {
    let mut taken = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut taken, BATCH).await > 0 {
        let mut flushed = Vec::new();
        let batch: Vec<RequestRow> = taken
            .drain(..)
            .filter_map(|w| match w {
                Write::Request(row) => Some(*row),
                Write::Flush(done) => {
                    flushed.push(done);
                    None
                }
            })
            .collect();
        // a failed batch is retried: the rows are the only record of what was charged
        let mut wait = Duration::from_millis(50);
        while let Err(error) = write_batch(&db, &batch).await {
            tracing::error!(%error, rows = batch.len(), "ledger write failed; retrying");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

/// Writes a batch of requests with their attempts and the rollups of those written now, in one
/// transaction.
async fn write_batch(db: &Db, rows: &[RequestRow]) -> Result<(), sqlx::Error> {
    with_db!(db, pool => {
    let mut tx = pool.begin().await?;
    let mut rollup = crate::rollup::Rollup::default();
    for r in rows {
        let cost: f64 = r.attempts.iter().map(|a| a.cost_usd).sum();
        let fallback = r.final_backend.is_some() && r.final_backend != r.decided_backend;
        // a request id is unique: written once even if a batch is retried after a partial failure
        let inserted = sqlx::query(
            "INSERT INTO requests (id, client_id, idempotency_key, requested_model, stream, decision, decision_reason,
                decided_backend, final_backend, fallback, status, error_code, attempts, started_at, latency_ms, ttft_ms, cost_usd, store_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&r.id)
        .bind(r.client_id)
        .bind(&r.idempotency_key)
        .bind(&r.requested_model)
        .bind(r.stream)
        .bind(r.decision)
        .bind(r.decision_reason)
        .bind(&r.decided_backend)
        .bind(&r.final_backend)
        .bind(fallback)
        .bind(i64::from(r.status))
        .bind(&r.error_code)
        .bind(r.attempts.len() as i64)
        .bind(&r.started_at)
        .bind(r.latency_ms)
        .bind(r.ttft_ms)
        .bind(cost)
        .bind(&r.store_id)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            continue;
        }
        // only rows written now are summed: a request already in the ledger adds nothing
        rollup.add(r);
        for (n, a) in r.attempts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO attempts (request_id, n, backend, provider_model, outcome, http_status, provider_error, retry_after_ms,
                    queue_wait_ms, latency_ms, ttft_ms, input_tokens, output_tokens, cached_tokens, reasoning_tokens, image_tokens,
                    cost_usd, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            )
            .bind(&r.id)
            .bind(n as i64)
            .bind(&a.backend)
            .bind(&a.provider_model)
            .bind(a.outcome)
            .bind(a.http_status.map(i64::from))
            .bind(&a.provider_error)
            .bind(a.retry_after_ms)
            .bind(a.queue_wait_ms)
            .bind(a.latency_ms)
            .bind(a.ttft_ms)
            .bind(a.usage.input)
            .bind(a.usage.output)
            .bind(a.usage.cached)
            .bind(a.usage.reasoning)
            .bind(a.usage.image)
            .bind(a.cost_usd)
            .bind(&a.started_at)
            .execute(&mut *tx)
            .await?;
        }
    }
    rollup.write(&mut *tx).await?;
    tx.commit().await
    })
}
