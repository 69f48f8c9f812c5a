//! The items imports make: the list the UI pages through, one item's details, the file of a
//! blob.

use std::path::PathBuf;

use engine::QualityReport;
use store::Sha256Hex;

use super::Imports;
use crate::{AnalysisMeta, ItemDetail, ItemPage, ItemQuery, StationError, MAX_PAGE, QUALITY_GATE};

impl Imports {
    pub async fn list_items(&self, query: ItemQuery) -> Result<ItemPage, StationError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let total = self.core.store.count_items(query.verdict).await?;
        let items = self
            .core
            .store
            .list_items(query.verdict, query.sort, query.offset, limit)
            .await?;
        Ok(ItemPage {
            total,
            offset: query.offset,
            items,
        })
    }

    pub async fn get_item(&self, id: i64) -> Result<ItemDetail, StationError> {
        let item = self.core.store.get_item(id).await?;
        let analysis = self.core.store.latest_analysis(id, QUALITY_GATE).await?;
        let (quality, analysis) = match analysis {
            Some(row) => {
                let quality = serde_json::from_str::<QualityReport>(&row.result_json).ok();
                let meta = AnalysisMeta {
                    engine_version: row.engine_version,
                    latency_ms: row.latency_ms,
                    created_at: row.created_at,
                };
                (quality, Some(meta))
            }
            None => (None, None),
        };
        let category = self.analysis.latest_category(id).await?;
        Ok(ItemDetail {
            item,
            quality,
            analysis,
            category,
        })
    }

    /// The file holding a blob, for the UI's image protocol. The hash is validated, so the path
    /// cannot leave the blob directory.
    pub fn blob_path(&self, sha: &str) -> Result<PathBuf, StationError> {
        let sha = Sha256Hex::parse(sha)?;
        Ok(self.core.store.blobs().path_of(&sha))
    }
}
