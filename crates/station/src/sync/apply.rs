//! Results back into the work. Each result is applied in the same transaction as its row
//! becomes done and the cursor moves past it, so a crash between two results repeats none and
//! skips none. A photo's rule verdicts replace its pending checks, and the photo's compliance
//! is judged again and routed by the store's policy (a failed or unclear rule goes to review).

use protocol::station_api::{JobKind, JobResult};

use super::jobs::{rule_answers, CheckAnswer, CheckInput};
use super::second_opinion::{compare, Comparison};
use super::SyncService;
use crate::StationError;

/// The analyzer name under which an LLM job's answer is kept beside the local results.
pub(crate) fn analyzer_of(kind: JobKind) -> &'static str {
    match kind {
        JobKind::ComplianceCheck => "llm_compliance_check",
        JobKind::InvoiceFields => "llm_invoice_fields",
        JobKind::LegalSummary => "llm_legal_summary",
    }
}

pub(super) async fn apply(sync: &SyncService, result: &JobResult) -> Result<(), StationError> {
    let store = &sync.core.store;
    let row = match store.outbox_by_job(result.job_id).await? {
        Some(row) => Some(row),
        // submitted, but the station stopped before it kept the job's id: found by its key
        None => match &result.idempotency_key {
            Some(key) => store.outbox_by_key(key).await?,
            None => None,
        },
    };
    let Some(row) = row else {
        // a job this station does not know (its database was restored from before it was sent)
        tracing::warn!(
            job_id = result.job_id,
            "a result for no job of this station"
        );
        return Ok(store.skip_result(None, "", result.seq).await?);
    };
    let answer = match (&result.result, result.ok) {
        (Some(answer), true) => answer,
        _ => {
            let why = format!(
                "the router could not do it: {}",
                result.error.as_deref().unwrap_or("no reason given")
            );
            return Ok(store.skip_result(Some(row.id), &why, result.seq).await?);
        }
    };
    let Some(item_id) = row.item_id else {
        return Ok(store
            .skip_result(Some(row.id), "the job belongs to no item", result.seq)
            .await?);
    };
    match result.kind {
        JobKind::ComplianceCheck => {
            let parsed = serde_json::from_str::<CheckInput>(&row.input_json)
                .ok()
                .zip(serde_json::from_value::<CheckAnswer>(answer.clone()).ok());
            let Some((input, verdicts)) = parsed else {
                return Ok(store
                    .skip_result(
                        Some(row.id),
                        "the answer does not match the check that was asked",
                        result.seq,
                    )
                    .await?);
            };
            let answers = rule_answers(&input, &verdicts);
            if store
                .apply_cloud_check(row.id, item_id, &answers, result.seq)
                .await?
            {
                // judged again with the cloud's rules, and routed by the store's policy
                if let Err(error) = sync
                    .documents
                    .route_compliance(item_id, &input.store_id)
                    .await
                {
                    tracing::warn!(item_id, %error, "cloud verdicts not routed");
                }
            }
        }
        kind @ (JobKind::InvoiceFields | JobKind::LegalSummary) => {
            let task = second_opinion(sync, item_id, kind, answer, &result.prompt_version).await?;
            store
                .apply_job_result(
                    row.id,
                    item_id,
                    analyzer_of(kind),
                    &answer.to_string(),
                    task.as_ref(),
                    result.seq,
                )
                .await?;
        }
    }
    Ok(())
}

/// The open task of a document with the LLM's reading beside the local one: an invoice's fields
/// compared one by one (agreement raises the confidence), a judgment's summary shown as is.
async fn second_opinion(
    sync: &SyncService,
    item_id: i64,
    kind: JobKind,
    answer: &serde_json::Value,
    prompt_version: &str,
) -> Result<Option<store::TaskUpdate>, StationError> {
    let result_kind = match kind {
        JobKind::LegalSummary => protocol::ResultKind::Legal,
        _ => protocol::ResultKind::Invoice,
    };
    let store = &sync.core.store;
    let Some(task_id) = store.open_task_for(item_id, result_kind).await? else {
        return Ok(None);
    };
    let task = store.get_task(task_id).await?;
    let Ok(mut output) = serde_json::from_str::<serde_json::Value>(&task.model_output) else {
        return Ok(None);
    };
    let comparison = if kind == JobKind::InvoiceFields {
        compare(&output, answer)
    } else {
        Comparison::default()
    };
    let confidence = comparison.confidence(task.confidence);
    if let Some(map) = output.as_object_mut() {
        map.insert(
            "second_opinion".into(),
            comparison.to_json(answer, prompt_version),
        );
    }
    Ok(Some(store::TaskUpdate {
        task_id,
        confidence,
        model_output: output.to_string(),
    }))
}
