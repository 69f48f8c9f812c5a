//! OCR on the committed SROIE receipts, judged as a reader would judge it: a labelled line
//! found, its text within a small edit distance, the reading order — never an exact string that
//! one kernel's rounding can change. The int8 detector is held to the float one on this CPU and
//! on an emulated one without VNNI (qemu-user), where ONNX Runtime takes its AVX2 int8 kernels:
//! the path that once lost lines to 16-bit saturation (issue 13).

use std::path::Path;
use std::process::Command;

use engine::cpu::{CpuInfo, Int8Path};
use engine::ocr::{Ocr, OcrOptions, TextBox};
use engine::ocr_agreement::{box_iou, closest, edit_distance, BoxAgreement, Quad};
use engine::runtime::{default_models_dir, nvidia_device_present, Runtime};

use crate::fixture;

/// The committed receipts (tests/fixtures/sroie/img, labels in box/).
const RECEIPTS: [&str; 5] = ["000", "001", "019", "030", "061"];
/// A labelled line counts as found when an OCR box overlaps its label this much: the labels'
/// boxes are tight around the ink, ours are grown by the unclip ratio.
const LABEL_IOU: f32 = 0.3;
/// A detector's line counts as found by the other when the other's boxes cover this share of it
/// (one box or several: detectors split and join words differently).
const FOUND_SHARE: f32 = 0.8;
/// A float box at least this sure of its text (mean probability inside; boxes are kept from
/// 0.5) is a line the int8 detector must find too. Fainter ones sit on the threshold, where any
/// numeric change flips them; they are reported, not required.
const CLEAR_SCORE: f32 = 0.6;

/// The OCR pipeline on the fetched models, 2 threads, with the int8 or the float detector.
fn open_ocr(int8_detector: bool) -> Ocr {
    open_ocr_with_threads(int8_detector, 2)
}

/// The float detector keeping its boxes from the int8 detector's box threshold: the regions it
/// also sees as text, however faint — what an int8 box is compared with before it counts as
/// one the float detector lacks.
fn open_float_at_int8_threshold() -> Ocr {
    let models = default_models_dir();
    let runtime = Runtime::shared(&models).unwrap();
    let options = OcrOptions {
        det_int8_on_cpu: false,
        box_threshold: OcrOptions::default().int8_box_threshold,
        ..OcrOptions::default()
    };
    Ocr::open(&runtime, &models, 2, options).unwrap()
}

fn open_ocr_with_threads(int8_detector: bool, threads: usize) -> Ocr {
    let models = default_models_dir();
    let runtime = Runtime::shared(&models).unwrap();
    let options = OcrOptions {
        det_int8_on_cpu: int8_detector,
        ..OcrOptions::default()
    };
    Ocr::open(&runtime, &models, threads, options).unwrap()
}

/// A receipt decoded as the app decodes it.
fn receipt(name: &str) -> image::RgbImage {
    engine::intake::decode_upright(
        &fixture(&format!("sroie/img/{name}.jpg")),
        &engine::IntakeLimits::default(),
    )
    .unwrap()
}

/// The receipt's labelled lines (`box/NNN.csv`: eight coordinates, then the text).
fn labels(name: &str) -> Vec<(Quad, String)> {
    String::from_utf8(fixture(&format!("sroie/box/{name}.csv")))
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.splitn(9, ',').collect();
            let n: Vec<f32> = fields[..8]
                .iter()
                .map(|v| v.trim().parse().unwrap())
                .collect();
            let quad = [[n[0], n[1]], [n[2], n[3]], [n[4], n[5]], [n[6], n[7]]];
            (quad, fields[8].trim().to_string())
        })
        .collect()
}

/// The index of the line read as `wanted`, within `max_edits` characters.
fn position_of(texts: &[&str], wanted: &str, max_edits: usize) -> usize {
    let (index, edits) = closest(texts.iter().copied(), wanted).unwrap();
    assert!(
        edits <= max_edits,
        "{wanted:?} not read: the closest line is {:?}, {edits} edits away, in {texts:#?}",
        texts[index]
    );
    index
}

