//! The PDF wrapper over PDFium: page count and limits, the text layer and a small rendering of
//! the first page, from any bytes. Needs PDFium (`models/fetch.py` puts it beside the models;
//! `PDFIUM_LIBRARY` names another). Errors are answers; a panic or a crash is a finding.
#![no_main]

use std::sync::Arc;

use engine::pdf::PdfEngine;
use libfuzzer_sys::fuzz_target;

fn engine() -> Option<Arc<PdfEngine>> {
    let library = std::env::var_os("PDFIUM_LIBRARY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| engine::runtime::default_models_dir().join("runtime/libpdfium.so"));
    PdfEngine::shared(&library).ok()
}

fuzz_target!(|bytes: &[u8]| {
    let Some(pdf) = engine() else {
        panic!("PDFium is not installed: run models/fetch.py or set PDFIUM_LIBRARY");
    };
    if !engine::pdf::is_pdf(bytes) {
        return;
    }
    if let Ok(info) = pdf.inspect(bytes) {
        let _ = pdf.page_text(bytes, 1, 256);
        let _ = pdf.render_page(bytes, 1, 64);
        let _ = pdf.page_text(bytes, info.page_count, 256);
    }
});
