//! ONNX Runtime and the fetched models, for real: the test command runs `models/fetch.py` first,
//! so a missing model here is a failure, not a skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::path::PathBuf;

use engine::runtime::{default_models_dir, runtime_library, verify_models, Runtime};

#[test]
fn every_manifest_model_is_installed_with_its_hash() {
    let statuses = verify_models(&default_models_dir()).unwrap();
    assert!(statuses.len() >= 4);
    for status in &statuses {
        assert_eq!(status.state, "ok", "{status:?}");
    }
}

#[test]
fn missing_and_corrupt_models_are_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let statuses = verify_models(dir.path()).unwrap();
    assert!(statuses
        .iter()
        .all(|s| s.state == "missing" && s.detail.as_deref().unwrap().contains("models/fetch.py")));
    let det = dir.path().join("ocr/PP-OCRv6_det_small.onnx");
    std::fs::create_dir_all(det.parent().unwrap()).unwrap();
    std::fs::write(&det, b"not a model").unwrap();
    let statuses = verify_models(dir.path()).unwrap();
    let det_status = statuses.iter().find(|s| s.name == "ocr-det").unwrap();
    assert_eq!(det_status.state, "corrupt", "{det_status:?}");
}

#[test]
fn the_text_detector_runs_on_a_real_photo() {
    let models = default_models_dir();
    let runtime = Runtime::shared(&runtime_library(&models).unwrap()).unwrap();
    assert_eq!(runtime.provider(), "CPUExecutionProvider");
    let mut detector = runtime
        .open("ocr-det", &models.join("ocr/PP-OCRv6_det_small.onnx"), 1)
        .unwrap();
    let photo = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sharp.jpg"),
    )
    .unwrap();
    let rgb = image::load_from_memory(&photo)
        .unwrap()
        .resize_exact(352, 352, image::imageops::FilterType::Triangle)
        .into_rgb8();
    // PaddleOCR preprocessing: BGR planes, (x / 255 - 0.5) / 0.5.
    let mut planes = vec![0f32; 3 * 352 * 352];
    for (i, p) in rgb.pixels().enumerate() {
        for (c, channel) in [2, 1, 0].into_iter().enumerate() {
            planes[c * 352 * 352 + i] = (f32::from(p.0[channel]) / 255.0 - 0.5) / 0.5;
        }
    }
    let outputs = detector.run(&[1, 3, 352, 352], planes).unwrap();
    assert_eq!(outputs[0].shape, vec![1, 1, 352, 352]);
    assert!(outputs[0].data.iter().all(|v| (0.0..=1.0).contains(v)));
    // The photo shows a printed juice carton: some pixels must be text.
    assert!(outputs[0].data.iter().filter(|&&v| v > 0.3).count() > 100);
    // A wrong input shape is an error, not a crash.
    assert!(detector.run(&[1, 3, 2], vec![0.0; 6]).is_err());
}

#[test]
fn the_recognizer_carries_its_dictionary() {
    let models = default_models_dir();
    let runtime = Runtime::shared(&runtime_library(&models).unwrap()).unwrap();
    let recognizer = runtime
        .open("ocr-rec", &models.join("ocr/PP-OCRv6_rec_small.onnx"), 1)
        .unwrap();
    let dictionary = recognizer.metadata("character").unwrap();
    assert!(
        dictionary.lines().count() > 18_000,
        "{} entries",
        dictionary.lines().count()
    );
}

/// The OCR pipeline with default options on the fetched models, 2 threads.
fn open_ocr() -> engine::ocr::Ocr {
    let models = default_models_dir();
    let runtime = Runtime::shared(&runtime_library(&models).unwrap()).unwrap();
    engine::ocr::Ocr::open(&runtime, &models, 2, engine::ocr::OcrOptions::default()).unwrap()
}

#[test]
fn ocr_reads_a_real_receipt() {
    let mut ocr = open_ocr();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sroie");
    let image = image::open(fixtures.join("000.jpg")).unwrap().into_rgb8();
    let lines = ocr.run(&image).unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    // Lines the ground truth (000.csv) has, read exactly.
    for expected in ["25/12/2018 8:13:39 PM", "81100 JOHOR BAHRU,", "789417-W"] {
        assert!(texts.contains(&expected), "{expected:?} not in {texts:#?}");
    }
    // Reading order: the date line comes after the shop's address.
    let pos = |t: &str| texts.iter().position(|x| *x == t).unwrap();
    assert!(pos("81100 JOHOR BAHRU,") < pos("25/12/2018 8:13:39 PM"));
    assert!(lines.iter().all(|l| (0.0..=1.0).contains(&l.confidence)));
    assert!(ocr.last_model_seconds > 0.0);
    // A blank page yields no lines, not an error.
    let blank = image::RgbImage::from_pixel(600, 800, image::Rgb([255, 255, 255]));
    assert!(ocr.run(&blank).unwrap().is_empty());
}

#[test]
fn ocr_handles_degenerate_sizes() {
    let mut ocr = open_ocr();
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
}
