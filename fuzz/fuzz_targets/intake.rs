//! A photo's bytes from anywhere: format sniffing, header and EXIF reading, the limits, and the
//! decode the quality gate works on, and the gate's measures on it. Limits kept small so a legal but large canvas is cheap.
#![no_main]

use engine::intake::{decode_for_gate, probe, IntakeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let limits = IntakeLimits {
        max_bytes: 4 << 20,
        max_pixels: 4_000_000,
    };
    if probe(bytes, &limits).is_ok() {
        let _ = decode_for_gate(bytes, &limits, 256);
        // the import's whole path: decode, orientation, every quality check
        let _ = engine::assess(bytes, &limits, &engine::GateConfig::default());
    }
});
