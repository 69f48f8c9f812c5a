//! The category gate: a store's categories built from their reference photos (embeddings
//! cached by blob hash), and photos judged against them.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use engine::category::{CategoryScore, CategorySet};
use engine::workers::Engine;
use protocol::ErrorCode;
use store::{CachedEmbedding, NewAnalysis, Sha256Hex};

use super::{Analysis, CATEGORY_GATE};
use crate::stores::{self, BuiltSet, StoreSpec};
use crate::{CategoryInfo, CategoryResult, StationError};

impl Analysis {
    /// The active store's categories, embedding reference photos not yet cached.
    /// A store's categories (the active store's when `store_id` is `None`), embedding
    /// reference photos not yet cached.
    pub(crate) async fn category_set(
        &self,
        store_id: Option<&str>,
    ) -> Result<(StoreSpec, Arc<BuiltSet>), StationError> {
        let (spec, built) = self.stores.with_set(store_id)?;
        if let Some(built) = built {
            return Ok((spec, built));
        }
        let engine = self.engine().await?;
        let built = Arc::new(self.build_set(&engine, &spec).await?);
        self.stores.keep_set(spec.id.clone(), Arc::clone(&built));
        Ok((spec, built))
    }

    async fn build_set(
        &self,
        engine: &Arc<Engine>,
        spec: &StoreSpec,
    ) -> Result<BuiltSet, StationError> {
        let classes = engine.imagenet_classes();
        let mut names = Vec::new();
        let mut references = Vec::new();
        let mut imagenet = Vec::new();
        let mut infos = Vec::new();
        for category in &spec.category {
            let mut problems = Vec::new();
            let mut embedded = Vec::new();
            let mut reference_count = 0u32;
            if let Some(dir) = &category.references {
                match stores::reference_photos(dir) {
                    Ok(photos) => {
                        for photo in photos {
                            match self.embed_file(engine, &photo).await {
                                Ok(embedding) => {
                                    // each reference is its own prototype: the nearest one
                                    // decides (BENCHMARKS.md, "Category gate": it beats one
                                    // mean per category and one per kind)
                                    embedded.push((
                                        photo.display().to_string(),
                                        engine::category::Embedding {
                                            feature: embedding.vector,
                                            imagenet_top5: embedding.imagenet_top,
                                        },
                                    ));
                                    reference_count += 1;
                                }
                                Err(error) => problems.push(format!(
                                    "{}: {error}",
                                    photo.file_name().map_or_else(String::new, |n| n
                                        .to_string_lossy()
                                        .into_owned())
                                )),
                            }
                        }
                    }
                    Err(error) => problems.push(error),
                }
            }
            let mut indices = Vec::new();
            for class in &category.imagenet {
                match classes.iter().position(|c| c.eq_ignore_ascii_case(class)) {
                    Some(index) => indices.push(index),
                    None => problems.push(format!("{class:?} is not an ImageNet class name")),
                }
            }
            let usable = !embedded.is_empty() || !indices.is_empty();
            infos.push(CategoryInfo {
                name: category.name.clone(),
                references_dir: category
                    .references
                    .as_ref()
                    .map(|d| d.display().to_string()),
                reference_count,
                imagenet: category.imagenet.clone(),
                problem: (!problems.is_empty()).then(|| problems.join("; ")),
            });
            if usable {
                names.push(category.name.clone());
                references.push(embedded);
                imagenet.push(indices);
            }
        }
        let references: Vec<Vec<(String, &engine::category::Embedding)>> = references
            .iter()
            .map(|photos| photos.iter().map(|(path, e)| (path.clone(), e)).collect())
            .collect();
        Ok(BuiltSet {
            set: CategorySet::from_references(
                names,
                &references,
                imagenet,
                spec.thresholds.unwrap_or_default(),
            ),
            infos,
        })
    }

