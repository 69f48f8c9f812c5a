//! Instances of a JSON Schema, derived from a seed: the fake's answer to a structured-output
//! request. The generator covers the keywords LLM schemas use (OpenAI strict mode, schemars
//! output with `$defs`/`$ref`); what it cannot satisfy by construction (patterns, `oneOf`
//! overlaps, `uniqueItems`) is caught by validating the result and trying other seeds.

use crate::rng::{mix, Rng};
use serde_json::{json, Map, Value};

/// Deeper than any real answer schema; stops recursive `$ref`s.
const MAX_DEPTH: usize = 24;
/// Seeds tried before giving up on a valid instance.
const ATTEMPTS: u64 = 16;

const WORDS: &[&str] = &[
    "invoice",
    "receipt",
    "shelf",
    "store",
    "total",
    "amount",
    "vendor",
    "clause",
    "court",
    "party",
    "section",
    "rule",
    "photo",
    "display",
    "price",
    "tax",
    "date",
    "page",
    "line",
    "review",
    "summary",
    "compliant",
    "visible",
    "missing",
    "signed",
    "paid",
    "filed",
];

/// A best-effort instance of `schema`; may not validate (see [`valid_instance`]).
pub fn instance(schema: &Value, seed: u64) -> Value {
    let mut generator = Generator {
        root: schema,
        rng: Rng::new(seed),
    };
    generator.value(schema, 0)
}

/// An instance that `validator` accepts, and whether one was found; when none is, the last try
/// comes back so the caller can still answer (and count the miss).
pub fn valid_instance(
    schema: &Value,
    seed: u64,
    validator: &jsonschema::Validator,
) -> (Value, bool) {
    let mut last = Value::Null;
    for attempt in 0..ATTEMPTS {
        let candidate = instance(schema, mix(seed, attempt));
        if validator.is_valid(&candidate) {
            return (candidate, true);
        }
        last = candidate;
    }
    (last, false)
}

/// A JSON value that `validator` rejects, derived from a valid one; `None` when the schema
/// accepts everything tried (then the caller sends text that is not JSON at all).
pub fn invalid_instance(
    valid: &Value,
    schema: &Value,
    validator: &jsonschema::Validator,
) -> Option<Value> {
    let mut candidates = Vec::new();
    if let (Value::Object(object), Some(required)) = (valid, schema.get("required")) {
        if let Some(first) = required
            .as_array()
            .and_then(|r| r.first())
            .and_then(Value::as_str)
        {
            let mut missing = object.clone();
            missing.remove(first);
            candidates.push(Value::Object(missing));
        }
    }
    candidates.extend([
        Value::Null,
        json!("not what the schema asked for"),
        json!(-1.5),
        json!([]),
        json!({"unexpected": true}),
    ]);
    candidates.into_iter().find(|c| !validator.is_valid(c))
}

struct Generator<'a> {
    root: &'a Value,
    rng: Rng,
}

