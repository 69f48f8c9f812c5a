//! The TOML configurations a person edits: the quality gate's thresholds and a store's review
//! policy. Any text gives a config or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = engine::GateConfig::from_toml(text);
    let _ = review::Policy::from_toml(text);
});
