//! A document's local extraction against the router LLM's, field by field: the fields both
//! found and agree on raise the task's confidence; the ones they disagree on are listed with
//! both values (and the local evidence stays on the field), so the reviewer sees both.

use serde_json::{json, Map, Value};

/// How two readings of a document compare.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Comparison {
    pub(crate) agree: Vec<String>,
    /// (field, local value, the LLM's value)
    pub(crate) differ: Vec<(String, Value, Value)>,
}

impl Comparison {
    /// The task's confidence after the comparison: raised by the share of compared fields that
    /// agree, never lowered (disagreement keeps it in review, which it already is).
    pub(crate) fn confidence(&self, before: f64) -> f64 {
        let compared = self.agree.len() + self.differ.len();
        if compared == 0 {
            return before;
        }
        #[allow(clippy::cast_precision_loss)] // field counts are tiny
        let share = self.agree.len() as f64 / compared as f64;
        (before + (1.0 - before) * share).clamp(before, 1.0)
    }

    /// What the task's model output carries of it.
    pub(crate) fn to_json(&self, llm: &Value, prompt_version: &str) -> Value {
        json!({
            "prompt_version": prompt_version,
            "result": llm,
            "agree": self.agree,
            "differ": self.differ.iter().map(|(field, local, theirs)| json!({
                "field": field, "local": local, "llm": theirs,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Compares the top-level fields (`{value, …}`) both readings have a value for.
pub(crate) fn compare(local: &Value, llm: &Value) -> Comparison {
    let (Some(local), Some(llm)) = (local.as_object(), llm.as_object()) else {
        return Comparison::default();
    };
    let mut comparison = Comparison::default();
    for (name, field) in local {
        let (Some(mine), Some(theirs)) = (value_of(field), llm.get(name).and_then(value_of)) else {
            continue;
        };
        if normalized(mine) == normalized(theirs) {
            comparison.agree.push(name.clone());
        } else {
            comparison
                .differ
                .push((name.clone(), mine.clone(), theirs.clone()));
        }
    }
    comparison
}

fn value_of(field: &Value) -> Option<&Value> {
    field.as_object()?.get("value").filter(|v| !v.is_null())
}

/// Case, spacing and number formatting aside: `"RM 9.50"` and `"9.5"` differ, `"9.50"` and
/// `"9.5"` do not; a date compares by its ISO day.
fn normalized(value: &Value) -> String {
    match value {
        Value::Object(map) => map.get("iso").map_or_else(|| canonical(map), normalized),
        Value::String(text) => {
            let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
            number(&words).unwrap_or_else(|| words.to_lowercase())
        }
        Value::Number(n) => number(&n.to_string()).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn canonical(map: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    keys.iter()
        .map(|k| format!("{k}={}", normalized(&map[*k])))
        .collect::<Vec<_>>()
        .join(",")
}

/// A plain decimal without trailing zeros, when `text` is one.
fn number(text: &str) -> Option<String> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if digits.matches('.').count() > 1 {
        return None;
    }
    let trimmed = if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.')
    } else {
        t
    };
    Some(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_compared_by_meaning_not_by_formatting() {
        let local = json!({
            "number": {"value": "INV-001", "confidence": 0.4},
            "total": {"value": "9.50", "confidence": 0.5},
            "date": {"value": {"iso": "2026-12-01", "ambiguous": true, "order": "dmy"}, "confidence": 0.3},
            "seller": {"value": "ACME  Trading", "confidence": 0.9},
            "buyer": {"value": null, "confidence": 0.0},
            "confidence": 0.5,
        });
        let llm = json!({
            "number": {"value": "INV-007"},
            "total": {"value": "9.5"},
            "date": {"value": {"iso": "2026-12-01", "ambiguous": false, "order": "ymd"}},
            "seller": {"value": "acme trading"},
            "buyer": {"value": "Bo"},
        });
        let c = compare(&local, &llm);
        let mut agree = c.agree.clone();
        agree.sort();
        assert_eq!(agree, ["date", "seller", "total"]);
        assert_eq!(c.differ.len(), 1);
        assert_eq!(c.differ[0].0, "number");
        assert_eq!(
            (c.differ[0].1.clone(), c.differ[0].2.clone()),
            (json!("INV-001"), json!("INV-007"))
        );
        // 3 of 4 compared agree: three quarters of the way to certain
        assert!((c.confidence(0.6) - 0.9).abs() < 1e-9);
        assert!((Comparison::default().confidence(0.6) - 0.6).abs() < 1e-9);
        let shown = c.to_json(&llm, "invoice_fields.v1");
        assert_eq!(shown["differ"][0]["llm"], "INV-007");
    }
}
