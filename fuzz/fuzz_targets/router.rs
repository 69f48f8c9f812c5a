//! What the router reads from outside: a client's chat body, a backend's answer (its error
//! object, its usage counts, each line of a stream, its `Retry-After` headers), its TOML
//! config; and the station's reading of the router's `Retry-After`. Any bytes give a value or
//! a clear error, never a panic.
#![no_main]

use axum::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = router::api::chat_body(bytes);
    let _ = router::backend::provider_error(bytes);
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let _ = router::backend::usage_of(&json);
    }
    for line in bytes.split(|b| *b == b'\n') {
        let _ = router::dispatch::sse_line(line);
    }
    if let Ok(value) = HeaderValue::from_bytes(bytes) {
        for name in ["retry-after", "retry-after-ms"] {
            let mut headers = HeaderMap::new();
            headers.insert(name, value.clone());
            let _ = router::backend::retry_after(&headers);
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = router::config::RouterConfig::from_toml(text);
        let _ = sync::retry::parse_retry_after(text, time::OffsetDateTime::UNIX_EPOCH);
    }
});
