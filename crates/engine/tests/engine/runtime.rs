//! ONNX Runtime, the fetched models and PDFium, for real.

use engine::runtime::{default_models_dir, verify_models, Runtime};
use protocol::ErrorCode;

use crate::fixture;

#[test]
fn every_manifest_model_is_installed_with_its_hash() {
    let statuses = verify_models(&default_models_dir()).unwrap();
    assert!(statuses.len() >= 4);
    for status in &statuses {
        // The GPU runtime is optional (`fetch.py --gpu`); what is installed must verify.
        let optional = engine::runtime::manifest()
            .unwrap()
            .into_iter()
            .any(|e| e.name == status.name && e.optional);
        if optional && status.state == "not_installed" {
            continue;
        }
        assert_eq!(status.state, "ok", "{status:?}");
    }
}

#[test]
fn missing_and_corrupt_models_are_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let statuses = verify_models(dir.path()).unwrap();
    assert!(statuses
        .iter()
        .all(|s| (s.state == "missing" || s.state == "not_installed")
            && s.detail.as_deref().unwrap().contains("models/fetch.py")));
    assert!(statuses
        .iter()
        .any(|s| s.name == "onnxruntime" && s.state == "missing"));
    assert!(statuses
        .iter()
        .any(|s| s.name == "onnxruntime-gpu" && s.state == "not_installed"));
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
    let runtime = Runtime::shared(&models).unwrap();
    // This machine has no NVIDIA device, or has one: either way the provider is reported as is.
    if engine::runtime::nvidia_device_present() {
        eprintln!(
            "provider: {} ({:?})",
            runtime.provider(),
            runtime.cpu_reason()
        );
    } else {
        assert_eq!(runtime.provider(), "CPUExecutionProvider");
        assert_eq!(runtime.cpu_reason(), None);
    }
    let mut detector = runtime
        .open("ocr-det", &models.join("ocr/PP-OCRv6_det_small.onnx"), 1)
        .unwrap();
    let photo = fixture("sharp.jpg");
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
    let runtime = Runtime::shared(&models).unwrap();
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

#[test]
fn the_class_list_is_the_models() {
    // store configurations are checked against the embedded list before a model is loaded
    let models = default_models_dir();
    let runtime = Runtime::shared(&models).unwrap();
    let model = engine::category::CategoryModel::open(
        &runtime,
        &models.join("category/efficientnet_lite0.onnx"),
        1,
    )
    .unwrap();
    let from_model: Vec<&str> = (0..1000).map(|i| model.class_name(i)).collect();
    let embedded: Vec<&str> = engine::category::IMAGENET_CLASSES
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(embedded, from_model);
    assert_eq!(model.class_name(1000), "", "the model has 1000 classes");
}

#[test]
fn the_engine_pool_serves_concurrent_callers_with_the_same_answers() {
    let models = default_models_dir();
    let plan = engine::workers::WorkerPlan {
        workers: 2,
        threads_per_worker: 1,
    };
    let engine = std::sync::Arc::new(engine::workers::Engine::open(&models, Some(plan)).unwrap());
    assert_eq!(engine.plan(), plan);
    assert_eq!(engine.model_version("ocr-rec"), Some("rapidocr==3.10.0"));
    let detector = if engine::runtime::nvidia_device_present() {
        "ocr-det"
    } else {
        "ocr-det-int8"
    };
    assert_eq!(
        engine.ocr_version(),
        format!("rapidocr==3.10.0 ({detector})")
    );
    let photo = fixture("sharp.jpg");
    let limits = engine::IntakeLimits::default();
    let reference = engine.embed(&photo, &limits).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (engine, photo) = (engine.clone(), photo.clone());
            std::thread::spawn(move || {
                engine
                    .embed(&photo, &engine::IntakeLimits::default())
                    .unwrap()
            })
        })
        .collect();
    for handle in handles {
        let embedding = handle.join().unwrap();
        let similarity = engine::category::cosine(&embedding.feature, &reference.feature);
        assert!(similarity > 0.9999, "{similarity}");
    }
    // A file that is not an image is the caller's error, and the worker stays usable.
    assert!(engine.embed(b"not an image", &limits).is_err());
    assert!(engine.embed(&photo, &limits).is_ok());
}

