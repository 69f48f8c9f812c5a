//! The engine on real photos (tests/fixtures: a grocery-store photo, a blurred copy, a corrupt
//! file) and on degraded versions made here.

use engine::{assess, GateCheck, GateConfig, GateProfile, IntakeLimits, QualityVerdict};

use crate::fixture;

#[test]
fn a_real_sharp_photo_passes_and_its_blurred_copy_fails_for_blur_only() {
    let config = GateConfig::default();
    let sharp = assess(&fixture("sharp.jpg"), &IntakeLimits::default(), &config).unwrap();
    assert_eq!(sharp.verdict, QualityVerdict::Pass, "{:?}", sharp.checks);
    let blurred = assess(&fixture("blurred.jpg"), &IntakeLimits::default(), &config).unwrap();
    assert_eq!(
        blurred.reasons,
        vec![GateCheck::Blur],
        "{:?}",
        blurred.checks
    );
    assert_eq!(blurred.suggestions.len(), 1);
    let blur = |r: &engine::QualityReport| {
        r.checks
            .iter()
            .find(|c| c.check == GateCheck::Blur)
            .unwrap()
            .value
    };
    assert!(blur(&blurred) > blur(&sharp) + 0.2);
}

#[test]
fn darkening_and_overexposing_a_real_photo_fail_the_right_checks() {
    let image = image::load_from_memory(&fixture("sharp.jpg"))
        .unwrap()
        .into_rgb8();
    let encode = |img: &image::RgbImage| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let mut dark = image.clone();
    dark.pixels_mut().for_each(|p| p.0 = p.0.map(|v| v / 7));
    let mut bright = image;
    bright
        .pixels_mut()
        .for_each(|p| p.0 = p.0.map(|v| v.saturating_mul(3)));
    let config = GateConfig::default();
    let dark = assess(&encode(&dark), &IntakeLimits::default(), &config).unwrap();
    assert!(
        dark.reasons.contains(&GateCheck::Dark),
        "{:?}",
        dark.reasons
    );
    let bright = assess(&encode(&bright), &IntakeLimits::default(), &config).unwrap();
    assert!(
        bright.reasons.contains(&GateCheck::OverExposed),
        "{:?}",
        bright.reasons
    );
}

#[test]
fn the_corrupt_fixture_is_a_specific_error() {
    let err = assess(
        &fixture("corrupt.jpg"),
        &IntakeLimits::default(),
        &GateConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::Corrupt);
    assert!(
        err.to_string().starts_with("the JPEG file is corrupt"),
        "{err}"
    );
}

#[test]
fn the_measures_do_not_depend_on_resolution() {
    // The same scene at 348 px and upscaled 6× (2088 px, decoded at a reduced DCT scale).
    let image = image::load_from_memory(&fixture("sharp.jpg")).unwrap();
    let big = image.resize(2088, 2088, image::imageops::FilterType::Lanczos3);
    let mut out = std::io::Cursor::new(Vec::new());
    big.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    let config = GateConfig::default();
    let small = assess(&fixture("sharp.jpg"), &IntakeLimits::default(), &config).unwrap();
    let large = assess(&out.into_inner(), &IntakeLimits::default(), &config).unwrap();
    assert_ne!(large.decode_scale, "1");
    for check in [GateCheck::Dark, GateCheck::Blank] {
        let v =
            |r: &engine::QualityReport| r.checks.iter().find(|c| c.check == check).unwrap().value;
        let (a, b) = (v(&small), v(&large));
        assert!((a - b).abs() / a.max(1.0) < 0.1, "{check:?}: {a} vs {b}");
    }
}

/// Every photo under `dir` (recursively).
fn photos_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(photos_under(&path));
        } else if path.extension().is_some_and(|x| x == "jpg") {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn receipts_and_scanned_invoices_are_judged_as_pages_and_store_photos_as_photos() {
    let config = GateConfig::default();
    let limits = IntakeLimits::default();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut pages = vec![root.join("sroie/000.jpg")];
    pages.extend(
        std::fs::read_dir(root.join("documents"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".scan.jpg")),
    );
    assert!(pages.len() >= 5, "{pages:?}");
    for page in &pages {
        let report = assess(&std::fs::read(page).unwrap(), &limits, &config).unwrap();
        // white paper is not over-exposed: a sharp, legible page passes
        assert_eq!(report.profile, GateProfile::Document, "{}", page.display());
        assert_eq!(
            report.verdict,
            QualityVerdict::Pass,
            "{}: {:?}",
            page.display(),
            report.checks
        );
        assert!(!report
            .checks
            .iter()
            .any(|c| c.check == GateCheck::OverExposed));
    }
    let photos = photos_under(&root.join("grocery"));
    assert!(photos.len() >= 10, "{}", photos.len());
    for photo in photos
        .iter()
        .chain([&root.join("sharp.jpg"), &root.join("blurred.jpg")])
    {
        let report = assess(&std::fs::read(photo).unwrap(), &limits, &config).unwrap();
        assert_eq!(
            report.profile,
            GateProfile::Photo,
            "{}: stroke share {:.3}, detail {:.4}, paper {:.3}",
            photo.display(),
            report.page_stroke_share,
            report.page_detail_share,
            report.page_paper_cover
        );
    }
}

#[test]
fn a_washed_out_or_blurred_page_fails_as_a_page() {
    let receipt = image::load_from_memory(&fixture("sroie/000.jpg"))
        .unwrap()
        .into_luma8();
    let encode = |img: &image::GrayImage| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let config = GateConfig::default();
    let limits = IntakeLimits::default();
    // faded until the text is barely visible: luma + 0.9·(255 − luma)
    let mut faded = receipt.clone();
    faded
        .pixels_mut()
        .for_each(|p| p.0[0] = 255 - (255 - p.0[0]) / 10);
    let report = assess(&encode(&faded), &limits, &config).unwrap();
    assert_eq!(report.verdict, QualityVerdict::Fail, "{:?}", report.checks);
    let expected = match report.profile {
        GateProfile::Document => GateCheck::FaintText,
        // faded this far, the strokes no longer read as text: judged (and failed) as a photo
        GateProfile::Photo => GateCheck::OverExposed,
    };
    assert!(report.reasons.contains(&expected), "{report:?}");
    // blurred well past reading (σ of 6 px at full size): a page's blur check catches it, or it
    // no longer even looks like a page and fails as a photo
    let blurred = image::imageops::blur(&receipt, 6.0);
    let report = assess(&encode(&blurred), &limits, &config).unwrap();
    assert_eq!(report.verdict, QualityVerdict::Fail, "{:?}", report.checks);
}
