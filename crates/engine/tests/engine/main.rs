//! The engine's integration tests, one binary: the quality gate on real photos (`gate`), ONNX
//! Runtime, the fetched models and PDFium (`runtime`), decompression bombs of every format
//! (`bombs`), and OCR on real receipts on this CPU and
//! on an emulated one without VNNI (`ocr`). The test command runs `models/fetch.py` first, so a
//! missing model is a failure, not a skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod bombs;
mod gate;
mod ocr;
mod runtime;

use std::path::PathBuf;

/// A file under the repository's tests/fixtures.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}
