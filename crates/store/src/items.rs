//! Items (one per distinct file offered) and their analyses.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite};
use ts_rs::TS;

use crate::{now_rfc3339, Result, Sha256Hex, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Analyzed,
    Error,
}

impl ItemStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Analyzed => "analyzed",
            Self::Error => "error",
        }
    }
}

/// An item as listed. Field names are the IPC contract (see ui/src/bindings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
pub struct ItemRow {
    #[ts(type = "number")]
    pub id: i64,
    pub blob_sha256: Option<String>,
    pub file_name: String,
    pub source_path: String,
    #[ts(type = "number")]
    pub byte_len: i64,
    pub status: String,
    pub verdict: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub format: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub created_at: String,
    /// `photo` or `document`.
    pub kind: String,
    #[ts(type = "number | null")]
    pub page_count: Option<i64>,
    pub expected_category: Option<String>,
    pub category_verdict: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
pub struct AnalysisRow {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub item_id: i64,
    pub analyzer: String,
    pub engine_version: String,
    pub verdict: Option<String>,
    pub result_json: String,
    pub latency_ms: f64,
    pub created_at: String,
    pub provider: Option<String>,
    /// JSON object: model name → `package==version`.
    pub model_versions: Option<String>,
    #[ts(type = "number | null")]
    pub page: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub blob: Option<Sha256Hex>,
    pub media_type: Option<String>,
    pub file_name: String,
    pub source_path: String,
    pub byte_len: u64,
    pub status: ItemStatus,
    pub verdict: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// `photo` or `document`.
    pub kind: String,
    pub page_count: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct NewAnalysis {
    pub analyzer: String,
    pub engine_version: String,
    pub verdict: Option<String>,
    pub result_json: String,
    pub latency_ms: f64,
    pub provider: Option<String>,
    pub model_versions: Option<String>,
    pub page: Option<u32>,
}

/// What recording an item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New(i64),
    /// The same content was already an item; nothing was written.
    Duplicate(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum VerdictFilter {
    #[default]
    All,
    Pass,
    Fail,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ItemSort {
    #[default]
    Newest,
    Oldest,
    /// Errors first, then failures, then passes; newest first within each.
    Verdict,
    Name,
}

const ITEM_COLUMNS: &str = "id, blob_sha256, file_name, source_path, byte_len, status, verdict, \
     error_code, error_message, format, width, height, created_at, kind, page_count, \
     expected_category, category_verdict";
const ANALYSIS_COLUMNS: &str = "id, item_id, analyzer, engine_version, verdict, result_json, \
     latency_ms, created_at, provider, model_versions, page";

fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: VerdictFilter) {
    match filter {
        VerdictFilter::All => {}
        VerdictFilter::Pass => {
            query.push(" WHERE status = 'analyzed' AND verdict = 'pass'");
        }
        VerdictFilter::Fail => {
            query.push(" WHERE status = 'analyzed' AND verdict = 'fail'");
        }
        VerdictFilter::Error => {
            query.push(" WHERE status = 'error'");
        }
    }
}

impl Store {
    pub async fn find_item_by_blob(&self, sha: &Sha256Hex) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM items WHERE blob_sha256 = ?")
                .bind(sha.as_str())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// An item refused before it was read has no blob; it is identified by path and size instead.
    pub async fn find_unread_item(&self, source_path: &str, byte_len: u64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM items WHERE blob_sha256 IS NULL AND source_path = ? AND byte_len = ?",
        )
        .bind(source_path)
        .bind(byte_len as i64)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records an item and (optionally) its first analysis in one transaction. The blob's bytes
    /// must already be in the blob store.
    pub async fn record_item(
        &self,
        item: &NewItem,
        analysis: Option<&NewAnalysis>,
    ) -> Result<Recorded> {
        let now = now_rfc3339();
        let mut tx = self.pool.begin().await?;
        if let Some(sha) = &item.blob {
            sqlx::query("INSERT INTO blobs (sha256, byte_len, media_type, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(sha.as_str())
                .bind(item.byte_len as i64)
                .bind(&item.media_type)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            // Another import may have recorded the same content concurrently.
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM items WHERE blob_sha256 = ?")
                    .bind(sha.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(id) = existing {
                tx.commit().await?;
                return Ok(Recorded::Duplicate(id));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO items (blob_sha256, file_name, source_path, byte_len, status, verdict, error_code, \
             error_message, format, width, height, created_at, kind, page_count) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(item.blob.as_ref().map(Sha256Hex::as_str))
        .bind(&item.file_name)
        .bind(&item.source_path)
        .bind(item.byte_len as i64)
        .bind(item.status.as_str())
        .bind(&item.verdict)
        .bind(&item.error_code)
        .bind(&item.error_message)
        .bind(&item.format)
        .bind(item.width.map(i64::from))
        .bind(item.height.map(i64::from))
        .bind(&now)
        .bind(&item.kind)
        .bind(item.page_count.map(i64::from))
        .fetch_one(&mut *tx)
        .await?;
        if let Some(analysis) = analysis {
            insert_analysis(&mut tx, id, analysis, &now).await?;
        }
        tx.commit().await?;
        Ok(Recorded::New(id))
    }

    /// Appends an analysis to an existing item.
    pub async fn add_analysis(&self, item_id: i64, analysis: &NewAnalysis) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_analysis(&mut tx, item_id, analysis, &now_rfc3339()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a category verdict: the analysis row and the item's summary column together.
    pub async fn record_category(
        &self,
        item_id: i64,
        expected: Option<&str>,
        analysis: &NewAnalysis,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_analysis(&mut tx, item_id, analysis, &now_rfc3339()).await?;
        let updated = sqlx::query(
            "UPDATE items SET expected_category = ?, category_verdict = ? WHERE id = ?",
        )
        .bind(expected)
        .bind(&analysis.verdict)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::ItemNotFound(item_id));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn count_items(&self, filter: VerdictFilter) -> Result<u64> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM items");
        push_filter(&mut query, filter);
        let count: i64 = query.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(count.max(0) as u64)
    }

    /// One page of items. Ordering always ends on `id` so pages are stable.
    pub async fn list_items(
        &self,
        filter: VerdictFilter,
        sort: ItemSort,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<ItemRow>> {
        let mut query = QueryBuilder::<Sqlite>::new(format!("SELECT {ITEM_COLUMNS} FROM items"));
        push_filter(&mut query, filter);
        query.push(match sort {
            ItemSort::Newest => " ORDER BY created_at DESC, id DESC",
            ItemSort::Oldest => " ORDER BY created_at ASC, id ASC",
            ItemSort::Verdict => {
                " ORDER BY CASE WHEN status = 'error' THEN 0 WHEN verdict = 'fail' THEN 1 ELSE 2 END, created_at DESC, id DESC"
            }
            ItemSort::Name => " ORDER BY file_name COLLATE NOCASE ASC, id ASC",
        });
        query
            .push(" LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(offset as i64);
        Ok(query
            .build_query_as::<ItemRow>()
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn get_item(&self, id: i64) -> Result<ItemRow> {
        sqlx::query_as::<_, ItemRow>(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::ItemNotFound(id))
    }

    pub async fn latest_analysis(
        &self,
        item_id: i64,
        analyzer: &str,
    ) -> Result<Option<AnalysisRow>> {
        Ok(sqlx::query_as::<_, AnalysisRow>(&format!(
            "SELECT {ANALYSIS_COLUMNS} FROM analyses WHERE item_id = ? AND analyzer = ? \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(item_id)
        .bind(analyzer)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The latest analysis of one page of a document (`page` is 1-based; photos use 1).
    pub async fn latest_page_analysis(
        &self,
        item_id: i64,
        analyzer: &str,
        page: u32,
    ) -> Result<Option<AnalysisRow>> {
        Ok(sqlx::query_as::<_, AnalysisRow>(&format!(
            "SELECT {ANALYSIS_COLUMNS} FROM analyses WHERE item_id = ? AND analyzer = ? AND page = ? \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(item_id)
        .bind(analyzer)
        .bind(i64::from(page))
        .fetch_optional(&self.pool)
        .await?)
    }
}

pub(crate) async fn insert_analysis(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    item_id: i64,
    analysis: &NewAnalysis,
    now: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO analyses (item_id, analyzer, engine_version, verdict, result_json, latency_ms, \
         created_at, provider, model_versions, page) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(item_id)
    .bind(&analysis.analyzer)
    .bind(&analysis.engine_version)
    .bind(&analysis.verdict)
    .bind(&analysis.result_json)
    .bind(analysis.latency_ms)
    .bind(now)
    .bind(&analysis.provider)
    .bind(&analysis.model_versions)
    .bind(analysis.page.map(i64::from))
    .fetch_one(&mut **tx)
    .await?)
}
