//! Quality gate v1: classical checks that reject unusable photos on site, with no model.
//!
//! Every check records its measured value, its threshold and its verdict, so reviewers can see
//! how close a photo came, and calibration can be redone from stored analyses.
//!
//! All measures except `too_small` are taken on a grayscale working image whose long side is
//! normalized (512 px by default), which makes them independent of the photo's resolution: the
//! same scene shot at 1 MP or 48 MP gives the same figures.
//!
//! The figures themselves are measured in `photo_measures`; the measure tests stay here, beside
//! the verdicts they feed — which puts the file a little past 600 lines (code 423, tests 186).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::intake::{decode_for_gate, GateImage, ImageFormat, IntakeError, IntakeLimits};
pub use crate::photo_measures::{blur_effect, measure, Measures};

/// One gate check, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GateCheck {
    TooSmall,
    Blank,
    Dark,
    OverExposed,
    Blur,
    /// A page's text barely stands out from its paper (washed out, glare, faded print).
    FaintText,
}

/// Which checks a photo gets: a store photo's, or a page's (chosen by what the photo shows,
/// see [`crate::page`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GateProfile {
    /// Also what reports recorded before pages had a profile of their own were judged as.
    #[default]
    Photo,
    Document,
}

impl GateCheck {
    /// What the auditor should do differently when this check fails.
    pub fn suggestion(self) -> &'static str {
        match self {
            Self::TooSmall => "Use the camera's full resolution, or move closer so the display fills the frame.",
            Self::Blank => "Point the camera at the display: the photo shows an empty or uniform surface (lens cap, wall, floor).",
            Self::Dark => "Turn on the lights or use the flash: the photo is too dark to read.",
            Self::OverExposed => "Avoid glare: step out of direct light or turn off the flash; the photo is washed out.",
            Self::Blur => "Hold the camera steady and tap the display to focus before taking the photo.",
            Self::FaintText => "Light the page evenly and avoid glare or flash: its text is too faint to read.",
        }
    }
}

/// The documented defaults, as written to a new station's data directory.
pub const DEFAULT_GATE_CONFIG_TOML: &str = include_str!("../../../config/quality-gate.toml");

/// Thresholds, read from `quality-gate.toml` (see `config/quality-gate.toml` for the documented
/// defaults, which are these values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields, default)]
pub struct GateConfig {
    /// Long side of the working image all measures are taken on, in pixels.
    pub working_long_side: u32,
    /// Shortest side the original photo must have, in pixels (after EXIF rotation).
    pub min_short_side: u32,
    /// Smallest standard deviation (0–255) of the luma's 8×8-pixel block means (on the working
    /// image) of a photo that shows something: noise on a blank frame averages out in a block.
    pub min_contrast: f64,
    /// Smallest mean absolute difference (luma steps) between neighbouring working pixels (of a
    /// `working_long_side` image; a smaller photo as if enlarged to it) of a photo that shows
    /// something: a frame with no detail at all (a finger over the lens, a
    /// wall far out of focus) is blank even when it is shaded from one side to the other.
    pub min_detail: f64,
    /// Smallest mean luma (0–255) of a photo that is bright enough.
    pub min_mean_luma: f64,
    /// Largest share of clipped highlights (luma ≥ 250) before a photo counts as over-exposed.
    pub max_highlight_share: f64,
    /// Largest mean luma (0–255) before a photo counts as over-exposed.
    pub max_mean_luma: f64,
    /// Largest Crété-Roffet blur effect (0 = sharp, 1 = fully blurred) a sharp photo may have.
    pub max_blur_effect: f64,
    /// A photo is a page when this share of its dark detail is thin strokes (text) ...
    pub page_min_stroke_share: f64,
    /// ... that dark detail covers at least this share of it ...
    pub page_min_detail_share: f64,
    /// ... and paper covers at least this share of it.
    pub page_min_paper_cover: f64,
    /// A page's text must stand this far (luma steps) below its paper.
    pub document_min_text_contrast: f64,
    /// Largest blur effect a sharp page may have (sharp pages measure 0.07–0.18).
    pub document_max_blur_effect: f64,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            working_long_side: 512,
            min_short_side: 240,
            min_contrast: 20.0,
            min_detail: 0.45,
            min_mean_luma: 45.0,
            max_highlight_share: 0.20,
            max_mean_luma: 180.0,
            max_blur_effect: 0.55,
            page_min_stroke_share: 0.37,
            page_min_detail_share: 0.004,
            page_min_paper_cover: 0.50,
            document_min_text_contrast: 40.0,
            document_max_blur_effect: 0.30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GateConfigError {
    #[error("invalid quality gate config: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid quality gate config: {0}")]
    OutOfRange(String),
}

impl GateConfig {
    /// Parses and range-checks a TOML config; fields left out keep their defaults.
    pub fn from_toml(text: &str) -> Result<Self, GateConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), GateConfigError> {
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(GateConfigError::OutOfRange(what.into()))
            }
        };
        check(
            (64..=4096).contains(&self.working_long_side),
            "working_long_side must be 64..=4096",
        )?;
        check(
            (0.0..=255.0).contains(&self.min_contrast),
            "min_contrast must be 0..=255",
        )?;
        check(
            (0.0..=255.0).contains(&self.min_detail),
            "min_detail must be 0..=255",
        )?;
        check(
            (0.0..=255.0).contains(&self.min_mean_luma),
            "min_mean_luma must be 0..=255",
        )?;
        check(
            (0.0..=255.0).contains(&self.max_mean_luma),
            "max_mean_luma must be 0..=255",
        )?;
        check(
            self.min_mean_luma < self.max_mean_luma,
            "min_mean_luma must be below max_mean_luma",
        )?;
        check(
            (0.0..=1.0).contains(&self.max_highlight_share),
            "max_highlight_share must be 0..=1",
        )?;
        check(
            (0.0..=1.0).contains(&self.max_blur_effect),
            "max_blur_effect must be 0..=1",
        )?;
        for (value, what) in [
            (
                self.page_min_stroke_share,
                "page_min_stroke_share must be 0..=1",
            ),
            (
                self.page_min_detail_share,
                "page_min_detail_share must be 0..=1",
            ),
            (
                self.page_min_paper_cover,
                "page_min_paper_cover must be 0..=1",
            ),
            (
                self.document_max_blur_effect,
                "document_max_blur_effect must be 0..=1",
            ),
        ] {
            check((0.0..=1.0).contains(&value), what)?;
        }
        check(
            (0.0..=255.0).contains(&self.document_min_text_contrast),
            "document_min_text_contrast must be 0..=255",
        )?;
        Ok(())
    }
}

