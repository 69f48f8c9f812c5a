//! The category gate as a store uses it, on real grocery photos and on photos of other things
//! (issue 19): every grocery photo is judged leave-one-out against a store whose sections are
//! built from the other photos (≤ MAX_REFS per class), claimed as its own section; every other
//! photo is claimed as each section in turn. Prints, per way of building the sections and per
//! ImageNet threshold, the section accuracy, the grocery photos rejected and the other photos
//! caught (`wrong_category` or `irrelevant`). The first row is the app's way: every reference
//! photo its own prototype (what `station` builds from a reference folder), default thresholds.
//! `CATEGORY_MISSES=1` lists what that row gets wrong. `--held-out` instead chooses
//! `min_similarity` on half of the other photos' scenes and judges the other half with it.
//!
//! `cargo run --release -p engine --example category_app_eval -- GROCERY_DIR OTHER_DIR [MAX_REFS] [--held-out]`
//! (GROCERY_DIR laid out as `<Section>/<Class>/…/*.jpg`; OTHER_DIR from
//! `tools/gate_calibration/make_non_grocery.py`)

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use engine::category::{CategoryModel, CategorySet, CategoryThresholds, Embedding};
use engine::runtime::{default_models_dir, Runtime};
use engine::IntakeLimits;

struct Photo {
    section: String,
    class: String,
    embedding: Embedding,
}

/// The photo's three most likely ImageNet classes, for a miss report.
fn top_classes(e: &Embedding) -> Vec<String> {
    e.imagenet_top5
        .iter()
        .take(3)
        .map(|(c, p)| format!("{} {p:.2}", engine::category::IMAGENET_CLASSES[*c]))
        .collect()
}

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jpg") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The scene a collected photo comes from (`skimage__astronaut__mirror.jpg` →
/// `skimage__astronaut`): its mirrored and cropped copies stay on one side of a split.
fn scene(path: &Path) -> String {
    let name = path
        .file_stem()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    name.split("__").take(2).collect::<Vec<_>>().join("__")
}

