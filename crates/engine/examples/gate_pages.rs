//! Which photos the quality gate judges as pages, and its verdicts: one line per folder given.
//!
//! `cargo run --release -p engine --example gate_pages -- <folder>...` (photos found recursively).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine::{assess, GateConfig, GateProfile, IntakeLimits, QualityVerdict};

fn photos(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            photos(&path, out);
        } else if path
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| ["jpg", "jpeg", "png"].contains(&x.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    println!("cpu: {}", engine::cpu::CpuInfo::detect());
    let config = GateConfig::default();
    let limits = IntakeLimits::default();
    for dir in std::env::args().skip(1) {
        let mut files = Vec::new();
        photos(Path::new(&dir), &mut files);
        let (mut pages, mut passed) = (0, 0);
        let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
        let (mut gate_ms, mut page_ms) = (0.0, 0.0);
        for file in &files {
            let Ok(bytes) = std::fs::read(file) else {
                continue;
            };
            // the page measure alone, on the same working image the gate uses
            if let Ok(image) =
                engine::decode_for_gate(&bytes, &limits, config.working_long_side as usize)
            {
                let t = std::time::Instant::now();
                std::hint::black_box(engine::page::measure(
                    &image.luma,
                    image.width,
                    image.height,
                ));
                page_ms += t.elapsed().as_secs_f64() * 1000.0;
            }
            let t = std::time::Instant::now();
            let assessed = assess(&bytes, &limits, &config);
            gate_ms += t.elapsed().as_secs_f64() * 1000.0;
            let Ok(report) = assessed else {
                *reasons.entry("unreadable".into()).or_default() += 1;
                continue;
            };
            pages += u32::from(report.profile == GateProfile::Document);
            passed += u32::from(report.verdict == QualityVerdict::Pass);
            for reason in &report.reasons {
                *reasons.entry(format!("{reason:?}")).or_default() += 1;
            }
        }
        let n = files.len().max(1) as f64;
        let ms = gate_ms / n;
        println!(
            "{dir}: {} photos, {pages} judged as pages, {passed} pass; failures {reasons:?}; \
             gate (decode included) {ms:.1} ms per photo, of which the page measure {:.1} ms",
            files.len(),
            page_ms / n
        );
    }
}
