//! Results into tasks: a document's fields or a photo's rules, scored by the store's policy;
//! a doubtful result is queued once (routing it again finds the open task).

use ::review::{FieldScore, Route};
use protocol::documents::compliance::RuleState;
use protocol::{DocumentKind, ResultKind};
use store::NewTask;

use super::Review;
use super::DEFAULT_STORE;
use crate::{Compliance, DocumentResult, StationError};

/// The due time of a task queued now that may wait `hours`.
fn due_in(hours: f64) -> String {
    // the policy keeps due_hours within (0, 8784], so the rounded seconds fit an i64
    store::rfc3339_from_now((hours * 3600.0).round() as i64)
}

/// The fields of a result as routing sees them: every top-level object with a `confidence`
/// whose value was found, its checks passed or not.
fn field_scores(value: &serde_json::Value) -> Vec<FieldScore> {
    let Some(fields) = value.as_object() else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|(name, field)| {
            let confidence = field.get("confidence")?.as_f64()?;
            if field.get("value").is_some_and(serde_json::Value::is_null) {
                return None;
            }
            let checks_passed =
                field
                    .get("checks")
                    .and_then(|c| c.as_array())
                    .is_none_or(|checks| {
                        checks.iter().all(|c| {
                            c.get("passed").and_then(serde_json::Value::as_bool) != Some(false)
                        })
                    });
            Some(FieldScore {
                name: name.clone(),
                confidence,
                checks_passed,
            })
        })
        .collect()
}

/// The models that read the document's text, as the engine reported them per page (one entry
/// per distinct version), or that a PDF's text layer was used.
fn text_models(result: &DocumentResult) -> String {
    let mut models: Vec<&str> = result
        .pages
        .iter()
        .filter_map(|p| p.model_version.as_deref())
        .collect();
    models.sort_unstable();
    models.dedup();
    if models.is_empty() {
        "none (PDF text layer)".into()
    } else {
        models.join("; ")
    }
}

impl Review {
    /// Routes an extracted document by its store's policy; a doubtful one becomes a task.
    /// The store results are routed for: the active one, else the default policy's.
    pub(crate) async fn active_store(&self) -> String {
        self.stores
            .list()
            .await
            .active
            .unwrap_or_else(|| DEFAULT_STORE.to_string())
    }

    /// `second_opinion` is asked only when the result is doubtful: the router job it makes (the
    /// document's LLM fields or summary) is queued in the same transaction as the task.
    pub async fn route_document<F, Fut>(
        &self,
        result: &DocumentResult,
        second_opinion: F,
    ) -> Result<(Route, Option<i64>), StationError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Option<store::NewOutbox>>,
    {
        let store_id = self.active_store().await;
        let (kind, value) = match result.kind {
            DocumentKind::Invoice => (ResultKind::Invoice, serde_json::to_value(&result.invoice)),
            DocumentKind::Legal => (ResultKind::Legal, serde_json::to_value(&result.legal)),
        };
        let value = value.map_err(|e| StationError::InvalidRequest(e.to_string()))?;
        let (policy, _) = self.policy(&store_id)?;
        let item = self.core.store.get_item(result.item_id).await?;
        let key = item
            .blob_sha256
            .clone()
            .unwrap_or_else(|| result.item_id.to_string());
        let mut fields = field_scores(&value);
        // document-level checks (Σ items = subtotal, …) count as a field of their own
        if let Some(checks) = value.get("checks").and_then(|c| c.as_array()) {
            let passed = checks
                .iter()
                .all(|c| c.get("passed").and_then(serde_json::Value::as_bool) != Some(false));
            fields.push(FieldScore {
                name: "checks".into(),
                confidence: 1.0,
                checks_passed: passed,
            });
        }
        let route = policy.route(kind, &fields, None, &key);
        if !route.review {
            return Ok((route, None));
        }
        let versions = serde_json::json!({
            "engine": engine::ENGINE_VERSION,
            "extraction": format!("extract {}", env!("CARGO_PKG_VERSION")),
            "text": result.pages.iter().map(|p| p.source.clone()).collect::<Vec<_>>(),
            "model": text_models(result),
        });
        let due_hours = policy.kind(kind).due_hours;
        let job = if self
            .core
            .store
            .open_task_for(result.item_id, kind)
            .await?
            .is_some()
        {
            None
        } else {
            second_opinion().await
        };
        let id = self
            .enqueue_routed(
                result.item_id,
                kind,
                store_id,
                &route,
                due_hours,
                &value,
                versions,
                job,
            )
            .await?;
        Ok((route, id))
    }