impl Generator<'_> {
    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        let Value::Object(s) = schema else {
            // `true` accepts anything, `false` nothing: a string is as good as any answer.
            return json!(self.word());
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let root = self.root;
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(root, r))
        {
            return self.value(target, depth + 1);
        }
        if let Some(constant) = s.get("const") {
            return constant.clone();
        }
        if let Some(options) = s
            .get("enum")
            .and_then(Value::as_array)
            .filter(|o| !o.is_empty())
        {
            return options[self.pick(options.len())].clone();
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            return self.value(&merge_all_of(s, parts), depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = s
                .get(key)
                .and_then(Value::as_array)
                .filter(|o| !o.is_empty())
            {
                let choice = self.prefer_non_null(options.iter().map(is_null_schema));
                return self.value(&options[choice], depth + 1);
            }
        }
        match self.type_of(s) {
            "object" => self.object(s, depth),
            "array" => self.array(s, depth),
            "integer" => self.integer(s),
            "number" => self.number(s),
            "boolean" => Value::Bool(self.rng.below(2) == 0),
            "null" => Value::Null,
            _ => Value::String(self.string(s)),
        }
    }

    fn pick(&mut self, len: usize) -> usize {
        self.rng.below(len as u64) as usize
    }

    /// Options that are null are taken one time in four, so optional fields mostly carry a value.
    fn prefer_non_null(&mut self, nulls: impl Iterator<Item = bool>) -> usize {
        let nulls: Vec<bool> = nulls.collect();
        let values: Vec<usize> = (0..nulls.len()).filter(|i| !nulls[*i]).collect();
        if values.is_empty() || (values.len() < nulls.len() && self.rng.below(4) == 0) {
            return self.pick(nulls.len());
        }
        values[self.pick(values.len())]
    }

    fn type_of<'s>(&mut self, s: &'s Map<String, Value>) -> &'s str {
        match s.get("type") {
            Some(Value::String(t)) => t,
            Some(Value::Array(types)) if !types.is_empty() => {
                let choice = self.prefer_non_null(types.iter().map(|t| t == "null"));
                types[choice].as_str().unwrap_or("string")
            }
            _ if s.contains_key("properties") || s.contains_key("required") => "object",
            _ if s.contains_key("items") || s.contains_key("prefixItems") => "array",
            _ if s.contains_key("minimum") || s.contains_key("maximum") => "number",
            _ => "string",
        }
    }

    fn object(&mut self, s: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(Value::Object(properties)) = s.get("properties") {
            for (name, sub) in properties {
                if required.contains(&name.as_str()) || self.rng.below(2) == 0 {
                    let value = self.value(sub, depth + 1);
                    out.insert(name.clone(), value);
                }
            }
        }
        for name in required {
            if !out.contains_key(name) {
                let value = match s.get("additionalProperties") {
                    Some(extra @ Value::Object(_)) => self.value(extra, depth + 1),
                    _ => json!(self.word()),
                };
                out.insert(name.to_owned(), value);
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, s: &Map<String, Value>, depth: usize) -> Value {
        let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = s
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(min.max(1) + 2);
        let len = (min.max(1) + self.rng.below(3)).clamp(min, max.max(min));
        // Draft 2020 tuples are `prefixItems`; older drafts give `items` as an array.
        let (prefix, rest): (&[Value], Option<&Value>) =
            match (s.get("prefixItems"), s.get("items")) {
                (Some(Value::Array(p)), items) => (p, items),
                (None, Some(Value::Array(p))) => (p, s.get("additionalItems")),
                (_, items) => (&[], items),
            };
        let len = len.max(prefix.len() as u64);
        let mut out = Vec::new();
        for i in 0..len as usize {
            let item = match prefix.get(i).or(rest) {
                Some(sub) => self.value(sub, depth + 1),
                None => json!(self.word()),
            };
            out.push(item);
        }
        Value::Array(out)
    }

    fn integer(&mut self, s: &Map<String, Value>) -> Value {
        let lo = bound(s, "minimum", "exclusiveMinimum", 1.0).map(|v| v.ceil() as i64);
        let hi = bound(s, "maximum", "exclusiveMaximum", -1.0).map(|v| v.floor() as i64);
        let (lo, hi) = match (lo, hi) {
            (Some(lo), Some(hi)) => (lo, hi.max(lo)),
            (Some(lo), None) => (lo, lo.saturating_add(100)),
            (None, Some(hi)) => (hi.saturating_sub(100), hi),
            (None, None) => (0, 100),
        };
        let span = hi.saturating_sub(lo).unsigned_abs().saturating_add(1);
        let mut value = lo.saturating_add(self.rng.below(span) as i64);
        if let Some(step) = s
            .get("multipleOf")
            .and_then(Value::as_i64)
            .filter(|m| *m > 0)
        {
            value = (value.div_euclid(step) + i64::from(value.rem_euclid(step) != 0)) * step;
            if value > hi {
                value -= step;
            }
        }
        json!(value)
    }

    fn number(&mut self, s: &Map<String, Value>) -> Value {
        // Exclusive bounds move in by a hundredth: the value is rounded to two places anyway.
        let lo = bound(s, "minimum", "exclusiveMinimum", 0.01);
        let hi = bound(s, "maximum", "exclusiveMaximum", -0.01);
        let (lo, hi) = match (lo, hi) {
            (Some(lo), Some(hi)) => (lo, hi.max(lo)),
            (Some(lo), None) => (lo, lo + 1.0),
            (None, Some(hi)) => (hi - 1.0, hi),
            // Unbounded numbers in answer schemas are mostly confidences and scores.
            (None, None) => (0.0, 1.0),
        };
        let mut value = ((lo + self.rng.unit() * (hi - lo)) * 100.0).round() / 100.0;
        if let Some(step) = s
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|m| *m > 0.0)
        {
            value = (lo / step).ceil() * step;
        }
        json!(value.clamp(lo, hi))
    }

    fn string(&mut self, s: &Map<String, Value>) -> String {
        let n = self.rng.below(10_000);
        let mut text = match s.get("format").and_then(Value::as_str) {
            Some("date") => format!("2024-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
            Some("date-time") => format!(
                "2024-{:02}-{:02}T10:{:02}:00Z",
                1 + n % 12,
                1 + n % 28,
                n % 60
            ),
            Some("time") => format!("10:{:02}:00", n % 60),
            Some("email") => format!("reviewer{n}@example.com"),
            Some("uri" | "url") => format!("https://example.com/{n}"),
            Some("uuid") => {
                let (a, b) = (self.rng.next_u64(), self.rng.next_u64());
                format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    b >> 52,
                    b & 0xffff_ffff_ffff
                )
            }
            Some("ipv4") => format!("192.0.2.{}", n % 255),
            _ => {
                let count = 1 + self.rng.below(3);
                (0..count)
                    .map(|_| self.word())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
            if let Some(matching) = self.matching_pattern(pattern, &text) {
                text = matching;
            }
        }
        let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        while text.chars().count() < min {
            text.push('x');
        }
        if let Some(max) = max {
            text = text.chars().take(max).collect();
        }
        text
    }

    /// Patterns cannot be generated in general; try the shapes answer schemas usually ask for.
    fn matching_pattern(&mut self, pattern: &str, text: &str) -> Option<String> {
        let regex = regex::Regex::new(pattern).ok()?;
        let n = self.rng.below(1000);
        let candidates = [
            text.to_owned(),
            format!("{}.{:02}", n, n % 100),
            n.to_string(),
            format!("2024-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
            format!("A{n}"),
            "ABC".to_owned(),
            "abc".to_owned(),
            format!("29ABCDE{:04}F1Z5", n % 10_000),
        ];
        candidates.into_iter().find(|c| regex.is_match(c))
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.pick(WORDS.len())]
    }
}

/// A local `$ref` (`#/$defs/Name`); remote references are not followed.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

/// An inclusive bound from `inclusive` or, failing that, `exclusive` moved inwards by `nudge`.
fn bound(s: &Map<String, Value>, inclusive: &str, exclusive: &str, nudge: f64) -> Option<f64> {
    s.get(inclusive)
        .and_then(Value::as_f64)
        .or_else(|| s.get(exclusive).and_then(Value::as_f64).map(|v| v + nudge))
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// `allOf` of object schemas as one schema: properties and required lists united.
fn merge_all_of(outer: &Map<String, Value>, parts: &[Value]) -> Value {
    let mut merged = outer.clone();
    merged.remove("allOf");
    let mut properties = Map::new();
    let mut required = Vec::new();
    for part in std::iter::once(&Value::Object(outer.clone())).chain(parts) {
        for (key, value) in part.as_object().into_iter().flatten() {
            match key.as_str() {
                "properties" => properties.extend(value.as_object().cloned().unwrap_or_default()),
                "required" => required.extend(value.as_array().cloned().unwrap_or_default()),
                "allOf" => {}
                _ => {
                    merged.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    Value::Object(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: &Value) {
        let validator = match jsonschema::validator_for(schema) {
            Ok(v) => v,
            Err(e) => panic!("schema does not compile: {e}"),
        };
        for seed in 0..50 {
            let (value, ok) = valid_instance(schema, seed, &validator);
            assert!(
                ok,
                "seed {seed}: {value} does not validate against {schema}"
            );
            assert_eq!(value, valid_instance(schema, seed, &validator).0);
            let invalid = invalid_instance(&value, schema, &validator);
            assert!(invalid.is_some_and(|i| !validator.is_valid(&i)));
        }
    }

    #[test]
    fn generated_instances_validate() {
        check(&json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["verdict", "score", "count", "tags", "note", "kind", "nested", "either"],
            "properties": {
                "verdict": {"enum": ["pass", "fail", "unclear"]},
                "score": {"type": "number", "minimum": 0, "maximum": 1},
                "count": {"type": "integer", "exclusiveMinimum": 2, "maximum": 9, "multipleOf": 3},
                "tags": {"type": "array", "items": {"type": "string", "minLength": 3}, "minItems": 2, "maxItems": 4, "uniqueItems": true},
                "note": {"type": ["string", "null"], "maxLength": 12},
                "kind": {"const": "receipt"},
                "nested": {"type": "object", "required": ["ok", "none"], "properties": {
                    "ok": {"type": "boolean"}, "none": {"type": "null"},
                    "when": {"type": "string", "format": "date"}}},
                "either": {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[A-Z]{3}$"}]},
                "maybe": {"anyOf": [{"$ref": "#/$defs/Money"}, {"type": "null"}]}
            },
            "$defs": {"Money": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}}
        }));
        check(
            &json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}], "items": {"type": "null"}}),
        );
        check(
            &json!({"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
                                {"required": ["b"], "properties": {"b": {"type": "string", "format": "uuid"}}}]}),
        );
        check(
            &json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "children": {"type": "array", "maxItems": 2, "items": {"$ref": "#/$defs/Node"}}}}}}),
        );
    }

    #[test]
    fn station_result_schemas_get_valid_answers() {
        for text in [
            include_str!("../../../schemas/invoice.v1.schema.json"),
            include_str!("../../../schemas/legal.v1.schema.json"),
            include_str!("../../../schemas/compliance.v1.schema.json"),
        ] {
            match serde_json::from_str::<Value>(text) {
                Ok(schema) => check(&schema),
                Err(e) => panic!("{e}"),
            }
        }
    }
}
