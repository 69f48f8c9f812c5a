//! Category gate: "is this photo of the category it claims to be?". A photo is embedded with
//! EfficientNet-Lite0 (the 1280-d pooled feature, L2-normalized); each category is the mean
//! embedding (prototype) of a few reference photos; the verdict is the nearest prototype by
//! cosine similarity, with the margin to the runner-up.

use crate::imagenet::serde_json_array;
pub use crate::imagenet::{imagenet_class, IMAGENET_CLASSES};
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
    /// A photo whose most likely ImageNet class has at least this probability, and is none of
    /// the classes the store's reference photos show or its categories name, shows something
    /// else (a television, a person, a shop floor): `irrelevant`, whatever the prototypes say.
    #[serde(default = "default_min_foreign_probability")]
    pub min_foreign_probability: f32,
}

fn default_min_foreign_probability() -> f32 {
    CategoryThresholds::default().min_foreign_probability
}

impl Default for CategoryThresholds {
    fn default() -> Self {
        // Chosen on grocery-dev and on photos of other things collected for it
        // (BENCHMARKS.md, "Category gate"; each reference photo its own prototype): real
        // photos sit at 0.51 or more from their section's nearest reference (1st percentile
        // 0.59), other things at 0.48 or less (95th percentile 0.42), photos of nothing lower
        // still. ImageNet at 0.25: catches what it is sure of and no reference shows.
        Self {
            min_similarity: 0.5,
            min_margin: 0.02,
            min_foreign_probability: 0.25,
        }
    }
}

/// ImageNet classes a reference photo shows: those of its five most likely at this
/// probability or more (below it, the tail of the five is noise: a grocery photo's fifth class
/// may be "television" at 0.01).
pub const SEEN_MIN_PROBABILITY: f32 = 0.05;

/// A store's categories, each the prototypes of its reference photos and/or a set of ImageNet
/// classes.
#[derive(Debug, Clone, PartialEq)]
pub struct CategorySet {
    pub names: Vec<String>,
    /// Per category, one prototype (mean embedding) per class of its reference photos — a
    /// subfolder of its reference folder; the photos directly in it are one class. Empty when
    /// the category is defined by ImageNet classes only.
    pub prototypes: Vec<Vec<Vec<f32>>>,
    /// ImageNet class indices that also mean the category (appliances); their summed
    /// probability is the category's score when it exceeds the prototype similarity.
    pub imagenet: Vec<Vec<usize>>,
    /// Per category, the ImageNet classes its reference photos show (see
    /// [`SEEN_MIN_PROBABILITY`]).
    pub seen: Vec<Vec<usize>>,
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
    /// Set when the photo was judged `irrelevant` because ImageNet is confident it shows
    /// something none of the store's categories shows: that class and its probability.
    #[serde(default)]
    pub foreign: Option<CategoryScore>,
    pub thresholds: CategoryThresholds,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct CategoryScore {
    pub name: String,
    pub score: f32,
}

impl CategorySet {
    /// A store's categories from their reference photos, each tagged with its class (photos of
    /// one class share a prototype), and the ImageNet classes each category names.
    pub fn from_references(
        names: Vec<String>,
        references: &[Vec<(String, &Embedding)>],
        imagenet: Vec<Vec<usize>>,
        thresholds: CategoryThresholds,
    ) -> Self {
        let mut prototypes = Vec::with_capacity(references.len());
        let mut seen = Vec::with_capacity(references.len());
        for photos in references {
            let mut classes: Vec<&str> = photos.iter().map(|(class, _)| class.as_str()).collect();
            classes.sort_unstable();
            classes.dedup();
            prototypes.push(
                classes
                    .iter()
                    .map(|class| {
                        prototype(
                            photos
                                .iter()
                                .filter(|(c, _)| c == class)
                                .map(|(_, e)| e.feature.as_slice()),
                        )
                    })
                    .collect(),
            );
            let mut shown: Vec<usize> = photos
                .iter()
                .flat_map(|(_, e)| e.imagenet_top5.iter())
                .filter(|(_, p)| *p >= SEEN_MIN_PROBABILITY)
                .map(|(index, _)| *index)
                .collect();
            shown.sort_unstable();
            shown.dedup();
            seen.push(shown);
        }
        Self {
            names,
            prototypes,
            imagenet,
            seen,
            thresholds,
        }
    }

