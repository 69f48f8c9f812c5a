//! The engine on real photos (tests/fixtures: a grocery-store photo, a blurred copy, a corrupt
//! file) and on degraded versions made here.

use engine::{assess, GateCheck, GateConfig, IntakeLimits, QualityVerdict};

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
