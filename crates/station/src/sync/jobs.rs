//! What each outbox row sends: the job inputs the router's prompts expect (see
//! `crates/router/prompts/`), built where the change is made so they are written with it.

use protocol::station_api::JobKind;
use serde::Deserialize;
use store::NewOutbox;

/// A visit photo's store rules, for the cloud LLM. Rules are named `rule-1`, `rule-2`, … in
/// the order the store lists them; the input keeps their text, so an answer maps back to the
/// rule it was asked about even if `stores.toml` changes meanwhile.
pub(crate) fn compliance_check_job(
    visit_id: i64,
    item_id: i64,
    photo_sha256: &str,
    store_id: &str,
    rules: &[String],
) -> NewOutbox {
    let input = serde_json::json!({
        "store_id": store_id,
        "photo_sha256": photo_sha256,
        "rules": rules
            .iter()
            .enumerate()
            .map(|(i, text)| serde_json::json!({"id": format!("rule-{}", i + 1), "text": text}))
            .collect::<Vec<_>>(),
    });
    NewOutbox {
        kind: JobKind::ComplianceCheck.as_str().into(),
        item_id: Some(item_id),
        // per station (the router scopes keys to the device): the same photo in the same
        // visit is one check, however often it is judged
        idempotency_key: format!("compliance_check/visit-{visit_id}/item-{item_id}"),
        input_json: input.to_string(),
        blobs: vec![photo_sha256.to_string()],
    }
}

/// Pages sent with a document job as images: enough for an invoice (first pages and totals)
/// and a judgment's opening; the whole text goes as text.
pub(crate) const JOB_PAGES: u32 = 5;

/// A doubtful document's second opinion from the router's LLM: the invoice's fields, or a
/// judgment's summary, from its page images, its text and the local extraction. The key names
/// the item and the text read, so extracting the same text again asks once.
pub(crate) fn document_job(
    kind: JobKind,
    item_id: i64,
    page_sha256s: Vec<String>,
    text: &str,
    local: &serde_json::Value,
    store_id: &str,
) -> NewOutbox {
    use sha2::Digest;
    let text_hash = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let input = match kind {
        JobKind::LegalSummary => serde_json::json!({
            "page_sha256s": page_sha256s,
            "text": text,
        }),
        _ => serde_json::json!({
            "store_id": store_id,
            "page_sha256s": page_sha256s,
            "ocr_text": text,
            "local": local,
        }),
    };
    NewOutbox {
        kind: kind.as_str().into(),
        item_id: Some(item_id),
        idempotency_key: format!("{}/item-{item_id}/{}", kind.as_str(), &text_hash[..16]),
        input_json: input.to_string(),
        blobs: page_sha256s,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CheckInput {
    pub(crate) store_id: String,
    pub(crate) rules: Vec<AskedRule>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AskedRule {
    pub(crate) id: String,
    pub(crate) text: String,
}

/// The answer of `compliance_check.v1` (its schema is checked by the router before it is kept).
#[derive(Debug, Deserialize)]
pub(crate) struct CheckAnswer {
    pub(crate) rules: Vec<RuleVerdict>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RuleVerdict {
    pub(crate) id: String,
    pub(crate) passed: Option<bool>,
    pub(crate) confidence: f64,
    pub(crate) reason: String,
}

/// The answers of a check, by the rule texts asked; an answer for a rule that was not asked is
/// dropped, and a rule left unanswered stays pending.
pub(crate) fn rule_answers(input: &CheckInput, answer: &CheckAnswer) -> Vec<store::RuleAnswer> {
    answer
        .rules
        .iter()
        .filter_map(|verdict| {
            let asked = input.rules.iter().find(|r| r.id == verdict.id)?;
            Some(store::RuleAnswer {
                rule: asked.text.clone(),
                passed: verdict.passed,
                confidence: verdict.confidence.clamp(0.0, 1.0),
                reason: verdict.reason.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_back_to_the_rules_asked() {
        let job = compliance_check_job(
            3,
            9,
            &"ab".repeat(32),
            "s1",
            &["tags visible".into(), "no gaps".into()],
        );
        let input: CheckInput = serde_json::from_str(&job.input_json).unwrap();
        assert_eq!(input.store_id, "s1");
        let answer: CheckAnswer = serde_json::from_value(serde_json::json!({"rules": [
            {"id": "rule-2", "passed": false, "confidence": 0.8, "reason": "a gap"},
            {"id": "rule-9", "passed": true, "confidence": 1.0, "reason": "not asked"},
        ]}))
        .unwrap();
        let answers = rule_answers(&input, &answer);
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].rule, "no gaps");
        assert_eq!(answers[0].passed, Some(false));
        assert_eq!(job.blobs, vec!["ab".repeat(32)]);
    }
}