#[test]
fn ocr_reads_a_real_receipt() {
    let mut ocr = open_ocr(true);
    let lines = ocr.run(&receipt("000")).unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    // Lines the ground truth (box/000.csv) has, each read within one edit, in reading order:
    // the company number, the shop's address, then the date.
    let company_number = position_of(&texts, "789417-W", 1);
    let town = position_of(&texts, "81100 JOHOR BAHRU,", 1);
    let date = position_of(&texts, "25/12/2018 8:13:39 PM", 1);
    assert!(company_number < town && town < date, "{texts:#?}");
    assert!(lines.iter().all(|l| (0.0..=1.0).contains(&l.confidence)));
    assert!(ocr.last_model_seconds > 0.0);
    // A blank page yields no lines, not an error.
    let blank = image::RgbImage::from_pixel(600, 800, image::Rgb([255, 255, 255]));
    assert!(ocr.run(&blank).unwrap().is_empty());
}

#[test]
fn most_labelled_lines_are_found_and_read_closely() {
    let mut ocr = open_ocr(true);
    let (mut labelled, mut found, mut close) = (0usize, 0usize, 0usize);
    for name in RECEIPTS {
        let lines = ocr.run(&receipt(name)).unwrap();
        for (quad, text) in labels(name) {
            labelled += 1;
            let Some(best) = lines
                .iter()
                .max_by(|a, b| box_iou(&quad, &a.polygon).total_cmp(&box_iou(&quad, &b.polygon)))
                .filter(|line| box_iou(&quad, &line.polygon) >= LABEL_IOU)
            else {
                continue;
            };
            found += 1;
            // SROIE's labels are upper case throughout; the print is not.
            let edits = edit_distance(&best.text.to_uppercase(), &text.to_uppercase());
            if edits <= 2 {
                close += 1;
            }
        }
    }
    let (found_share, close_share) = (
        found as f64 / labelled as f64,
        close as f64 / found.max(1) as f64,
    );
    eprintln!(
        "{labelled} labelled lines: {:.1} % found, {:.1} % of those within 2 edits ({})",
        100.0 * found_share,
        100.0 * close_share,
        CpuInfo::detect()
    );
    assert!(found_share >= 0.90, "{found} of {labelled} lines found");
    assert!(close_share >= 0.85, "{close} of {found} lines read closely");
}

#[test]
fn ocr_handles_degenerate_sizes() {
    let mut ocr = open_ocr(true);
    let tiny = image::RgbImage::from_pixel(1, 1, image::Rgb([0, 0, 0]));
    assert!(ocr.run(&tiny).unwrap().is_empty());
    // A 30000×200 strip: the detector input is bounded by det_max_side, so this stays small.
    let strip = image::RgbImage::from_fn(30_000, 200, |x, _| {
        if (x / 50) % 2 == 0 {
            image::Rgb([255, 255, 255])
        } else {
            image::Rgb([0, 0, 0])
        }
    });
    ocr.run(&strip).unwrap();
    let empty = image::RgbImage::new(0, 0);
    assert!(matches!(
        ocr.run(&empty),
        Err(engine::ocr::OcrError::EmptyImage)
    ));
    assert!(matches!(
        ocr.detect(&empty),
        Err(engine::ocr::OcrError::EmptyImage)
    ));
}

#[test]
fn an_upside_down_receipt_is_read_upright() {
    let mut ocr = open_ocr(true);
    let image = image::imageops::rotate180(&receipt("000"));
    let lines = ocr.run(&image).unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    // The page votes that it is upside down, so its lines are turned before recognition.
    position_of(&texts, "789417-W", 1);
    position_of(&texts, "81100 JOHOR BAHRU,", 1);
    let stages = ocr.last_stage_seconds;
    assert!(stages.detection > 0.0 && stages.classification > 0.0 && stages.recognition > 0.0);
}

