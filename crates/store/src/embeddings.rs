//! Cached category-gate embeddings, keyed by content hash and model hash: a photo (item or
//! reference) is embedded once per model file, however often categories are rebuilt.

use crate::{now_rfc3339, Result, Sha256Hex, Store, StoreError};

/// An embedding as cached.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedEmbedding {
    pub vector: Vec<f32>,
    /// (ImageNet class index, probability), most likely first.
    pub imagenet_top: Vec<(usize, f32)>,
}

impl Store {
    pub async fn cached_embedding(
        &self,
        blob: &Sha256Hex,
        model_sha256: &str,
    ) -> Result<Option<CachedEmbedding>> {
        let row: Option<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT vector, imagenet_top FROM embeddings WHERE blob_sha256 = ? AND model_sha256 = ?",
        )
        .bind(blob.as_str())
        .bind(model_sha256)
        .fetch_optional(&self.pool)
        .await?;
        let Some((bytes, top)) = row else {
            return Ok(None);
        };
        if bytes.len() % 4 != 0 {
            return Err(StoreError::Corrupt(format!(
                "embedding of {} has {} bytes",
                blob.as_str(),
                bytes.len()
            )));
        }
        let vector = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let imagenet_top = serde_json::from_str(&top).map_err(|e| {
            StoreError::Corrupt(format!("embedding classes of {}: {e}", blob.as_str()))
        })?;
        Ok(Some(CachedEmbedding {
            vector,
            imagenet_top,
        }))
    }

    pub async fn cache_embedding(
        &self,
        blob: &Sha256Hex,
        model_sha256: &str,
        embedding: &CachedEmbedding,
    ) -> Result<()> {
        let bytes: Vec<u8> = embedding
            .vector
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let top = serde_json::to_string(&embedding.imagenet_top)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO embeddings (blob_sha256, model_sha256, vector, imagenet_top, created_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(blob.as_str())
        .bind(model_sha256)
        .bind(bytes)
        .bind(top)
        .bind(now_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn count_embeddings(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM embeddings")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }
}
