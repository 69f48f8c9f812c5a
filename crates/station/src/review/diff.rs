//! What a reviewer changed: the values a result can be judged on, compared before and after.

/// What a reviewer can judge in a result, by name: a document's fields (top-level objects with
/// a `confidence`: their value), and for a compliance result its verdict (`valid`), the
/// category shown (`category`) and each rule (`rule:<id>`: passed or not).
fn judged_values(
    result: &serde_json::Value,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    let Some(fields) = result.as_object() else {
        return out;
    };
    let compliance = fields.get("rules").is_some_and(serde_json::Value::is_array)
        && fields
            .get("valid")
            .is_some_and(serde_json::Value::is_boolean);
    if compliance {
        out.insert(
            "valid".to_string(),
            fields.get("valid").cloned().unwrap_or_default(),
        );
        out.insert(
            "category".to_string(),
            fields
                .get("category")
                .and_then(|c| c.get("predicted"))
                .cloned()
                .unwrap_or_default(),
        );
        for rule in fields
            .get("rules")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = rule.get("id").and_then(serde_json::Value::as_str) {
                out.insert(
                    format!("rule:{id}"),
                    rule.get("passed").cloned().unwrap_or_default(),
                );
            }
        }
        return out;
    }
    for (name, field) in fields {
        if field.get("confidence").is_some() {
            out.insert(
                name.clone(),
                field.get("value").cloned().unwrap_or_default(),
            );
        }
    }
    out
}

/// The fields, verdicts and rules whose value the reviewer changed.
pub fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let after = judged_values(after);
    judged_values(before)
        .into_iter()
        .filter(|(name, value)| after.get(name).unwrap_or(&serde_json::Value::Null) != value)
        .map(|(name, _)| name)
        .collect()
}