/// What keeps `candidate` boxes from agreeing with the float detector's (empty when they agree),
/// printed either way: a clear line of the reference not found again, a loose overlap, more
/// than one box in ten that the float detector does not see even at the candidate's box
/// threshold (`seen`).
fn disagreement(
    what: &str,
    reference: &[TextBox],
    seen: &[TextBox],
    candidate: &[Quad],
) -> Vec<String> {
    let quads: Vec<Quad> = reference.iter().map(|b| b.polygon).collect();
    let agreement = BoxAgreement::of(&quads, candidate, FOUND_SHARE);
    let seen_quads: Vec<Quad> = seen.iter().map(|b| b.polygon).collect();
    let unseen = BoxAgreement::of(&seen_quads, candidate, FOUND_SHARE).extra;
    let (clear_lost, faint_lost): (Vec<&TextBox>, Vec<&TextBox>) = agreement
        .lost
        .iter()
        .map(|&i| &reference[i])
        .partition(|b| b.score >= CLEAR_SCORE);
    eprintln!(
        "{what}: {} reference boxes, {} candidate, median IoU {:.3}, lost {} clear + {} faint \
         {faint_lost:?}, extra {}",
        reference.len(),
        candidate.len(),
        agreement.median_iou(),
        clear_lost.len(),
        faint_lost.len(),
        unseen.len()
    );
    let mut problems = Vec::new();
    if !clear_lost.is_empty() {
        problems.push(format!("{what}: lines lost {clear_lost:?}"));
    }
    if agreement.median_iou() < 0.9 {
        problems.push(format!("{what}: median IoU {}", agreement.median_iou()));
    }
    // regions the float detector does not see as text even at the int8 threshold: one in ten
    if unseen.len() * 10 > reference.len() {
        let extra: Vec<Quad> = unseen.iter().map(|&i| candidate[i]).collect();
        problems.push(format!(
            "{what}: boxes the float detector has not {extra:?}"
        ));
    }
    problems
}

