//! Calibration report for the quality gate on a labelled set of photos.
//!
//! Usage: `cargo run --release -p engine --example calibrate_gate -- DIR [CONFIG.toml]`
//! where DIR holds `labels.csv` (`path,label,source`; labels `ok`, `blur`, `dark`,
//! `over_exposed`, `blank`, `too_small`), as written by tools/gate_calibration/make_set.py.
//! Prints per-label accuracy under the given thresholds (defaults if none), the distribution of
//! each measure per label, and a sweep of the blur threshold.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use engine::{assess, GateCheck, GateConfig, IntakeLimits, QualityReport, QualityVerdict};

fn label_check(label: &str) -> Option<GateCheck> {
    match label {
        "blur" => Some(GateCheck::Blur),
        "dark" => Some(GateCheck::Dark),
        "over_exposed" => Some(GateCheck::OverExposed),
        "blank" => Some(GateCheck::Blank),
        "too_small" => Some(GateCheck::TooSmall),
        _ => None,
    }
}

/// Right when an ok photo passes, or a degraded photo fails for the reason it was degraded for.
fn is_right(label: &str, report: &QualityReport) -> bool {
    match label_check(label) {
        None => report.verdict == QualityVerdict::Pass,
        Some(check) => report.reasons.contains(&check),
    }
}

fn value(report: &QualityReport, check: GateCheck) -> f64 {
    report
        .checks
        .iter()
        .find(|c| c.check == check)
        .map_or(f64::NAN, |c| c.value)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: calibrate_gate DIR [CONFIG.toml]"),
    );
    let config = match args.next() {
        Some(path) => GateConfig::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap(),
        None => GateConfig::default(),
    };
    let labels = std::fs::read_to_string(dir.join("labels.csv")).expect("labels.csv");
    let limits = IntakeLimits::default();
    let mut results: Vec<(String, QualityReport)> = Vec::new();
    // Upscaled 4000×3000 copies, reported separately to show the measures are resolution-independent.
    let mut large: Vec<(String, QualityReport)> = Vec::new();
    for line in labels.lines().skip(1) {
        let mut fields = line.split(',');
        let (Some(path), Some(label)) = (fields.next(), fields.next()) else {
            continue;
        };
        let bytes = std::fs::read(dir.join(path)).unwrap();
        match assess(&bytes, &limits, &config) {
            Ok(report) => {
                if path.starts_with("large/") {
                    large.push((label.to_string(), report.clone()));
                }
                results.push((label.to_string(), report));
            }
            Err(e) => println!("{path}: {e}"),
        }
    }

    println!(
        "Quality gate calibration on {} photos ({})",
        results.len(),
        dir.display()
    );
    println!(
        "\n{:<14} {:>6} {:>8} {:>9}",
        "label", "photos", "right", "accuracy"
    );
    let mut per_label: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (label, report) in &results {
        let entry = per_label.entry(label.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(is_right(label, report));
    }
    let (mut total, mut right) = (0, 0);
    for (label, (n, ok)) in &per_label {
        println!(
            "{label:<14} {n:>6} {ok:>8} {:>8.1}%",
            100.0 * *ok as f64 / *n as f64
        );
        total += n;
        right += ok;
    }
    println!(
        "{:<14} {total:>6} {right:>8} {:>8.1}%",
        "all",
        100.0 * right as f64 / total as f64
    );
    let false_rejects = results
        .iter()
        .filter(|(l, r)| l == "ok" && r.verdict == QualityVerdict::Fail)
        .count();
    let oks = results.iter().filter(|(l, _)| l == "ok").count();
    let missed = results
        .iter()
        .filter(|(l, r)| l != "ok" && r.verdict == QualityVerdict::Pass)
        .count();
    println!(
        "usable photos rejected: {false_rejects}/{oks}; unusable photos passed: {missed}/{}",
        results.len() - oks
    );

    for label in ["ok", "blur"] {
        let subset: Vec<_> = large.iter().filter(|(l, _)| l == label).collect();
        if !subset.is_empty() {
            let right = subset.iter().filter(|(l, r)| is_right(l, r)).count();
            println!(
                "  of which 4000×3000 {label}: {right}/{} right",
                subset.len()
            );
        }
    }

    println!("\nMeasures per label (p5 / p50 / p95):");
    for check in [GateCheck::Blur, GateCheck::Blank, GateCheck::Dark] {
        println!("  {check:?}");
        for label in per_label.keys() {
            let mut values: Vec<f64> = results
                .iter()
                .filter(|(l, _)| l == label)
                .map(|(_, r)| value(r, check))
                .collect();
            values.sort_by(f64::total_cmp);
            println!(
                "    {label:<14} {:>8.3} {:>8.3} {:>8.3}",
                percentile(&values, 0.05),
                percentile(&values, 0.5),
                percentile(&values, 0.95)
            );
        }
    }

    println!("\nBlur threshold sweep (ok photos passing blur vs blurred photos caught):");
    let blur_of = |label: &str| -> Vec<f64> {
        results
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, r)| value(r, GateCheck::Blur))
            .collect()
    };
    let (ok_blur, bad_blur) = (blur_of("ok"), blur_of("blur"));
    for step in 0..=12 {
        let t = 0.40 + 0.02 * f64::from(step);
        let kept = ok_blur.iter().filter(|&&v| v <= t).count();
        let caught = bad_blur.iter().filter(|&&v| v > t).count();
        println!(
            "  max_blur_effect {t:.2}: ok kept {kept}/{}  blurred caught {caught}/{}  balanced accuracy {:.1}%",
            ok_blur.len(),
            bad_blur.len(),
            50.0 * (kept as f64 / ok_blur.len().max(1) as f64 + caught as f64 / bad_blur.len().max(1) as f64)
        );
    }
}