fn pdf_fixture(name: &str) -> Vec<u8> {
    fixture(&format!("pdf/{name}"))
}

fn pdf_engine() -> std::sync::Arc<engine::pdf::PdfEngine> {
    engine::pdf::PdfEngine::shared(&default_models_dir().join("runtime/libpdfium.so")).unwrap()
}

#[test]
fn pdf_pages_render_and_the_text_layer_is_read_directly() {
    let pdf = pdf_engine();
    let bytes = pdf_fixture("text-invoice.pdf");
    let info = pdf.inspect(&bytes).unwrap();
    assert_eq!(info.page_count, 1);
    // A4 in points.
    assert!(
        (info.width_pt - 595.3).abs() < 1.0 && (info.height_pt - 841.9).abs() < 1.0,
        "{info:?}"
    );
    let page = pdf.render_page(&bytes, 1, 1400).unwrap();
    assert_eq!(page.height(), 1400);
    assert!((page.width() as i32 - 990).abs() <= 1, "{}", page.width());
    // Rendered text: dark pixels exist, the page is mostly white.
    let dark = page.pixels().filter(|p| p.0[0] < 100).count();
    assert!(dark > 500 && dark < page.pixels().len() / 5, "{dark}");
    let text = pdf.page_text(&bytes, 1, 1400).unwrap();
    let lines: Vec<&str> = text.lines.iter().map(|l| l.text.as_str()).collect();
    for expected in [
        "INVOICE No. INV-2041",
        "Date: 2026-03-14",
        "Seller: Acme Traders Pvt Ltd",
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in {lines:#?}");
    }
    let total = text
        .lines
        .iter()
        .find(|l| l.text.contains("1,234.50"))
        .unwrap();
    // Polygons are in the rendering's pixels: inside the page, top above bottom.
    let [tl, _, br, _] = total.polygon;
    assert!(
        tl[0] >= 0.0 && br[0] <= 990.0 && tl[1] < br[1] && br[1] <= 1400.0,
        "{:?}",
        total.polygon
    );

    let scanned = pdf_fixture("scanned.pdf");
    assert!(pdf.page_text(&scanned, 1, 1400).unwrap().lines.is_empty());
    let two = pdf_fixture("two-pages.pdf");
    assert_eq!(pdf.inspect(&two).unwrap().page_count, 2);
    assert_eq!(
        pdf.page_text(&two, 2, 1000).unwrap().lines[0].text,
        "Page two text"
    );
    assert_eq!(
        pdf.render_page(&two, 3, 1000).unwrap_err(),
        engine::pdf::PdfError::PageOutOfRange { page: 3, count: 2 }
    );
}

#[test]
fn bad_pdfs_get_specific_errors_and_a_long_one_stays_cheap() {
    let pdf = pdf_engine();
    let code = |name: &str| pdf.inspect(&pdf_fixture(name)).unwrap_err().code();
    assert_eq!(code("encrypted.pdf"), ErrorCode::PdfEncrypted);
    assert_eq!(code("corrupt.pdf"), ErrorCode::PdfCorrupt);
    assert_eq!(code("empty-pages.pdf"), ErrorCode::PdfEmpty);
    assert_eq!(code("jpeg-named.pdf"), ErrorCode::PdfCorrupt);
    assert!(!engine::pdf::is_pdf(&pdf_fixture("jpeg-named.pdf")));

    let many = pdf_fixture("many-pages.pdf");
    let started = std::time::Instant::now();
    assert_eq!(pdf.inspect(&many).unwrap().page_count, 500);
    let last = pdf.page_text(&many, 500, 1000).unwrap();
    assert_eq!(last.lines[0].text, "Page 500");
    let image = pdf.render_page(&many, 500, 800).unwrap();
    assert_eq!(image.height(), 800);
    eprintln!(
        "500-page PDF: inspect + text + render of page 500 in {:?}",
        started.elapsed()
    );
}
