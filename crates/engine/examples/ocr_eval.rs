//! Runs the OCR pipeline over images and writes one JSON line per image (the format of
//! tools/ocr/score_cer.py): `{"image", "seconds", "model_seconds", "lines": [{"box", "text", "score"}]}`.
//! A summary (median seconds per image, model time, overhead) goes to stderr.
//!
//! Each line also names the CPU (`cpu`): the int8 detector's kernels depend on it.
//!
//! `cargo run --release -p engine --example ocr_eval -- [--threads N] [--det-fp32] [--box-threshold T] [--int8-box-threshold T] [--det-max-side PX] [--no-cls] [--rec-min-width PX] IMAGE_OR_DIR... > out.jsonl`

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::path::PathBuf;
use std::time::Instant;

use engine::cpu::CpuInfo;
use engine::ocr::{Ocr, OcrOptions};
use engine::runtime::{default_models_dir, Runtime};

fn main() {
    let mut threads = 2usize;
    let mut options = OcrOptions::default();
    let mut inputs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next().unwrap().parse().unwrap(),
            "--det-fp32" => options.det_int8_on_cpu = false,
            "--box-threshold" => options.box_threshold = args.next().unwrap().parse().unwrap(),
            "--int8-box-threshold" => {
                options.int8_box_threshold = args.next().unwrap().parse().unwrap()
            }
            "--det-max-side" => options.det_max_side = args.next().unwrap().parse().unwrap(),
            "--det-min-side" => options.det_min_side = args.next().unwrap().parse().unwrap(),
            "--rec-batch" => options.rec_batch = args.next().unwrap().parse().unwrap(),
            "--no-cls" => options.use_angle_classifier = false,
            "--rec-min-width" => options.rec_min_width = args.next().unwrap().parse().unwrap(),
            "--cls-threshold" => options.angle_threshold = args.next().unwrap().parse().unwrap(),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    let mut files: Vec<PathBuf> = inputs
        .iter()
        .flat_map(|p| {
            if p.is_dir() {
                std::fs::read_dir(p)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
                    .collect()
            } else {
                vec![p.clone()]
            }
        })
        .collect();
    files.sort();
    let models = default_models_dir();
    let runtime = Runtime::shared(&models).unwrap();
    let mut ocr = Ocr::open(&runtime, &models, threads, options).unwrap();
    // the int8 detector's kernels depend on the CPU: every figure goes out beside it
    let cpu = CpuInfo::detect().to_string();
    eprintln!("CPU: {cpu}; detector {}", ocr.detector_name());
    // Warm-up (first runs allocate and pick kernels).
    if let Some(image) = files.iter().find_map(|f| read(f).ok()) {
        ocr.run(&image).unwrap();
    }
    let mut refused = Vec::new();
    let (mut seconds, mut model_seconds) = (Vec::new(), Vec::new());
    let mut stages = [Vec::new(), Vec::new(), Vec::new()];
    for file in &files {
        let started = Instant::now();
        // a file that cannot be read is reported and the batch goes on
        let lines = match read(file).and_then(|image| ocr.run(&image).map_err(|e| e.to_string())) {
            Ok(lines) => lines,
            Err(why) => {
                eprintln!("{}: not read: {why}", file.display());
                refused.push(file.display().to_string());
                continue;
            }
        };
        let elapsed = started.elapsed().as_secs_f64();
        seconds.push(elapsed);
        model_seconds.push(ocr.last_model_seconds);
        stages[0].push(ocr.last_stage_seconds.detection);
        stages[1].push(ocr.last_stage_seconds.classification);
        stages[2].push(ocr.last_stage_seconds.recognition);
        let lines: Vec<String> = lines
            .iter()
            .map(|l| {
                format!(
                    "{{\"box\": {}, \"text\": {}, \"score\": {:.4}}}",
                    serde_json_like(&l.polygon),
                    json_string(&l.text),
                    l.confidence
                )
            })
            .collect();
        println!(
            "{{\"image\": {}, \"seconds\": {elapsed:.4}, \"model_seconds\": {:.4}, \"cpu\": {}, \"lines\": [{}]}}",
            json_string(&file.display().to_string()),
            ocr.last_model_seconds,
            json_string(&cpu),
            lines.join(", ")
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let total = median(&mut seconds);
    let model = median(&mut model_seconds);
    let [det, cls, rec] = stages.map(|mut v| median(&mut v));
    eprintln!(
        "{} images, {threads} threads on {cpu}: median {total:.3} s per image, models {model:.3} s \
         (detection {det:.3}, angle {cls:.3}, recognition {rec:.3}), pipeline overhead {:.3} s",
        files.len() - refused.len(),
        total - model
    );
    if !refused.is_empty() {
        eprintln!("{} file(s) not read: {}", refused.len(), refused.join(", "));
    }
}

/// Decoded as the app decodes (libjpeg-turbo for JPEG, EXIF orientation applied).
fn read(file: &std::path::Path) -> Result<image::RgbImage, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    engine::intake::decode_upright(&bytes, &engine::IntakeLimits::default())
        .map_err(|e| e.to_string())
}

fn serde_json_like(polygon: &[[f32; 2]; 4]) -> String {
    let points: Vec<String> = polygon
        .iter()
        .map(|[x, y]| format!("[{x:.1}, {y:.1}]"))
        .collect();
    format!("[{}]", points.join(", "))
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