    /// The photo's most likely ImageNet class when it is confident and none of the store's
    /// categories shows or names it.
    fn foreign_class(&self, probabilities: &[(usize, f32)]) -> Option<(usize, f32)> {
        let &(class, probability) = probabilities.first()?;
        let known = self.seen.iter().any(|s| s.contains(&class))
            || self.imagenet.iter().any(|s| s.contains(&class));
        (probability >= self.thresholds.min_foreign_probability && !known)
            .then_some((class, probability))
    }

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
                // the nearest of the category's classes
                let similarity = self.prototypes.get(i).map_or(f32::NEG_INFINITY, |ps| {
                    ps.iter()
                        .map(|p| cosine(feature, p))
                        .fold(f32::NEG_INFINITY, f32::max)
                });
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
        let foreign = self.foreign_class(probabilities);
        let verdict = if predicted.is_none()
            || similarity < self.thresholds.min_similarity
            || foreign.is_some()
        {
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
        // named from the reported list, whose first entry is the most likely class
        let foreign = foreign.map(|(_, probability)| CategoryScore {
            name: imagenet_top
                .first()
                .map_or_else(String::new, |top| top.name.clone()),
            score: probability,
        });
        CategoryVerdict {
            verdict: verdict.into(),
            expected: expected.map(str::to_string),
            predicted,
            similarity,
            margin,
            scores,
            imagenet_top,
            foreign,
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
            prototypes: vec![vec![axis(0)], vec![axis(1)], Vec::new()],
            imagenet: vec![Vec::new(), Vec::new(), vec![760, 534]],
            // 948 Granny Smith, 950 orange, 945 bell pepper
            seen: vec![vec![948, 950], vec![945], Vec::new()],
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
            seen: Vec::new(),
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
    fn what_imagenet_is_sure_of_and_no_category_shows_is_irrelevant() {
        let set = set();
        let named = |name: &str, p: f32| {
            vec![CategoryScore {
                name: name.into(),
                score: p,
            }]
        };
        // near the Vegetables prototype, but ImageNet says television (851) at 0.6
        let tv = set.judge(
            &photo(0.2, 0.9, 0.1),
            &[(851, 0.6), (664, 0.2)],
            Some("Vegetables"),
            named("television", 0.6),
        );
        assert_eq!(tv.verdict, "irrelevant");
        let foreign = tv.foreign.expect("the class that decided");
        assert_eq!((foreign.name.as_str(), foreign.score), ("television", 0.6));
        // unsure (under the threshold): the prototypes decide
        let unsure = set.judge(
            &photo(0.2, 0.9, 0.1),
            &[(851, 0.2)],
            Some("Vegetables"),
            Vec::new(),
        );
        assert_eq!((unsure.verdict.as_str(), unsure.foreign), ("match", None));
        // a class the references show (bell pepper), or a category names: not foreign
        let pepper = set.judge(
            &photo(0.2, 0.9, 0.1),
            &[(945, 0.9)],
            Some("Vegetables"),
            Vec::new(),
        );
        assert_eq!(pepper.verdict, "match");
        let fridge = set.judge(
            &photo(0.1, 0.1, 0.95),
            &[(760, 0.9)],
            Some("Appliances"),
            Vec::new(),
        );
        assert_eq!(fridge.verdict, "match");
    }

    #[test]
    fn references_give_one_prototype_per_class_and_what_they_show() {
        let embedding = |axis: usize, top: Vec<(usize, f32)>| {
            let mut feature = vec![0f32; FEATURE_DIM];
            feature[axis] = 1.0;
            Embedding {
                feature,
                imagenet_top5: top,
            }
        };
        let apple = embedding(0, vec![(948, 0.8), (851, 0.01)]);
        let orange = embedding(1, vec![(950, 0.6)]);
        let set = CategorySet::from_references(
            vec!["Fruit".into()],
            &[vec![("apple".into(), &apple), ("orange".into(), &orange)]],
            vec![Vec::new()],
            CategoryThresholds::default(),
        );
        assert_eq!(set.prototypes[0].len(), 2);
        // the television at 0.01 is the tail of the five, not something the photos show
        assert_eq!(set.seen[0], vec![948, 950]);
        // an orange is as near its own class as can be, not halfway to the apples
        let v = set.judge(&orange.feature, &[], Some("Fruit"), Vec::new());
        assert!((v.similarity - 1.0).abs() < 1e-6, "{}", v.similarity);
    }
}
