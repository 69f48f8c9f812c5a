//! The station's local vision engine.
//!
//! Pure functions over bytes: no database, no UI. The one process-wide state is ONNX Runtime
//! (it allows one environment per process). Every function here is CPU-bound and synchronous:
//! run it on a blocking worker.

pub mod category;
pub mod cpu;
pub mod imagenet;
pub mod intake;
pub mod ocr;
pub mod ocr_agreement;
pub mod page;
pub mod pdf;
pub mod photo_measures;
pub mod pool;
pub mod quality;
pub mod runtime;
pub mod workers;

pub use intake::{
    decode_for_gate, probe, GateImage, ImageFormat, ImageInfo, IntakeError, IntakeLimits,
};
pub use quality::{
    assess, Bound, CheckOutcome, GateCheck, GateConfig, GateConfigError, GateProfile,
    QualityReport, QualityVerdict, DEFAULT_GATE_CONFIG_TOML,
};

/// Identifies the code that produced an analysis; stored with every analysis row so results can
/// be traced back to the exact gate logic that made them.
pub const ENGINE_VERSION: &str =
    concat!("engine ", env!("CARGO_PKG_VERSION"), " / quality-gate v1");
