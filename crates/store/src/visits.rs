//! Store visits: the visit rows, the photos each one holds and the checks waiting for the cloud.

use crate::{now_rfc3339, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VisitRow {
    pub id: i64,
    pub store_id: String,
    pub store_name: String,
    pub auditor: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub import_folder: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VisitPhotoRow {
    pub item_id: i64,
    pub added_at: String,
    pub source_path: String,
    pub state: String,
    pub verdict_json: String,
}

const VISIT_COLUMNS: &str =
    "id, store_id, store_name, auditor, started_at, ended_at, import_folder";

impl Store {
    pub async fn start_visit(
        &self,
        store_id: &str,
        store_name: &str,
        auditor: &str,
        import_folder: Option<&str>,
    ) -> Result<VisitRow> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO visits (store_id, store_name, auditor, started_at, import_folder) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(store_id)
        .bind(store_name)
        .bind(auditor)
        .bind(now_rfc3339())
        .bind(import_folder)
        .fetch_one(&self.pool)
        .await?;
        self.get_visit(id).await
    }

    pub async fn get_visit(&self, id: i64) -> Result<VisitRow> {
        sqlx::query_as::<_, VisitRow>(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::VisitNotFound(id))
    }

    /// The latest visit not yet ended: the one to resume after a restart.
    pub async fn open_visit(&self) -> Result<Option<VisitRow>> {
        Ok(sqlx::query_as::<_, VisitRow>(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn end_visit(&self, id: i64) -> Result<VisitRow> {
        sqlx::query("UPDATE visits SET ended_at = ? WHERE id = ? AND ended_at IS NULL")
            .bind(now_rfc3339())
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.get_visit(id).await
    }

    /// Adds a photo to a visit. Returns whether it was new to the visit: the same content
    /// arriving again (a copy under another name, a resumed visit rescanning its folder) leaves
    /// the entry already there untouched, so the photo keeps the name and the verdicts it was
    /// first shown with.
    pub async fn put_visit_photo(
        &self,
        visit_id: i64,
        item_id: i64,
        source_path: &str,
        state: &str,
        verdict_json: &str,
    ) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO visit_photos (visit_id, item_id, added_at, source_path, state, verdict_json) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (visit_id, item_id) DO NOTHING",
        )
        .bind(visit_id)
        .bind(item_id)
        .bind(now_rfc3339())
        .bind(source_path)
        .bind(state)
        .bind(verdict_json)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(inserted)
    }

    /// Drops the visit's `unreadable` entries of `source_path` other than `keep_item_id`: the
    /// file there has since been read, and the stale failure would otherwise sit next to it.
    /// Returns how many were dropped.
    pub async fn drop_unreadable_visit_photos(
        &self,
        visit_id: i64,
        source_path: &str,
        keep_item_id: i64,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM visit_photos WHERE visit_id = ? AND source_path = ? AND item_id <> ? \
             AND state = 'unreadable'",
        )
        .bind(visit_id)
        .bind(source_path)
        .bind(keep_item_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// A visit's photos, newest first.
    pub async fn visit_photos(
        &self,
        visit_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<VisitPhotoRow>> {
        Ok(sqlx::query_as::<_, VisitPhotoRow>(
            "SELECT item_id, added_at, source_path, state, verdict_json FROM visit_photos \
             WHERE visit_id = ? ORDER BY added_at DESC, item_id DESC LIMIT ? OFFSET ?",
        )
        .bind(visit_id)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn count_visit_photos(&self, visit_id: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM visit_photos WHERE visit_id = ?")
            .bind(visit_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Queues a check for the cloud LLM; queuing the same check twice keeps one.
    pub async fn add_pending_cloud(&self, visit_id: i64, item_id: i64, rule: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO pending_cloud (visit_id, item_id, rule, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(visit_id)
        .bind(item_id)
        .bind(rule)
        .bind(now_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn count_pending_cloud(&self, visit_id: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pending_cloud WHERE visit_id = ? AND state = 'pending'",
        )
        .bind(visit_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
