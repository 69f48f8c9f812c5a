//! Quality-gate throughput: verdicts per second on one core, printed side by side with the same
//! checks done by OpenCV-Python (libjpeg-turbo) on the same files in the same run.
//!
//! `cargo bench -p engine --bench gate -- [DIR ...]`
//! Default sets: ~/.cache/review-station/bench-12mp (12 MP JPEGs, made by
//! tools/gate_calibration/make_12mp.py) and ../shared/datasets/grocery-dev (real photos).
//! The OpenCV side runs tools/bench/opencv_gate.py when python3 with cv2 is available.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use engine::intake::area_downscale;
use engine::quality::measure;
use engine::{assess, decode_for_gate, GateConfig, IntakeLimits};

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

struct Stats {
    median_ms: f64,
    p95_ms: f64,
    per_sec: f64,
}

/// Times `f` over every file, repeating the list until at least `min_samples` samples exist.
fn time_each(files: &[Vec<u8>], min_samples: usize, mut f: impl FnMut(&[u8])) -> Stats {
    for bytes in files.iter().take(3) {
        f(bytes); // warm-up
    }
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < min_samples.max(files.len()) {
        for bytes in files {
            let t = Instant::now();
            f(bytes);
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let total = started.elapsed().as_secs_f64();
    samples.sort_by(f64::total_cmp);
    Stats {
        median_ms: samples[samples.len() / 2],
        p95_ms: samples[((samples.len() - 1) as f64 * 0.95).round() as usize],
        per_sec: samples.len() as f64 / total,
    }
}

fn row(set: &str, path: &str, s: &Stats) {
    println!(
        "{set:<14} {path:<52} {:>9.2} {:>9.2} {:>10.1}",
        s.median_ms, s.p95_ms, s.per_sec
    );
}

/// Minimal reader for the OpenCV script's JSON lines: `"key": {"full": x, "reduced": y}`.
fn json_number(line: &str, key: &str, mode: &str) -> Option<f64> {
    let after_key = &line[line.find(&format!("\"{key}\""))?..];
    let after_mode = &after_key[after_key.find(&format!("\"{mode}\""))? + mode.len() + 3..];
    let end = after_mode.find([',', '}'])?;
    after_mode[..end].trim().parse().ok()
}

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if dirs.is_empty() {
        dirs = vec![
            PathBuf::from(&home).join(".cache/review-station/bench-12mp"),
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/grocery-dev"),
        ];
    }
    let config = GateConfig::default();
    let limits = IntakeLimits::default();
    let long = config.working_long_side as usize;
    println!("Quality gate, one thread, one verdict = decode + working image + all checks");
    println!(
        "{:<14} {:<52} {:>9} {:>9} {:>10}",
        "set", "path", "median ms", "p95 ms", "verdicts/s"
    );
    for dir in &dirs {
        let files: Vec<Vec<u8>> = jpegs(dir)
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        if files.is_empty() {
            println!(
                "{}: no JPEGs (run tools/gate_calibration/make_12mp.py for the 12 MP set)",
                dir.display()
            );
            continue;
        }
        let set = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let avg_mb = files.iter().map(Vec::len).sum::<usize>() as f64 / files.len() as f64 / 1e6;
        println!("-- {set}: {} files, {avg_mb:.2} MB average", files.len());
        let min_samples = 60;
        let reduced = time_each(&files, min_samples, |b| {
            assess(b, &limits, &config).unwrap();
        });
        row(
            &set,
            "station: libjpeg-turbo DCT-reduced decode (shipped)",
            &reduced,
        );
        let full_turbo = time_each(&files, min_samples, |b| {
            let full = decode_for_gate(b, &limits, usize::MAX).unwrap();
            let (luma, w, h) = area_downscale(&full.luma, full.width, full.height, long);
            std::hint::black_box(measure(&luma, w, h));
        });
        row(
            &set,
            "station: libjpeg-turbo full decode + area resize",
            &full_turbo,
        );
        let full_image = time_each(&files, min_samples, |b| {
            let img = image::load_from_memory(b).unwrap().into_luma8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            let (luma, w, h) = area_downscale(img.as_raw(), w, h, long);
            std::hint::black_box(measure(&luma, w, h));
        });
        row(
            &set,
            "station: image crate (zune-jpeg) full decode",
            &full_image,
        );

        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/bench/opencv_gate.py");
        let output = std::process::Command::new("python3")
            .arg(&script)
            .arg("--min-samples")
            .arg(min_samples.to_string())
            .arg(dir)
            .output();
        match output {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                for line in text.lines().filter(|l| l.starts_with('{')) {
                    for (mode, label) in [
                        ("reduced", "OpenCV: IMREAD_REDUCED_GRAYSCALE (DCT-reduced)"),
                        ("full", "OpenCV: full decode + INTER_AREA"),
                    ] {
                        if let (Some(m), Some(p), Some(s)) = (
                            json_number(line, "median_ms", mode),
                            json_number(line, "p95_ms", mode),
                            json_number(line, "per_sec", mode),
                        ) {
                            row(
                                &set,
                                label,
                                &Stats {
                                    median_ms: m,
                                    p95_ms: p,
                                    per_sec: s,
                                },
                            );
                        }
                    }
                }
            }
            Ok(out) => println!(
                "OpenCV baseline failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
            Err(e) => println!(
                "OpenCV baseline not run (python3: {e}); pip install -r tools/requirements.txt"
            ),
        }
    }
}
