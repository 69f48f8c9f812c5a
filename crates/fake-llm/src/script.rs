//! The fake's behaviour as data: latency, faults, usage extras and scripted answers, loaded from
//! `--script` or `POST /_fake/script`. Every choice is a function of the seed and the request
//! number (or, for a scripted answer, of the request's text), so a scripted run is reproducible;
//! unknown fields are rejected so a typo in a test's script fails loudly instead of silently
//! scripting nothing.
//!
//! ```json
//! {"seed": 1, "latency": {"fixed_ms": 20},
//!  "faults": [{"kind": "quota", "after_requests": 200}],
//!  "answers": [{"when_contains": "price tags",
//!               "json": {"rules": [{"id": "rule-1", "passed": false, "confidence": 0.9,
//!                                   "reason": "no price tag can be seen"}]}}]}
//! ```
//!
//! `answers` force the content of structured answers (`response_format` `json_schema` or
//! `json_object`): the first entry whose `when_contains` occurs in the request's text (its
//! messages' string contents and text parts) is answered with its `json` instead of a seeded
//! instance. It is checked against the request's schema like a generated one: an answer the
//! schema refuses is still sent, and counted in `schema_misses`. A fault still applies on top
//! (`invalid_content` breaks the scripted answer). Requests without a JSON response format are
//! not affected.

use crate::rng::{mix, Rng};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why a script was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("script is not valid JSON for the fake's format: {0}")]
    Json(#[from] serde_json::Error),
    #[error("script is invalid: {0}")]
    Invalid(String),
}

/// The whole behaviour of the fake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Seeds latency samples and share-based faults that give no seed of their own.
    #[serde(default)]
    pub seed: u64,
    /// Delay before the answer (before the first chunk of a stream).
    #[serde(default)]
    pub latency: Latency,
    /// Delay between stream chunks.
    #[serde(default = "default_chunk_ms")]
    pub stream_chunk_ms: u64,
    /// Tried in order; the first rule that matches a request decides its fault.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// Usage figures beyond the ones derived from the request.
    #[serde(default)]
    pub usage: UsageScript,
    /// Tried in order; the first whose text occurs in a structured request decides its answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<ScriptedAnswer>,
}

const fn default_chunk_ms() -> u64 {
    5
}

impl Default for Script {
    fn default() -> Self {
        Self {
            seed: 0,
            latency: Latency::default(),
            stream_chunk_ms: default_chunk_ms(),
            faults: Vec::new(),
            usage: UsageScript::default(),
            answers: Vec::new(),
        }
    }
}

/// A structured answer given instead of a seeded one, to requests whose text contains
/// `when_contains` (case-sensitive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedAnswer {
    pub when_contains: String,
    /// The answer's content, as JSON.
    pub json: serde_json::Value,
}

/// Latency distribution, e.g. `{"fixed_ms":50}`, `{"uniform_ms":[20,80]}`,
/// `{"lognormal":{"median_ms":50,"p99_ms":400}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    FixedMs(u64),
    UniformMs([u64; 2]),
    Lognormal { median_ms: f64, p99_ms: f64 },
}

impl Default for Latency {
    fn default() -> Self {
        Self::FixedMs(0)
    }
}

/// z of the 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874;
/// No sample exceeds this, so a long lognormal tail cannot wedge a test.
const MAX_LATENCY_MS: f64 = 600_000.0;

impl Latency {
    pub fn sample(&self, rng: &mut Rng) -> Duration {
        let ms = match self {
            Self::FixedMs(ms) => *ms as f64,
            Self::UniformMs([a, b]) => {
                let (lo, hi) = if a <= b { (*a, *b) } else { (*b, *a) };
                (lo + rng.below(hi - lo + 1)) as f64
            }
            Self::Lognormal { median_ms, p99_ms } => {
                let sigma = (p99_ms / median_ms).ln() / Z99;
                median_ms * (sigma * rng.normal()).exp()
            }
        };
        Duration::from_micros((ms.clamp(0.0, MAX_LATENCY_MS) * 1000.0) as u64)
    }
}