    /// Routes a photo's store-compliance result (quality and category gates as rules, each
    /// with its confidence; the category margin) by the store's policy. The result is judged by
    /// the documents service (`Documents::route_compliance`), which hands it here.
    pub async fn route_compliance(
        &self,
        item_id: i64,
        store_id: &str,
        compliance: &Compliance,
    ) -> Result<(Route, Option<i64>), StationError> {
        let (policy, _) = self.policy(store_id)?;
        let fields: Vec<FieldScore> = compliance
            .rules
            .iter()
            .filter_map(|rule| {
                // a rule still waiting for the cloud has nothing to route on yet; one the cloud
                // could not tell is doubtful
                Some(FieldScore {
                    name: rule.id.clone(),
                    confidence: f64::from(rule.confidence.unwrap_or(1.0)),
                    checks_passed: match rule.state {
                        RuleState::Pending => return None,
                        RuleState::Unclear => false,
                        RuleState::Passed | RuleState::Failed => rule.passed?,
                    },
                })
            })
            .collect();
        let margin = compliance
            .category
            .as_ref()
            .filter(|c| c.predicted.is_some())
            .map(|c| f64::from(c.margin));
        let item = self.core.store.get_item(item_id).await?;
        let key = item.blob_sha256.unwrap_or_else(|| item_id.to_string());
        let route = policy.route(ResultKind::Compliance, &fields, margin, &key);
        if !route.review {
            return Ok((route, None));
        }
        let model_output = serde_json::to_value(compliance)
            .map_err(|e| StationError::InvalidRequest(e.to_string()))?;
        let versions = serde_json::json!({
            "engine": engine::ENGINE_VERSION,
            "model": compliance.payload.get("category").and_then(|c| c.get("model_version")).cloned(),
        });
        let id = self
            .enqueue_routed(
                item_id,
                ResultKind::Compliance,
                store_id.to_string(),
                &route,
                policy.compliance.due_hours,
                &model_output,
                versions,
                None,
            )
            .await?;
        Ok((route, id))
    }

    /// Queues a routed result as a task, once: routing it again (the document read again, a
    /// cloud verdict back) updates the open task to the result as it stands instead. `versions` says what produced the result;
    /// the routing's doubtful fields and the backend are added here.
    #[allow(clippy::too_many_arguments)] // one call site per result kind; a struct would only rename them
    async fn enqueue_routed(
        &self,
        item_id: i64,
        kind: ResultKind,
        store_id: String,
        route: &Route,
        due_hours: f64,
        model_output: &serde_json::Value,
        mut versions: serde_json::Value,
        second_opinion: Option<store::NewOutbox>,
    ) -> Result<Option<i64>, StationError> {
        if let Some(open) = self.core.store.open_task_for(item_id, kind).await? {
            // judged again (a cloud verdict came back, the document was read again): the open
            // task shows the result as it stands now, with why it is reviewed now
            let reasons = serde_json::to_string(&route.reasons).unwrap_or_default();
            let mut model_output = model_output.clone();
            // the router LLM's reading stays beside the local one it was compared with
            let earlier: Option<serde_json::Value> =
                serde_json::from_str(&self.core.store.get_task(open).await?.model_output).ok();
            if let (Some(second), Some(map)) = (
                earlier.as_ref().and_then(|e| e.get("second_opinion")),
                model_output.as_object_mut(),
            ) {
                map.entry("second_opinion")
                    .or_insert_with(|| second.clone());
            }
            let _write = self.writes.lock().await;
            self.core
                .store
                .refresh_open_task(open, route.confidence, &reasons, &model_output.to_string())
                .await?;
            return Ok(Some(open));
        }
        if let Some(v) = versions.as_object_mut() {
            v.insert("prompt".into(), serde_json::Value::Null);
            v.insert("backend".into(), "local, offline".into());
            v.insert(
                "doubtful_fields".into(),
                route.doubtful_fields.clone().into(),
            );
        }
        let task = NewTask {
            item_id,
            kind,
            store_id,
            confidence: route.confidence,
            reasons: serde_json::to_string(&route.reasons).unwrap_or_default(),
            due_at: Some(due_in(due_hours)),
            model_output: model_output.to_string(),
            versions: versions.to_string(),
        };
        let _write = self.writes.lock().await;
        if let Some(job) = second_opinion {
            let id = self.core.store.enqueue_task_with_job(&task, &job).await?;
            self.core.outbox_written.notify_one();
            return Ok(Some(id));
        }
        Ok(self
            .core
            .store
            .enqueue_tasks(&[task])
            .await?
            .first()
            .copied())
    }
}