    async fn embed_file(
        &self,
        engine: &Arc<Engine>,
        path: &Path,
    ) -> Result<CachedEmbedding, StationError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| StationError::InvalidRequest(format!("{}: {e}", path.display())))?;
        self.embed_cached(engine, Sha256Hex::of(&bytes), bytes)
            .await
    }

    /// An embedding from the cache, or computed on a free engine worker and cached.
    async fn embed_cached(
        &self,
        engine: &Arc<Engine>,
        sha: Sha256Hex,
        bytes: Vec<u8>,
    ) -> Result<CachedEmbedding, StationError> {
        let model = engine.category_model_sha256().to_string();
        if let Some(cached) = self.core.store.cached_embedding(&sha, &model).await? {
            return Ok(cached);
        }
        let limits = self.core.limits;
        let worker = Arc::clone(engine);
        let embedding = tokio::task::spawn_blocking(move || worker.embed(&bytes, &limits))
            .await?
            .map_err(|e| StationError::Analysis {
                code: ErrorCode::CategoryFailed,
                message: e.to_string(),
            })?;
        let cached = CachedEmbedding {
            vector: embedding.feature,
            imagenet_top: embedding.imagenet_top5,
        };
        self.core
            .store
            .cache_embedding(&sha, &model, &cached)
            .await?;
        Ok(cached)
    }

    /// Judges a photo against the active store's categories (optionally the one expected),
    /// records the verdict and returns it.
    pub async fn judge_category(
        &self,
        item_id: i64,
        expected: Option<String>,
    ) -> Result<CategoryResult, StationError> {
        self.judge_category_in(item_id, expected, None).await
    }

    /// Judges a photo against one store's categories (the active store's when `None`).
    pub(crate) async fn judge_category_in(
        &self,
        item_id: i64,
        expected: Option<String>,
        store_id: Option<&str>,
    ) -> Result<CategoryResult, StationError> {
        let (item, sha) = self.item_with_content(item_id).await?;
        if item.kind != "photo" || item.status != "analyzed" {
            return Err(StationError::InvalidRequest(
                "the category gate judges photos that could be read".into(),
            ));
        }
        let started = Instant::now();
        let (spec, built) = self.category_set(store_id).await?;
        let engine = self.engine().await?;
        let bytes = self.core.store.blobs().read(&sha)?;
        let embedding = self.embed_cached(&engine, sha, bytes).await?;
        let imagenet_top = embedding
            .imagenet_top
            .iter()
            .map(|&(index, probability)| CategoryScore {
                name: engine.imagenet_class(index),
                score: probability,
            })
            .collect();
        let expected = expected.filter(|e| !e.trim().is_empty());
        let verdict = built.set.judge(
            &embedding.vector,
            &embedding.imagenet_top,
            expected.as_deref(),
            imagenet_top,
        );
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let result = CategoryResult {
            store_id: spec.id.clone(),
            store_name: spec.name.clone(),
            verdict,
            latency_ms,
            provider: engine.provider().into(),
            model_version: engine.model_version("category").unwrap_or_default().into(),
        };
        let analysis = NewAnalysis {
            analyzer: CATEGORY_GATE.into(),
            engine_version: engine::ENGINE_VERSION.into(),
            verdict: Some(result.verdict.verdict.clone()),
            result_json: serde_json::to_string(&result).unwrap_or_default(),
            latency_ms,
            provider: Some(result.provider.clone()),
            model_versions: Some(
                serde_json::json!({ "category": result.model_version }).to_string(),
            ),
            page: None,
        };
        self.core
            .store
            .record_category(item_id, expected.as_deref(), &analysis)
            .await?;
        Ok(result)
    }

    /// The latest recorded category verdict of an item.
    pub async fn latest_category(
        &self,
        item_id: i64,
    ) -> Result<Option<CategoryResult>, StationError> {
        Ok(self
            .core
            .store
            .latest_analysis(item_id, CATEGORY_GATE)
            .await?
            .and_then(|row| serde_json::from_str(&row.result_json).ok()))
    }
}
