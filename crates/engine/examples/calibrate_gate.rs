//! Calibration report for the quality gate on a labelled set of photos.
//!
//! Usage: `cargo run --release -p engine --example calibrate_gate -- DIR [CONFIG.toml]`
//! where DIR holds `labels.csv` (`path,label,source`; labels `ok`, `blur`, `dark`,
//! `over_exposed`, `blank`, `too_small`), as written by tools/gate_calibration/make_set.py.
//! Prints per-label accuracy under the given thresholds (defaults if none), the distribution of
//! each measure per label, and a sweep of the blur threshold.
//!
//! `calibrate_gate DIR --held-out`: splits the set by source photo (a photo and all its degraded
//! copies on one side), chooses every threshold on one half, and reports per label on the other
//! half — with the chosen thresholds and with the shipped defaults.

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
            .expect("usage: calibrate_gate DIR [CONFIG.toml | --held-out]"),
    );
    let next = args.next();
    if next.as_deref() == Some("--held-out") {
        held_out(&dir);
        return;
    }
    let config = match next {
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
    type Figure = fn(&QualityReport) -> f64;
    let figures: [(&str, Figure); 5] = [
        ("blur effect", |r| value(r, GateCheck::Blur)),
        ("contrast (block means)", |r| r.contrast),
        ("detail", |r| r.detail),
        ("mean luma", |r| value(r, GateCheck::Dark)),
        ("clipped highlights", |r| r.highlight_share),
    ];
    for (name, figure) in figures {
        println!("  {name}");
        for label in per_label.keys() {
            let mut values: Vec<f64> = results
                .iter()
                .filter(|(l, _)| l == label)
                .map(|(_, r)| figure(r))
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

/// What the photo checks measure of one photo (its report under any thresholds).
struct Measures {
    label: String,
    short_side: f64,
    contrast: f64,
    detail: f64,
    mean_luma: f64,
    highlight_share: f64,
    blur: f64,
}

impl Measures {
    fn of(label: &str, r: &QualityReport) -> Self {
        Self {
            label: label.to_string(),
            short_side: value(r, GateCheck::TooSmall),
            contrast: r.contrast,
            detail: r.detail,
            mean_luma: value(r, GateCheck::Dark),
            highlight_share: r.highlight_share,
            blur: value(r, GateCheck::Blur),
        }
    }

    /// The reasons the photo profile gives under `c` (the order and the blank/dark rule of
    /// `engine::assess`).
    fn reasons(&self, c: &GateConfig) -> Vec<GateCheck> {
        let mut reasons = Vec::new();
        if self.short_side < f64::from(c.min_short_side) {
            reasons.push(GateCheck::TooSmall);
        }
        let blank = self.contrast < c.min_contrast
            || self.detail < c.min_detail && self.blur <= c.max_blur_effect;
        let dark = self.mean_luma < c.min_mean_luma;
        if blank {
            reasons.push(GateCheck::Blank);
        }
        if dark {
            reasons.push(GateCheck::Dark);
        }
        if self.highlight_share > c.max_highlight_share || self.mean_luma > c.max_mean_luma {
            reasons.push(GateCheck::OverExposed);
        }
        if self.blur > c.max_blur_effect && !blank && !dark {
            reasons.push(GateCheck::Blur);
        }
        reasons
    }

    fn right(&self, c: &GateConfig) -> bool {
        let reasons = self.reasons(c);
        match label_check(&self.label) {
            None => reasons.is_empty(),
            Some(check) => reasons.contains(&check),
        }
    }
}

/// Which half a source photo falls in: FNV-1a of its path, so the split is the same on every
/// machine and does not depend on the file order.
fn tuning_half(source: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // a high bit: FNV's lowest bit is only the parity of the bytes' low bits, which follows
    // the file numbering (make_set.py darkens every second source, over-exposes the others)
    (h >> 40) & 1 == 0
}

/// The lowest per-label accuracy (the target is per label) and, to break ties, the mean.
fn score(set: &[Measures], c: &GateConfig) -> (f64, f64) {
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for m in set {
        let e = per.entry(m.label.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(m.right(c));
    }
    let accuracies: Vec<f64> = per.values().map(|(n, r)| *r as f64 / *n as f64).collect();
    let min = accuracies.iter().copied().fold(1.0, f64::min);
    (
        min,
        accuracies.iter().sum::<f64>() / accuracies.len().max(1) as f64,
    )
}

/// One threshold: how to set it, its grid, what it measures, and which labels must pass it and
/// which must fail it.
struct Knob {
    set: fn(&mut GateConfig, f64),
    grid: Vec<f64>,
    measure: fn(&Measures) -> f64,
    /// true: photos fail below the threshold (a minimum); false: above it (a maximum)
    minimum: bool,
    pass: &'static [&'static str],
    fail: &'static str,
}

/// Each threshold in turn over a grid, keeping the values that score best on `set`; among equally
/// good values, the one nearest the middle of the gap between the 5th percentile of the photos
/// that must pass and the 95th of those that must fail (not the extremes, which a few photos
/// decide). Two rounds, so that the thresholds settle together.
fn tune(set: &[Measures]) -> GateConfig {
    let mut c = GateConfig::default();
    let knobs = [
        Knob {
            set: |c, v| c.min_short_side = v as u32,
            grid: (8..=40).map(|i| f64::from(i) * 10.0).collect(),
            measure: |m| m.short_side,
            minimum: true,
            pass: &["ok", "blur", "dark", "over_exposed", "blank"],
            fail: "too_small",
        },
        Knob {
            set: |c, v| c.min_contrast = v,
            grid: (4..=40).map(f64::from).collect(),
            measure: |m| m.contrast,
            minimum: true,
            pass: &["ok", "blur"],
            fail: "blank",
        },
        Knob {
            set: |c, v| c.min_detail = v,
            grid: (1..=30).map(|i| f64::from(i) / 20.0).collect(),
            measure: |m| m.detail,
            minimum: true,
            pass: &["ok", "blur"],
            fail: "blank",
        },
        Knob {
            set: |c, v| c.min_mean_luma = v,
            grid: (10..=90).map(f64::from).collect(),
            measure: |m| m.mean_luma,
            minimum: true,
            pass: &["ok", "blur"],
            fail: "dark",
        },
        Knob {
            set: |c, v| c.max_mean_luma = v,
            grid: (140..=250).map(f64::from).collect(),
            measure: |m| m.mean_luma,
            minimum: false,
            pass: &["ok", "blur"],
            fail: "over_exposed",
        },
        Knob {
            set: |c, v| c.max_highlight_share = v,
            grid: (1..=60).map(|i| f64::from(i) / 100.0).collect(),
            measure: |m| m.highlight_share,
            minimum: false,
            pass: &["ok", "blur"],
            fail: "over_exposed",
        },
        Knob {
            set: |c, v| c.max_blur_effect = v,
            grid: (40..=75).map(|i| f64::from(i) / 100.0).collect(),
            measure: |m| m.blur,
            minimum: false,
            pass: &["ok"],
            fail: "blur",
        },
    ];
    for _round in 0..2 {
        for knob in &knobs {
            let scored: Vec<((f64, f64), f64)> = knob
                .grid
                .iter()
                .map(|&v| {
                    let mut trial = c.clone();
                    (knob.set)(&mut trial, v);
                    (score(set, &trial), v)
                })
                .collect();
            let best = scored
                .iter()
                .map(|(s, _)| *s)
                .fold((f64::MIN, f64::MIN), |a, b| if b > a { b } else { a });
            let sorted = |labels: &[&str]| {
                let mut v: Vec<f64> = set
                    .iter()
                    .filter(|m| labels.contains(&m.label.as_str()))
                    .map(knob.measure)
                    .filter(|v| v.is_finite())
                    .collect();
                v.sort_by(f64::total_cmp);
                v
            };
            let (pass, fail) = (sorted(knob.pass), sorted(&[knob.fail]));
            let (pass_edge, fail_edge) = if knob.minimum {
                (percentile(&pass, 0.05), percentile(&fail, 0.95))
            } else {
                (percentile(&pass, 0.95), percentile(&fail, 0.05))
            };
            let middle = (pass_edge + fail_edge) / 2.0;
            let chosen = scored
                .iter()
                .filter(|(s, _)| *s == best)
                .map(|(_, v)| *v)
                .min_by(|a, b| (a - middle).abs().total_cmp(&(b - middle).abs()));
            if let Some(v) = chosen {
                (knob.set)(&mut c, v);
            }
        }
    }
    c
}

fn report(title: &str, set: &[(Measures, String, QualityReport)], c: Option<&GateConfig>) {
    println!("\n{title}");
    println!(
        "{:<14} {:>6} {:>8} {:>9}",
        "label", "photos", "right", "accuracy"
    );
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (m, _, r) in set {
        let right = match c {
            Some(c) => m.right(c),
            None => is_right(&m.label, r),
        };
        let e = per.entry(m.label.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(right);
    }
    let (mut n_all, mut r_all) = (0, 0);
    for (label, (n, r)) in &per {
        println!(
            "{label:<14} {n:>6} {r:>8} {:>8.1}%",
            100.0 * *r as f64 / *n as f64
        );
        n_all += n;
        r_all += r;
    }
    println!(
        "{:<14} {n_all:>6} {r_all:>8} {:>8.1}%",
        "all",
        100.0 * r_all as f64 / n_all.max(1) as f64
    );
}

fn held_out(dir: &std::path::Path) {
    for swapped in [false, true] {
        held_out_once(dir, swapped);
    }
}

/// `swapped`: choose on the other half and hold this one out, so both halves are tested once.
fn held_out_once(dir: &std::path::Path, swapped: bool) {
    let labels = std::fs::read_to_string(dir.join("labels.csv")).expect("labels.csv");
    let limits = IntakeLimits::default();
    let defaults = GateConfig::default();
    let (mut tuning, mut held): (Vec<_>, Vec<_>) = (Vec::new(), Vec::new());
    for line in labels.lines().skip(1) {
        let mut fields = line.split(',');
        let (Some(path), Some(label), Some(source)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let bytes = std::fs::read(dir.join(path)).unwrap();
        match assess(&bytes, &limits, &defaults) {
            Ok(report) => {
                let m = Measures::of(label, &report);
                let entry = (m, path.to_string(), report);
                if tuning_half(source) != swapped {
                    tuning.push(entry);
                } else {
                    held.push(entry);
                }
            }
            Err(e) => println!("{path}: {e}"),
        }
    }
    let count_sources = |set: &[(Measures, String, QualityReport)]| {
        set.iter().filter(|(m, ..)| m.label == "ok").count()
    };
    println!(
        "\n=== Quality gate, held-out split by source photo ({}, {}): {} photos to choose thresholds on ({} usable), {} held out ({} usable)",
        dir.display(),
        if swapped { "half B chooses, half A is held out" } else { "half A chooses, half B is held out" },
        tuning.len(),
        count_sources(&tuning),
        held.len(),
        count_sources(&held)
    );
    let measures: Vec<Measures> = tuning
        .iter()
        .map(|(m, ..)| Measures {
            label: m.label.clone(),
            ..*m
        })
        .collect();
    let chosen = tune(&measures);
    println!(
        "thresholds chosen on the tuning half: min_short_side {} min_contrast {} min_detail {:.2} min_mean_luma {} max_mean_luma {} max_highlight_share {:.2} max_blur_effect {:.2}",
        chosen.min_short_side, chosen.min_contrast, chosen.min_detail, chosen.min_mean_luma, chosen.max_mean_luma, chosen.max_highlight_share, chosen.max_blur_effect
    );
    println!(
        "shipped defaults:                    min_short_side {} min_contrast {} min_detail {:.2} min_mean_luma {} max_mean_luma {} max_highlight_share {:.2} max_blur_effect {:.2}",
        defaults.min_short_side, defaults.min_contrast, defaults.min_detail, defaults.min_mean_luma, defaults.max_mean_luma, defaults.max_highlight_share, defaults.max_blur_effect
    );
    report("tuning half, chosen thresholds:", &tuning, Some(&chosen));
    // the held-out half through the real gate with the chosen thresholds, not the simulation
    let mut rerun = Vec::new();
    for (m, path, _) in held.iter() {
        let bytes = std::fs::read(dir.join(path)).unwrap();
        let r = assess(&bytes, &limits, &chosen).expect("assessed once already");
        rerun.push((
            Measures {
                label: m.label.clone(),
                ..*m
            },
            path.clone(),
            r,
        ));
    }
    report(
        "HELD-OUT half, chosen thresholds (engine::assess):",
        &rerun,
        None,
    );
    report(
        "held-out half, shipped defaults (engine::assess):",
        &held,
        None,
    );
    println!("held-out photos judged wrong with the chosen thresholds:");
    for (m, path, r) in &rerun {
        if !is_right(&m.label, r) {
            println!(
                "  {path}: reasons {:?}; short side {:.0}, contrast {:.1}, mean luma {:.1}, highlights {:.3}, blur {:.3}",
                r.reasons, m.short_side, m.contrast, m.mean_luma, m.highlight_share, m.blur
            );
        }
    }
}