/// `min_similarity` chosen as the app's was (the middle between the grocery photos' 1st
/// percentile of similarity to their own section and the other photos' 95th percentile to the
/// nearest section), on one half of the collected scenes, and the other half judged with it;
/// then the halves swapped.
fn held_out_thresholds(
    grocery: &[Photo],
    others: &[(PathBuf, Embedding)],
    sections: &[String],
    store: &dyn Fn(Option<usize>, u8, f32, f32) -> CategorySet,
    foreign: f32,
) {
    let mut scenes: Vec<String> = others.iter().map(|(p, _)| scene(p)).collect();
    scenes.sort();
    scenes.dedup();
    let half = |h: usize| -> Vec<&(PathBuf, Embedding)> {
        others
            .iter()
            .filter(|(p, _)| scenes.iter().position(|s| *s == scene(p)).unwrap() % 2 == h)
            .collect()
    };
    let q = |v: &[f32], x: f64| v[((v.len() - 1) as f64 * x).round() as usize];
    let mut real: Vec<f32> = grocery
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let set = store(Some(i), 2, 1.01, 0.0);
            let v = set.judge(&p.embedding.feature, &[], Some(&p.section), Vec::new());
            v.scores
                .iter()
                .find(|s| s.name == p.section)
                .map_or(0.0, |s| s.score)
        })
        .collect();
    real.sort_by(f32::total_cmp);
    let all = store(None, 2, 1.01, 0.0);
    println!(
        "\nheld out by scene ({} scenes): min_similarity chosen on one half, judged on the other; ImageNet rule {foreign:.2}",
        scenes.len()
    );
    println!(
        "{:<8} {:>14} {:>10} {:>14} {:>20} {:>20} {:>18}",
        "tuned on",
        "photos (tune)",
        "others p95",
        "min_similarity",
        "held-out caught",
        "held-out sim caught",
        "grocery rejected"
    );
    for tune in [0usize, 1] {
        let (tuning, judged) = (half(tune), half(1 - tune));
        let mut other: Vec<f32> = tuning
            .iter()
            .map(|(_, e)| all.judge(&e.feature, &[], None, Vec::new()).similarity)
            .collect();
        other.sort_by(f32::total_cmp);
        let chosen = (q(&real, 0.01) + q(&other, 0.95)) / 2.0;
        let with_rule = store(None, 2, foreign, chosen);
        let without_rule = store(None, 2, 1.01, chosen);
        let (mut caught, mut caught_by_similarity, mut claims) = (0, 0, 0);
        for (_, e) in &judged {
            for s in sections {
                claims += 1;
                let caught_by = |set: &CategorySet| {
                    let v = set.judge(&e.feature, &e.imagenet_top5, Some(s), Vec::new());
                    usize::from(v.verdict == "wrong_category" || v.verdict == "irrelevant")
                };
                caught += caught_by(&with_rule);
                caught_by_similarity += caught_by(&without_rule);
            }
        }
        let rejected = grocery
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                let set = store(Some(*i), 2, foreign, chosen);
                let e = &p.embedding;
                set.judge(&e.feature, &e.imagenet_top5, Some(&p.section), Vec::new())
                    .verdict
                    != "match"
            })
            .count();
        println!(
            "{:<8} {:>14} {:>10.3} {:>14.3} {:>20} {:>20} {:>18}",
            ["half A", "half B"][tune],
            tuning.len(),
            q(&other, 0.95),
            chosen,
            format!(
                "{caught}/{claims} {:.1}%",
                100.0 * caught as f64 / claims as f64
            ),
            format!(
                "{caught_by_similarity}/{claims} {:.1}%",
                100.0 * caught_by_similarity as f64 / claims as f64
            ),
            format!(
                "{rejected}/{} {:.1}%",
                grocery.len(),
                100.0 * rejected as f64 / grocery.len() as f64
            ),
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: category_app_eval GROCERY_DIR OTHER_DIR [MAX_REFS] [--held-out]";
    let grocery_dir = PathBuf::from(args.next().expect(usage));
    let other_dir = PathBuf::from(args.next().expect(usage));
    let rest: Vec<String> = args.collect();
    let held_out = rest.iter().any(|a| a == "--held-out");
    let max_refs: usize = rest
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(8, |a| a.parse().unwrap());
    let models = default_models_dir();
    let runtime = Runtime::shared(&models).unwrap();
    let mut model = CategoryModel::open(
        &runtime,
        &models.join("category/efficientnet_lite0.onnx"),
        1,
    )
    .unwrap();
    let limits = IntakeLimits::default();
    // a file that cannot be read or decoded is reported and left out, the rest goes on
    let mut embed = |p: &Path| {
        let embedded = std::fs::read(p)
            .map_err(|e| e.to_string())
            .and_then(|bytes| model.embed(&bytes, &limits).map_err(|e| e.to_string()));
        embedded
            .map_err(|e| eprintln!("{}: {e} (left out)", p.display()))
            .ok()
    };
    let grocery: Vec<Photo> = jpegs(&grocery_dir)
        .into_iter()
        .filter_map(|p| {
            let rel: Vec<String> = p
                .strip_prefix(&grocery_dir)
                .unwrap()
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            Some(Photo {
                section: rel.first()?.clone(),
                class: rel.get(1)?.clone(),
                embedding: embed(&p)?,
            })
        })
        .collect();
    let others: Vec<(PathBuf, Embedding)> = jpegs(&other_dir)
        .into_iter()
        .filter_map(|p| embed(&p).map(|e| (p, e)))
        .collect();
    let mut sections: Vec<String> = grocery.iter().map(|p| p.section.clone()).collect();
    sections.sort();
    sections.dedup();
    println!(
        "{} grocery photos in {} sections, {} other photos; ≤ {max_refs} references per class; CPU: {}",
        grocery.len(),
        sections.len(),
        others.len(),
        engine::cpu::CpuInfo::detect()
    );

    // the store a visit judges against, built from the grocery photos but `skip`
    // per_class: 0 one prototype per section, 1 per class, 2 per reference photo
    let store =
        |skip: Option<usize>, per_class: u8, foreign: f32, min_similarity: f32| -> CategorySet {
            let mut references: Vec<Vec<(String, &Embedding)>> = vec![Vec::new(); sections.len()];
            let mut taken: std::collections::BTreeMap<&str, usize> = Default::default();
            for (j, p) in grocery.iter().enumerate() {
                if Some(j) == skip {
                    continue;
                }
                let n = taken.entry(p.class.as_str()).or_default();
                if *n >= max_refs {
                    continue;
                }
                *n += 1;
                let s = sections.iter().position(|s| *s == p.section).unwrap();
                let group = match per_class {
                    0 => String::new(),
                    1 => p.class.clone(),
                    _ => j.to_string(),
                };
                references[s].push((group, &p.embedding));
            }
            CategorySet::from_references(
                sections.clone(),
                &references,
                vec![Vec::new(); sections.len()],
                CategoryThresholds {
                    min_foreign_probability: foreign,
                    min_similarity,
                    ..CategoryThresholds::default()
                },
            )
        };
    let app = CategoryThresholds::default();
    if held_out {
        held_out_thresholds(
            &grocery,
            &others,
            &sections,
            &store,
            app.min_foreign_probability,
        );
        return;
    }
    println!(
        "\n{:<28} {:>9} {:>9} {:>16} {:>18} {:>18}",
        "sections built as",
        "min sim",
        "ImageNet",
        "section accuracy",
        "grocery rejected",
        "others caught"
    );
    // first the app's own way (each reference photo its own prototype, default thresholds),
    // then the other ways and thresholds it was chosen against
    let mut grid: Vec<(u8, f32, f32)> = vec![(2, app.min_similarity, app.min_foreign_probability)];
    for pc in [0u8, 1, 2] {
        for ms in [0.25f32, 0.30, 0.35, 0.40, 0.45, 0.50] {
            for f in [1.01f32, 0.3, 0.25, 0.2] {
                grid.push((pc, ms, f));
            }
        }
    }
    {
        for &(per_class, min_similarity, foreign) in &grid {
            let (mut right, mut rejected) = (0, 0);
            for (i, p) in grocery.iter().enumerate() {
                let set = store(Some(i), per_class, foreign, min_similarity);
                let e = &p.embedding;
                let open = set.judge(&e.feature, &e.imagenet_top5, None, Vec::new());
                right += usize::from(open.predicted.as_deref() == Some(p.section.as_str()));
                let claimed = set.judge(&e.feature, &e.imagenet_top5, Some(&p.section), Vec::new());
                rejected += usize::from(claimed.verdict != "match");
            }
            let set = store(None, per_class, foreign, min_similarity);
            let (mut caught, mut claims) = (0, 0);
            for (_, e) in &others {
                for s in &sections {
                    let v = set.judge(&e.feature, &e.imagenet_top5, Some(s), Vec::new());
                    claims += 1;
                    caught +=
                        usize::from(v.verdict == "wrong_category" || v.verdict == "irrelevant");
                }
            }
            println!(
                "{:<28} {min_similarity:>9.2} {:>9} {:>16} {:>18} {:>18}",
                [
                    "one prototype per section",
                    "one prototype per class",
                    "one per reference photo"
                ][usize::from(per_class)],
                if foreign > 1.0 {
                    "off".to_string()
                } else {
                    format!("{foreign:.2}")
                },
                format!("{:.3}", right as f64 / grocery.len() as f64),
                format!(
                    "{rejected}/{} {:.1}%",
                    grocery.len(),
                    100.0 * rejected as f64 / grocery.len() as f64
                ),
                format!(
                    "{caught}/{claims} {:.1}%",
                    100.0 * caught as f64 / claims as f64
                ),
            );
        }
    }
    // how near each photo is to the claimed section's nearest class (grocery: leave-one-out)
    for per_class in [0u8, 1, 2] {
        let mut real: Vec<f32> = grocery
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let set = store(Some(i), per_class, 1.01, 0.0);
                let v = set.judge(&p.embedding.feature, &[], Some(&p.section), Vec::new());
                v.scores
                    .iter()
                    .find(|s| s.name == p.section)
                    .map_or(0.0, |s| s.score)
            })
            .collect();
        let set = store(None, per_class, 1.01, 0.0);
        let mut other: Vec<f32> = others
            .iter()
            .map(|(_, e)| set.judge(&e.feature, &[], None, Vec::new()).similarity)
            .collect();
        real.sort_by(f32::total_cmp);
        other.sort_by(f32::total_cmp);
        let q = |v: &[f32], x: f64| v[((v.len() - 1) as f64 * x).round() as usize];
        println!(
            "similarity ({}): grocery to its section min {:.3} p1 {:.3} p3 {:.3} p5 {:.3} median {:.3}; others to the nearest section median {:.3} p90 {:.3} p95 {:.3} max {:.3}",
            ["per section", "per class", "per photo"][usize::from(per_class)],
            real[0], q(&real, 0.01), q(&real, 0.03), q(&real, 0.05), q(&real, 0.5),
            q(&other, 0.5), q(&other, 0.9), q(&other, 0.95), other[other.len() - 1]
        );
    }
    if std::env::var_os("CATEGORY_MISSES").is_some() {
        let set = store(None, 2, app.min_foreign_probability, app.min_similarity);
        for (path, e) in &others {
            for s in &sections {
                let v = set.judge(&e.feature, &e.imagenet_top5, Some(s), Vec::new());
                if !(v.verdict == "wrong_category" || v.verdict == "irrelevant") {
                    let top = top_classes(e);
                    println!(
                        "not caught as {s}: {} {} sim {:.2} — {top:?}",
                        path.file_name().unwrap().to_string_lossy(),
                        v.verdict,
                        v.similarity
                    );
                }
            }
        }
        for (i, p) in grocery.iter().enumerate() {
            let set = store(Some(i), 2, app.min_foreign_probability, app.min_similarity);
            let e = &p.embedding;
            let v = set.judge(&e.feature, &e.imagenet_top5, Some(&p.section), Vec::new());
            if v.verdict != "match" {
                let top = top_classes(e);
                println!(
                    "grocery rejected: {}/{} {} predicted {:?} sim {:.2} — {top:?}",
                    p.section, p.class, v.verdict, v.predicted, v.similarity
                );
            }
        }
    }
}
