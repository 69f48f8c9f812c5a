//! The stores file (`stores.toml`) a person edits: any text gives the stores or a clear error,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = station::stores::parse_config(text, std::path::Path::new("/nonexistent/data"));
});