/// Whether a check's value must stay at or above (`Min`) or at or below (`Max`) the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Min,
    Max,
}

/// One check as measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CheckOutcome {
    pub check: GateCheck,
    /// What was measured (unit depends on the check; see `GateConfig`).
    pub value: f64,
    pub threshold: f64,
    pub bound: Bound,
    pub passed: bool,
    /// False when another failure makes this measure meaningless (a blank photo's blur).
    pub counted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QualityVerdict {
    Pass,
    Fail,
}

/// The gate's full result for one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QualityReport {
    pub verdict: QualityVerdict,
    /// Whether it was judged as a store photo or as a page.
    #[serde(default)]
    pub profile: GateProfile,
    pub checks: Vec<CheckOutcome>,
    /// The failed checks that count, in report order.
    pub reasons: Vec<GateCheck>,
    /// One retake suggestion per reason.
    pub suggestions: Vec<String>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub exif_orientation: u8,
    pub working_width: u32,
    pub working_height: u32,
    pub decode_scale: String,
    /// Additional figures for display and calibration.
    pub highlight_share: f64,
    pub shadow_share: f64,
    /// The blank check's two figures (see `GateConfig::min_contrast`, `min_detail`).
    #[serde(default)]
    pub contrast: f64,
    #[serde(default)]
    pub detail: f64,
    /// The page figures the profile was chosen by (see [`crate::page`]).
    #[serde(default)]
    pub page_stroke_share: f64,
    #[serde(default)]
    pub page_detail_share: f64,
    #[serde(default)]
    pub page_paper_cover: f64,
}

/// Decodes and assesses a photo in one step.
pub fn assess(
    bytes: &[u8],
    limits: &IntakeLimits,
    config: &GateConfig,
) -> Result<QualityReport, IntakeError> {
    let image = decode_for_gate(bytes, limits, config.working_long_side as usize)?;
    Ok(assess_image(&image, config))
}