#[test]
fn the_int8_detector_finds_every_line_the_float_one_finds() {
    let (mut int8, mut float) = (open_ocr(true), open_ocr(false));
    let mut float_faint = open_float_at_int8_threshold();
    if !nvidia_device_present() {
        assert_eq!(int8.detector_name(), "ocr-det-int8");
    }
    assert_eq!(float.detector_name(), "ocr-det");
    let cpu = CpuInfo::detect();
    let mut problems = Vec::new();
    for name in RECEIPTS {
        let image = receipt(name);
        let int8_boxes: Vec<Quad> = int8
            .detect(&image)
            .unwrap()
            .iter()
            .map(|b| b.polygon)
            .collect();
        problems.extend(disagreement(
            &format!("receipt {name}, int8 against float on {cpu}"),
            &float.detect(&image).unwrap(),
            &float_faint.detect(&image).unwrap(),
            &int8_boxes,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A Zen 2 server CPU as qemu models it: AVX2, no AVX-512, no VNNI (the CPU of issue 13).
const NO_VNNI_CPU: &str = "EPYC-Rome";
/// Where the emulated child writes what it read.
const CHILD_OUTPUT: &str = "ENGINE_TEST_EMULATED_CPU_OUTPUT";
/// What the emulated child detects: receipt 000, the one that lost lines in issue 13. Only the
/// detector runs there: it is the int8 model, the recognizer is float on every CPU, and
/// emulated vector code is slow (measured on an Intel Xeon host: 99 s to detect this receipt,
/// over 10 minutes to read it).
const EMULATED_DETECT: &str = "000";

#[test]
fn the_int8_detector_reads_alike_on_a_cpu_without_vnni() {
    if nvidia_device_present() {
        eprintln!("a GPU runs the float detector: no int8 kernel is used here");
    }
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("emulated.txt");
    let started = std::time::Instant::now();
    let output = Command::new("qemu-x86_64")
        .args(["-cpu", NO_VNNI_CPU])
        .arg(std::env::current_exe().unwrap())
        .args([
            "ocr::emulated_cpu_reads",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_OUTPUT, &file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "qemu-x86_64 (Debian's qemu-user) emulates a CPU without VNNI for this test; \
                 `scripts/setup.sh --tests` installs it: {e}"
            )
        });
    // qemu lists each CPUID bit of the model it cannot emulate: noise here
    let log: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&output.stdout).lines())
        .filter(|l| !l.contains("TCG doesn't support requested feature"))
        .map(str::to_string)
        .collect();
    assert!(output.status.success(), "{}", log.join("\n"));
    let emulated = ChildOutput::read(&file);
    eprintln!(
        "emulated {NO_VNNI_CPU} ({}) detected {EMULATED_DETECT} in {:.0} s",
        emulated.cpu,
        started.elapsed().as_secs_f64()
    );
    // The child really ran ONNX Runtime's non-VNNI int8 kernels.
    assert!(
        emulated
            .cpu
            .contains(&format!("int8: {}", Int8Path::Avx2NoVnni)),
        "{}",
        emulated.cpu
    );

    let (mut int8, mut float) = (open_ocr(true), open_ocr(false));
    let cpu = CpuInfo::detect();
    // Nothing the float detector finds is lost by int8 kernels without VNNI…
    let image = receipt(EMULATED_DETECT);
    let problems = disagreement(
        &format!("receipt {EMULATED_DETECT}, int8 on {NO_VNNI_CPU} against float on {cpu}"),
        &float.detect(&image).unwrap(),
        &open_float_at_int8_threshold().detect(&image).unwrap(),
        &emulated.boxes,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // …and what is detected there is what is detected here.
    let native_boxes = int8.detect(&image).unwrap();
    assert_eq!(native_boxes.len(), emulated.boxes.len());
    for native in &native_boxes {
        let best = emulated
            .boxes
            .iter()
            .map(|b| box_iou(&native.polygon, b))
            .fold(0.0, f32::max);
        assert!(
            best > 0.98,
            "receipt {EMULATED_DETECT}: {native:?} only at IoU {best}"
        );
    }
}

#[test]
#[ignore = "the emulated half of the_int8_detector_reads_alike_on_a_cpu_without_vnni"]
fn emulated_cpu_reads() {
    let path = std::env::var_os(CHILD_OUTPUT).expect("started by its parent test, under qemu");
    // one intra-op thread: the parent's suite runs beside it
    let mut ocr = open_ocr_with_threads(true, 1);
    let corners = |quad: &Quad| {
        let numbers: Vec<String> = quad.iter().flatten().map(f32::to_string).collect();
        numbers.join(" ")
    };
    let mut out = format!("cpu\t{}\n", CpuInfo::detect());
    for found in ocr.detect(&receipt(EMULATED_DETECT)).unwrap() {
        out.push_str(&format!("box\t{}\n", corners(&found.polygon)));
    }
    std::fs::write(path, out).unwrap();
}

/// What the emulated child wrote: its CPU and the boxes it detected.
struct ChildOutput {
    cpu: String,
    boxes: Vec<Quad>,
}

impl ChildOutput {
    fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let quad = |field: &str| {
            let n: Vec<f32> = field.split(' ').map(|v| v.parse().unwrap()).collect();
            [[n[0], n[1]], [n[2], n[3]], [n[4], n[5]], [n[6], n[7]]]
        };
        let mut out = Self {
            cpu: String::new(),
            boxes: Vec::new(),
        };
        for row in text.lines() {
            let fields: Vec<&str> = row.splitn(4, '\t').collect();
            match fields[0] {
                "cpu" => out.cpu = fields[1].to_string(),
                "box" => out.boxes.push(quad(fields[1])),
                other => panic!("unexpected row {other:?} in {text}"),
            }
        }
        assert!(!out.boxes.is_empty(), "{text}");
        out
    }
}
