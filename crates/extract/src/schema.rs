//! The versioned JSON Schemas of the three result kinds. The files in `schemas/` are generated
//! from the Rust types (`UPDATE_SCHEMAS=1 cargo test -p extract schemas_are_current` rewrites
//! them; the test fails when they drift), and every result is checked against its file before
//! it is stored.

use crate::compliance::{Compliance, COMPLIANCE_SCHEMA};
use crate::invoice::{Invoice, INVOICE_SCHEMA};
use crate::legal::{LegalDocument, LEGAL_SCHEMA};
use crate::ExtractError;
use protocol::ResultKind;
use std::sync::LazyLock;

/// A result kind's schema: its version, file, committed text and the schema the types define.
pub trait ResultSchema: Copy {
    /// The `schema` value results of this kind carry.
    fn version(self) -> &'static str;
    /// File name under `schemas/`.
    fn file_name(self) -> &'static str;
    /// The committed schema text.
    fn committed(self) -> &'static str;
    /// The schema as the Rust types define it now.
    fn generate(self) -> serde_json::Value;
}

impl ResultSchema for ResultKind {
    /// The `schema` value results of this kind carry.
    fn version(self) -> &'static str {
        match self {
            ResultKind::Compliance => COMPLIANCE_SCHEMA,
            ResultKind::Invoice => INVOICE_SCHEMA,
            ResultKind::Legal => LEGAL_SCHEMA,
        }
    }

    /// File name under `schemas/`.
    fn file_name(self) -> &'static str {
        match self {
            ResultKind::Compliance => "compliance.v1.schema.json",
            ResultKind::Invoice => "invoice.v1.schema.json",
            ResultKind::Legal => "legal.v1.schema.json",
        }
    }

    /// The committed schema text.
    fn committed(self) -> &'static str {
        match self {
            ResultKind::Compliance => include_str!("../../../schemas/compliance.v1.schema.json"),
            ResultKind::Invoice => include_str!("../../../schemas/invoice.v1.schema.json"),
            ResultKind::Legal => include_str!("../../../schemas/legal.v1.schema.json"),
        }
    }

    /// The schema as the Rust types define it now.
    fn generate(self) -> serde_json::Value {
        let (schema, title, description) = match self {
            ResultKind::Compliance => (
                schemars::schema_for!(Compliance),
                "Store compliance result",
                "Whether a store photo is valid, why not, the rules with their evidence, and the engine's payload.",
            ),
            ResultKind::Invoice => (
                schemars::schema_for!(Invoice),
                "Invoice or receipt",
                "Header fields, line items, subtotal, taxes and total, each with confidence, checks and the OCR boxes it came from.",
            ),
            ResultKind::Legal => (
                schemars::schema_for!(LegalDocument),
                "Legal case summary",
                "Case metadata, parties, judges, dates, citations, sections anchored to pages, and an extractive summary.",
            ),
        };
        let mut value = schema.to_value();
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "$id".into(),
                format!("https://review-station.local/schemas/{}", self.file_name()).into(),
            );
            map.insert("title".into(), title.into());
            map.insert("description".into(), description.into());
        }
        value
    }
}

struct Validators {
    compliance: Result<jsonschema::Validator, String>,
    invoice: Result<jsonschema::Validator, String>,
    legal: Result<jsonschema::Validator, String>,
}

fn compile(kind: ResultKind) -> Result<jsonschema::Validator, String> {
    let schema: serde_json::Value =
        serde_json::from_str(kind.committed()).map_err(|e| e.to_string())?;
    jsonschema::validator_for(&schema).map_err(|e| e.to_string())
}

static VALIDATORS: LazyLock<Validators> = LazyLock::new(|| Validators {
    compliance: compile(ResultKind::Compliance),
    invoice: compile(ResultKind::Invoice),
    legal: compile(ResultKind::Legal),
});

/// Checks a result against its committed schema.
pub fn validate(kind: ResultKind, value: &serde_json::Value) -> Result<(), ExtractError> {
    let validator = match kind {
        ResultKind::Compliance => &VALIDATORS.compliance,
        ResultKind::Invoice => &VALIDATORS.invoice,
        ResultKind::Legal => &VALIDATORS.legal,
    };
    let validator = validator.as_ref().map_err(|e| ExtractError::Schema {
        schema: kind.version(),
        message: format!("the schema itself is invalid: {e}"),
    })?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ExtractError::Schema {
            schema: kind.version(),
            message: errors.join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::WireEnum;

    #[test]
    fn schemas_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        for &kind in ResultKind::ALL {
            let text = format!("{:#}\n", kind.generate());
            let path = dir.join(kind.file_name());
            if std::env::var_os("UPDATE_SCHEMAS").is_some() {
                std::fs::write(&path, &text).unwrap();
            } else {
                assert_eq!(
                    kind.committed(),
                    text,
                    "{} drifted from the Rust types: UPDATE_SCHEMAS=1 cargo test -p extract schemas_are_current",
                    kind.file_name()
                );
            }
        }
    }

    #[test]
    fn a_wrong_result_is_rejected_with_the_place() {
        let bad = serde_json::json!({"schema": "invoice/1", "total": {"value": 12}});
        let err = validate(ResultKind::Invoice, &bad).unwrap_err().to_string();
        assert!(err.contains("invoice/1"), "{err}");
        assert!(
            err.contains("required") || err.contains("is not of type"),
            "{err}"
        );
    }
}
