//! The learning loop: a reviewer's category correction becomes a reference photo of the
//! category (when the store allows it), with its provenance beside it.

use store::TaskRow;

use super::Review;
use crate::StationError;

impl Review {
    /// When a reviewer says a photo shows another category and the store allows it, the photo
    /// becomes a reference photo of that category, with a provenance file beside it. Returns
    /// the reference's path.
    pub(super) async fn learn_category(
        &self,
        task: &TaskRow,
        reviewer: &str,
        decision_id: i64,
        after: &serde_json::Value,
    ) -> Result<Option<String>, StationError> {
        let before: serde_json::Value =
            serde_json::from_str(&task.model_output).unwrap_or_default();
        let predicted = |v: &serde_json::Value| {
            v.get("category")
                .and_then(|c| c.get("predicted"))
                .and_then(|p| p.as_str())
                .map(str::to_string)
        };
        let Some(corrected) = predicted(after) else {
            return Ok(None);
        };
        if predicted(&before).as_deref() == Some(corrected.as_str()) {
            return Ok(None);
        }
        let Ok(spec) = self.stores.spec(&task.store_id) else {
            return Ok(None);
        };
        if !spec.learn_from_reviews {
            return Ok(None);
        }
        let Some(dir) = spec
            .category
            .iter()
            .find(|c| c.name == corrected)
            .and_then(|c| c.references.clone())
        else {
            return Ok(None);
        };
        let item = self.core.store.get_item(task.item_id).await?;
        let Some(sha) = item
            .blob_sha256
            .as_deref()
            .and_then(|s| store::Sha256Hex::parse(s).ok())
        else {
            return Ok(None);
        };
        let bytes = self.core.store.blobs().read(&sha)?;
        let ext = match item.format.as_deref() {
            Some("png") => "png",
            Some("webp") => "webp",
            _ => "jpg",
        };
        let stem = format!("review-{}", &sha.as_str()[..16]);
        let photo = dir.join(format!("{stem}.{ext}"));
        let provenance = serde_json::json!({
            "source": "review",
            "decision_id": decision_id,
            "task_id": task.id,
            "item_id": task.item_id,
            "sha256": sha.as_str(),
            "reviewer": reviewer,
            "from": predicted(&before),
            "to": corrected,
            "at": store::now_rfc3339(),
        });
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&photo, &bytes))
            .and_then(|()| {
                std::fs::write(
                    dir.join(format!("{stem}.json")),
                    serde_json::to_string_pretty(&provenance).unwrap_or_default(),
                )
            });
        if let Err(error) = written {
            tracing::error!(%error, path = %photo.display(), "cannot add the reference photo");
            return Ok(None);
        }
        self.stores.forget_category_set(&task.store_id);
        tracing::info!(path = %photo.display(), category = %corrected, "reviewer's correction added as a reference photo");
        Ok(Some(photo.display().to_string()))
    }
}