/// What goes wrong, each in the configured provider's real wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429, the provider's quota-exhausted body.
    Quota,
    /// 429, the provider's rate-limit body with its retry hints.
    RateLimit,
    /// 500/502/503 (`status`, default 503) with the provider's body.
    ServerError,
    /// A normal answer, but only after `delay_ms` (default 30 000 ms).
    Timeout,
    /// Never answers; holds the connection until the client gives up.
    Hang,
    /// The answer stops mid-way and the connection is closed (no `[DONE]`).
    CutStream,
    /// 200 whose body (or stream chunk) is not valid JSON.
    #[serde(alias = "malformed_json")]
    MalformedBody,
    /// 200, valid envelope, but the content does not match the requested schema.
    InvalidContent,
    /// 400 with the provider's invalid-argument body.
    BadRequest,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Quota => "quota",
            Self::RateLimit => "rate_limit",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Hang => "hang",
            Self::CutStream => "cut_stream",
            Self::MalformedBody => "malformed_body",
            Self::InvalidContent => "invalid_content",
            Self::BadRequest => "bad_request",
        }
    }
}

/// When a fault applies. All given conditions must hold; a rule with no selector (`every`,
/// `share`) hits every request in its window. Request numbers count chat-completion requests
/// from 1 since the start or the last `/_fake/reset`; times count from the same moment or from
/// when the script was set, whichever is later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub kind: FaultKind,
    /// Every Nth request of the window: the Nth, 2Nth, … after `after_requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// This share (0–1) of requests, chosen by hashing the request number with `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The first N requests are spared; the window starts at request N+1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_requests: Option<u64>,
    /// The window ends with request N (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_requests: Option<u64>,
    /// The window opens this many ms after the clock start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<u64>,
    /// The window closes this many ms after the clock start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// Only requests for this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `server_error`: 500, 502 or 503 (default 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `timeout`: how long before the (normal) answer; default 30 000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `rate_limit`: the retry hint sent (headers for OpenAI, RetryInfo for Gemini); default 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl FaultRule {
    /// A rule of this kind hitting every request; refine with struct update syntax.
    pub fn always(kind: FaultKind) -> Self {
        Self {
            kind,
            every: None,
            share: None,
            seed: None,
            after_requests: None,
            until_requests: None,
            from_ms: None,
            until_ms: None,
            model: None,
            status: None,
            delay_ms: None,
            retry_after_ms: None,
        }
    }

    fn matches(&self, n: u64, elapsed_ms: u64, model: &str, script_seed: u64) -> bool {
        let after = self.after_requests.unwrap_or(0);
        if n <= after || self.until_requests.is_some_and(|until| n > until) {
            return false;
        }
        if self.from_ms.is_some_and(|from| elapsed_ms < from)
            || self.until_ms.is_some_and(|until| elapsed_ms >= until)
        {
            return false;
        }
        if self.model.as_deref().is_some_and(|m| m != model) {
            return false;
        }
        if let Some(every) = self.every {
            if !(n - after).is_multiple_of(every) {
                return false;
            }
        }
        if let Some(share) = self.share {
            let seed = self.seed.unwrap_or(script_seed);
            if Rng::new(mix(seed, n)).unit() >= share {
                return false;
            }
        }
        true
    }
}

/// Extra usage figures a real provider would report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageScript {
    /// Prompt tokens per image part (Gemini counts 258 for an image up to 384 px).
    #[serde(default = "default_image_tokens")]
    pub image_tokens: u64,
    /// Reported as `prompt_tokens_details.cached_tokens` (capped at the prompt tokens).
    #[serde(default)]
    pub cached_tokens: u64,
    /// Reported as `completion_tokens_details.reasoning_tokens`, included in completion tokens.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

const fn default_image_tokens() -> u64 {
    258
}

impl Default for UsageScript {
    fn default() -> Self {
        Self {
            image_tokens: default_image_tokens(),
            cached_tokens: 0,
            reasoning_tokens: 0,
        }
    }
}

/// Salt so latency samples and share faults of the same request are independent.
const LATENCY_SALT: u64 = 0x6c61_7465_6e63_7921;

impl Script {
    pub fn from_json(text: &str) -> Result<Self, ScriptError> {
        let script: Self = serde_json::from_str(text)?;
        script.validate()?;
        Ok(script)
    }