/// Applies the thresholds to a decoded working image.
pub fn assess_image(image: &GateImage, config: &GateConfig) -> QualityReport {
    let mut m = measure(&image.luma, image.width, image.height);
    // detail is per pixel: a photo smaller than the working size is measured as if enlarged
    // to it, so that the threshold means the same at every resolution
    let long = image.width.max(image.height) as f64;
    m.detail *= (long / f64::from(config.working_long_side)).min(1.0);
    let short_side = image.info.width.min(image.info.height);
    let outcome = |check, value: f64, threshold: f64, bound| CheckOutcome {
        check,
        value,
        threshold,
        bound,
        passed: match bound {
            Bound::Min => value >= threshold,
            Bound::Max => value <= threshold,
        },
        counted: true,
    };
    let page = crate::page::measure(&image.luma, image.width, image.height);
    let profile = if page.stroke_share >= config.page_min_stroke_share
        && page.detail_share >= config.page_min_detail_share
        && page.paper_cover >= config.page_min_paper_cover
    {
        GateProfile::Document
    } else {
        GateProfile::Photo
    };
    let too_small = outcome(
        GateCheck::TooSmall,
        f64::from(short_side),
        f64::from(config.min_short_side),
        Bound::Min,
    );
    let dark = outcome(
        GateCheck::Dark,
        m.mean_luma,
        config.min_mean_luma,
        Bound::Min,
    );
    let mut checks = match profile {
        // white paper is meant to be bright and mostly uniform: what counts on a page is that
        // its text stands out and is sharp
        GateProfile::Document => vec![
            too_small,
            dark,
            outcome(
                GateCheck::FaintText,
                page.text_contrast,
                config.document_min_text_contrast,
                Bound::Min,
            ),
            outcome(
                GateCheck::Blur,
                m.blur_effect,
                config.document_max_blur_effect,
                Bound::Max,
            ),
        ],
        GateProfile::Photo => vec![
            too_small,
            // Blank: no contrast, or no detail at all — unless the blur measure says there are
            // edges, only smeared: a photo taken in motion is blurred, not blank
            {
                let by_contrast = outcome(
                    GateCheck::Blank,
                    m.contrast,
                    config.min_contrast,
                    Bound::Min,
                );
                let by_detail = outcome(GateCheck::Blank, m.detail, config.min_detail, Bound::Min);
                if by_contrast.passed && m.blur_effect <= config.max_blur_effect {
                    by_detail
                } else {
                    by_contrast
                }
            },
            dark,
            // Over-exposure: the worse of clipped share and mean brightness, each against its
            // own bound.
            {
                let by_share = outcome(
                    GateCheck::OverExposed,
                    m.highlight_share,
                    config.max_highlight_share,
                    Bound::Max,
                );
                let by_mean = outcome(
                    GateCheck::OverExposed,
                    m.mean_luma,
                    config.max_mean_luma,
                    Bound::Max,
                );
                if by_share.passed {
                    by_mean
                } else {
                    by_share
                }
            },
            outcome(
                GateCheck::Blur,
                m.blur_effect,
                config.max_blur_effect,
                Bound::Max,
            ),
        ],
    };
    // A uniform or black frame has no edges, so its blur figure says nothing: report the cause.
    let blank_or_dark = checks
        .iter()
        .any(|c| matches!(c.check, GateCheck::Blank | GateCheck::Dark) && !c.passed);
    for c in &mut checks {
        if c.check == GateCheck::Blur && blank_or_dark {
            c.counted = false;
        }
    }
    let reasons: Vec<GateCheck> = checks
        .iter()
        .filter(|c| c.counted && !c.passed)
        .map(|c| c.check)
        .collect();
    let suggestions = reasons.iter().map(|r| r.suggestion().to_string()).collect();
    QualityReport {
        verdict: if reasons.is_empty() {
            QualityVerdict::Pass
        } else {
            QualityVerdict::Fail
        },
        profile,
        checks,
        reasons,
        suggestions,
        format: image.info.format,
        width: image.info.width,
        height: image.info.height,
        exif_orientation: image.info.exif_orientation,
        working_width: image.width as u32,
        working_height: image.height as u32,
        decode_scale: image.decode_scale.clone(),
        highlight_share: m.highlight_share,
        shadow_share: m.shadow_share,
        contrast: m.contrast,
        detail: m.detail,
        page_stroke_share: page.stroke_share,
        page_detail_share: page.detail_share,
        page_paper_cover: page.paper_cover,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic textured test scene: sharp-edged blocks plus fine stripes.
    fn scene(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let block = if ((x * 16 / w) + (y * 12 / h)).is_multiple_of(2) {
                    60
                } else {
                    190
                };
                let stripes = if (x / 3 + y / 5).is_multiple_of(2) {
                    25
                } else {
                    0
                };
                (block + stripes) as u8
            })
            .collect()
    }

    fn box_blur(src: &[u8], w: usize, h: usize, radius: usize) -> Vec<u8> {
        let mut out = vec![0u8; src.len()];
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut n) = (0u32, 0u32);
                for yy in y.saturating_sub(radius)..(y + radius + 1).min(h) {
                    for xx in x.saturating_sub(radius)..(x + radius + 1).min(w) {
                        s += u32::from(src[yy * w + xx]);
                        n += 1;
                    }
                }
                out[y * w + x] = (s / n) as u8;
            }
        }
        out
    }

    #[test]
    fn blur_effect_orders_sharp_below_blurred_and_ignores_contrast() {
        let (w, h) = (512, 384);
        let sharp = scene(w, h);
        let blurred = box_blur(&sharp, w, h, 4);
        let low_contrast: Vec<u8> = sharp.iter().map(|&v| v / 4 + 100).collect();
        let b_sharp = blur_effect(&sharp, w, h);
        let b_blur = blur_effect(&blurred, w, h);
        let b_low = blur_effect(&low_contrast, w, h);
        assert!(b_sharp < 0.3, "sharp {b_sharp}");
        assert!(b_blur > 0.6, "blurred {b_blur}");
        assert!(
            (b_sharp - b_low).abs() < 0.05,
            "contrast changed blur: {b_sharp} vs {b_low}"
        );
    }

    #[test]
    fn a_noisy_blank_frame_is_blank_and_a_scene_is_not() {
        let (w, h) = (512usize, 384usize);
        // a grey frame with strong sensor noise: per-pixel deviation about 33 luma steps
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 115) as i32 - 57
        };
        let noisy: Vec<u8> = (0..w * h)
            .map(|_| (128 + noise()).clamp(0, 255) as u8)
            .collect();
        let m = measure(&noisy, w, h);
        assert!(m.contrast < 5.0, "noise averages out: {}", m.contrast);
        // a scene: large light and dark shapes, the same noise on top
        let scene: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let base = if (x / 96 + y / 96) % 2 == 0 { 70 } else { 170 };
                (base + noise() / 2).clamp(0, 255) as u8
            })
            .collect();
        let m = measure(&scene, w, h);
        assert!(m.contrast > 40.0, "shapes count: {}", m.contrast);
    }

    #[test]
    fn uniform_image_is_blank_and_blur_is_not_counted() {
        let image = GateImage {
            info: crate::intake::ImageInfo {
                format: ImageFormat::Png,
                width: 800,
                height: 600,
                exif_orientation: 1,
            },
            luma: vec![128; 512 * 384],
            width: 512,
            height: 384,
            decode_scale: "1".into(),
        };
        let report = assess_image(&image, &GateConfig::default());
        assert_eq!(report.verdict, QualityVerdict::Fail);
        assert_eq!(report.reasons, vec![GateCheck::Blank]);
        assert_eq!(report.suggestions.len(), 1);
        let blur = report
            .checks
            .iter()
            .find(|c| c.check == GateCheck::Blur)
            .unwrap();
        assert!(!blur.counted);
    }

    #[test]
    fn dark_and_bright_frames_fail_their_checks() {
        let (w, h) = (512, 384);
        let base = scene(w, h);
        let info = crate::intake::ImageInfo {
            format: ImageFormat::Jpeg,
            width: 4000,
            height: 3000,
            exif_orientation: 1,
        };
        let make = |luma: Vec<u8>| GateImage {
            info,
            luma,
            width: w,
            height: h,
            decode_scale: "1/8".into(),
        };
        let dark = assess_image(
            &make(base.iter().map(|&v| v / 8).collect()),
            &GateConfig::default(),
        );
        assert!(
            dark.reasons.contains(&GateCheck::Dark),
            "{:?}",
            dark.reasons
        );
        let bright = assess_image(
            &make(base.iter().map(|&v| v.saturating_mul(3)).collect()),
            &GateConfig::default(),
        );
        assert!(
            bright.reasons.contains(&GateCheck::OverExposed),
            "{:?}",
            bright.reasons
        );
        let fine = assess_image(&make(base), &GateConfig::default());
        assert_eq!(fine.verdict, QualityVerdict::Pass, "{:?}", fine.checks);
    }

    #[test]
    fn too_small_uses_the_original_size() {
        let info = crate::intake::ImageInfo {
            format: ImageFormat::Jpeg,
            width: 160,
            height: 120,
            exif_orientation: 1,
        };
        let image = GateImage {
            info,
            luma: scene(160, 120),
            width: 160,
            height: 120,
            decode_scale: "1".into(),
        };
        let report = assess_image(&image, &GateConfig::default());
        assert!(report.reasons.contains(&GateCheck::TooSmall));
    }

    #[test]
    fn config_parses_partial_files_and_rejects_bad_values() {
        let config = GateConfig::from_toml("max_blur_effect = 0.5\n").unwrap();
        assert_eq!(config.max_blur_effect, 0.5);
        assert_eq!(config.min_mean_luma, GateConfig::default().min_mean_luma);
        assert!(GateConfig::from_toml("max_blur_effect = 3.0").is_err());
        assert!(GateConfig::from_toml("no_such_key = 1").is_err());
        assert!(GateConfig::from_toml("min_mean_luma = 'dark'").is_err());
    }

    #[test]
    fn documented_defaults_file_matches_the_code() {
        let text = DEFAULT_GATE_CONFIG_TOML;
        assert_eq!(GateConfig::from_toml(text).unwrap(), GateConfig::default());
    }
}