    pub fn validate(&self) -> Result<(), ScriptError> {
        if let Latency::Lognormal { median_ms, p99_ms } = self.latency {
            if !(median_ms > 0.0 && p99_ms >= median_ms) {
                return Err(ScriptError::Invalid(
                    "lognormal needs 0 < median_ms <= p99_ms".into(),
                ));
            }
        }
        if self.answers.iter().any(|a| a.when_contains.is_empty()) {
            return Err(ScriptError::Invalid(
                "an answer's when_contains must not be empty (it would match every request)".into(),
            ));
        }
        for rule in &self.faults {
            if rule.every == Some(0) {
                return Err(ScriptError::Invalid("every must be at least 1".into()));
            }
            if rule.share.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
                return Err(ScriptError::Invalid("share must be within 0..=1".into()));
            }
            if let Some(status) = rule.status {
                if rule.kind != FaultKind::ServerError || ![500, 502, 503].contains(&status) {
                    return Err(ScriptError::Invalid(
                        "status is for server_error only: 500, 502 or 503".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The fault for request number `n` (1-based), if any.
    pub fn pick(&self, n: u64, elapsed_ms: u64, model: &str) -> Option<&FaultRule> {
        self.faults
            .iter()
            .find(|rule| rule.matches(n, elapsed_ms, model, self.seed))
    }

    /// The scripted answer for a request whose text is `text`, if any.
    pub fn answer_for(&self, text: &str) -> Option<&serde_json::Value> {
        self.answers
            .iter()
            .find(|a| text.contains(a.when_contains.as_str()))
            .map(|a| &a.json)
    }

    pub fn latency_for(&self, n: u64) -> Duration {
        self.latency
            .sample(&mut Rng::new(mix(self.seed ^ LATENCY_SALT, n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let script = Script::from_json(
            r#"{"seed":1,"latency":{"lognormal":{"median_ms":50,"p99_ms":400}},
                "faults":[{"kind":"quota","after_requests":200},
                          {"kind":"server_error","status":502,"share":0.1,"seed":7},
                          {"kind":"malformed_json","every":10}]}"#,
        );
        let script = match script {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(script.faults[2].kind, FaultKind::MalformedBody);
        assert!(Script::from_json(r#"{"latncy":{"fixed_ms":1}}"#).is_err());
        assert!(Script::from_json(r#"{"faults":[{"kind":"quota","every":0}]}"#).is_err());
    }

    #[test]
    fn scripted_answers_go_to_the_first_request_text_that_matches() {
        let script = Script::from_json(
            r#"{"answers":[{"when_contains":"price tags","json":{"rules":[]}},
                           {"when_contains":"price","json":{"other":1}}]}"#,
        );
        let script = match script {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            script.answer_for("rule: price tags are visible"),
            Some(&serde_json::json!({"rules": []}))
        );
        assert_eq!(
            script.answer_for("the price is right"),
            Some(&serde_json::json!({"other": 1}))
        );
        assert_eq!(script.answer_for("Price Tags"), None, "case-sensitive");
        assert!(Script::from_json(r#"{"answers":[{"when_contains":"","json":1}]}"#).is_err());
        assert!(Script::from_json(r#"{"answers":[{"when":"x","json":1}]}"#).is_err());
    }

    #[test]
    fn windows_every_and_share_select_deterministically() {
        let script = Script {
            faults: vec![
                FaultRule {
                    after_requests: Some(10),
                    until_requests: Some(20),
                    every: Some(5),
                    ..FaultRule::always(FaultKind::Quota)
                },
                FaultRule {
                    share: Some(0.25),
                    seed: Some(7),
                    ..FaultRule::always(FaultKind::ServerError)
                },
            ],
            ..Script::default()
        };
        let kinds = |n| script.pick(n, 0, "m").map(|r| r.kind);
        assert_eq!(kinds(15), Some(FaultKind::Quota));
        assert_eq!(kinds(20), Some(FaultKind::Quota));
        assert_ne!(kinds(25), Some(FaultKind::Quota));
        let errors = (1..=4000)
            .filter(|n| kinds(*n) == Some(FaultKind::ServerError))
            .count();
        assert!((850..1150).contains(&errors), "{errors}");
        let again: Vec<_> = (1..=100).map(kinds).collect();
        assert_eq!(again, (1..=100).map(kinds).collect::<Vec<_>>());
    }

    #[test]
    fn lognormal_has_the_asked_median_and_tail() {
        let script = Script {
            latency: Latency::Lognormal {
                median_ms: 50.0,
                p99_ms: 400.0,
            },
            ..Script::default()
        };
        let mut ms: Vec<f64> = (1..=20_000)
            .map(|n| script.latency_for(n).as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        let (p50, p99) = (ms[10_000], ms[19_800]);
        assert!((45.0..55.0).contains(&p50), "p50 {p50}");
        assert!((330.0..480.0).contains(&p99), "p99 {p99}");
    }
}
