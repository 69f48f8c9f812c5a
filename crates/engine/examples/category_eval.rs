//! Category gate accuracy on a folder laid out as `<Section>/<Coarse class>/[<Fine class>/]*.jpg`
//! (../shared/datasets/grocery-dev/train): leave-one-out with at most 8 reference photos per
//! coarse class. Prints section-level and coarse-class accuracy, the section confusion matrix,
//! the most frequent coarse confusions, and the time per embedding.
//!
//! With `NOTHING_DIR` (photos of nothing: blank walls, floors, lens caps) it also prints how
//! similar real photos and photos of nothing are to the nearest section prototype, which is
//! what the `irrelevant` threshold (`min_similarity`) is chosen from.
//!
//! `cargo run --release -p engine --example category_eval -- DIR [MAX_REFS] [NOTHING_DIR]`

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use engine::category::{nearest, prototype, CategoryModel, Embedding};
use engine::runtime::{default_models_dir, Runtime};
use engine::IntakeLimits;

struct Photo {
    section: String,
    coarse: String,
    feature: Vec<f32>,
}

fn photos(dir: &Path) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jpg") {
                let rel: Vec<String> = p
                    .strip_prefix(dir)
                    .unwrap()
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                if rel.len() >= 3 {
                    out.push((rel[0].clone(), rel[1].clone(), p));
                }
            }
        }
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    out
}

/// The photo's embedding; a file that cannot be read or decoded is reported and left out, the
/// rest of the batch goes on.
fn embed_or_report(model: &mut CategoryModel, path: &Path) -> Option<Embedding> {
    let embedded = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            model
                .embed(&bytes, &IntakeLimits::default())
                .map_err(|e| e.to_string())
        });
    embedded
        .map_err(|e| eprintln!("{}: {e} (left out)", path.display()))
        .ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: category_eval DIR [MAX_REFS]"));
    let max_refs: usize = args.next().map_or(8, |a| a.parse().unwrap());
    let nothing_dir = args.next().map(PathBuf::from);
    let models = default_models_dir();
    let runtime = Runtime::shared(&models).unwrap();
    let mut model = CategoryModel::open(
        &runtime,
        &models.join("category/efficientnet_lite0.onnx"),
        1,
    )
    .unwrap();
    let listed = photos(&dir);
    let started = Instant::now();
    // a file that cannot be read or decoded is reported and left out, the rest goes on
    let data: Vec<Photo> = listed
        .iter()
        .filter_map(|(section, coarse, path)| {
            embed_or_report(&mut model, path).map(|e| Photo {
                section: section.clone(),
                coarse: coarse.clone(),
                feature: e.feature,
            })
        })
        .collect();
    let per_photo = started.elapsed().as_secs_f64() * 1000.0 / data.len() as f64;

    let classes: Vec<String> = {
        let mut c: Vec<String> = data.iter().map(|p| p.coarse.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let section_of: BTreeMap<&str, &str> = data
        .iter()
        .map(|p| (p.coarse.as_str(), p.section.as_str()))
        .collect();
    let sections: Vec<&str> = {
        let mut s: Vec<&str> = section_of.values().copied().collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let (mut coarse_right, mut section_right) = (0, 0);
    let mut confusion = vec![vec![0usize; sections.len()]; sections.len()];
    let mut coarse_confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut margins = Vec::new();
    for (i, photo) in data.iter().enumerate() {
        // Leave-one-out: prototypes from up to `max_refs` other photos of each class.
        let prototypes: Vec<Vec<f32>> = classes
            .iter()
            .map(|class| {
                prototype(
                    data.iter()
                        .enumerate()
                        .filter(|(j, p)| *j != i && &p.coarse == class)
                        .take(max_refs)
                        .map(|(_, p)| p.feature.as_slice()),
                )
            })
            .collect();
        let (best, _similarity, margin) = nearest(&photo.feature, &prototypes).unwrap();
        margins.push(margin);
        let predicted = &classes[best];
        let predicted_section = section_of[predicted.as_str()];
        if predicted == &photo.coarse {
            coarse_right += 1;
        } else {
            *coarse_confusions
                .entry((photo.coarse.clone(), predicted.clone()))
                .or_default() += 1;
        }
        if predicted_section == photo.section {
            section_right += 1;
        }
        let a = sections.iter().position(|s| *s == photo.section).unwrap();
        let b = sections
            .iter()
            .position(|s| *s == predicted_section)
            .unwrap();
        confusion[a][b] += 1;
    }
    let n = data.len() as f64;
    println!("Category gate, leave-one-out, ≤ {max_refs} reference photos per class, {} photos, {} coarse classes", data.len(), classes.len());
    println!(
        "section accuracy      {:.3} ({section_right}/{})",
        f64::from(section_right) / n,
        data.len()
    );
    println!(
        "coarse-class accuracy {:.3} ({coarse_right}/{})",
        f64::from(coarse_right) / n,
        data.len()
    );
    println!("embedding: {per_photo:.1} ms per photo (decode + resize + network, 1 thread)");
    println!("\nsection confusion (rows: truth, columns: predicted)");
    print!("{:<12}", "");
    for s in &sections {
        print!("{s:>12}");
    }
    println!();
    for (a, row) in confusion.iter().enumerate() {
        print!("{:<12}", sections[a]);
        for v in row {
            print!("{v:>12}");
        }
        println!();
    }
    if let Some(nothing_dir) = nothing_dir {
        // Section prototypes as a store would define them: ≤ max_refs photos per section.
        let section_prototype = |section: &str, skip: Option<usize>| {
            prototype(
                data.iter()
                    .enumerate()
                    .filter(|(j, p)| Some(*j) != skip && p.section == section)
                    .take(max_refs)
                    .map(|(_, p)| p.feature.as_slice()),
            )
        };
        let best = |feature: &[f32], skip: Option<usize>| {
            let protos: Vec<Vec<f32>> = sections
                .iter()
                .map(|s| section_prototype(s, skip))
                .collect();
            nearest(feature, &protos).unwrap().1
        };
        let mut real: Vec<f32> = data
            .iter()
            .enumerate()
            .map(|(i, p)| best(&p.feature, Some(i)))
            .collect();
        let mut nothing: Vec<f32> = std::fs::read_dir(&nothing_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
            .filter_map(|p| embed_or_report(&mut model, &p))
            .map(|e| best(&e.feature, None))
            .collect();
        real.sort_by(f32::total_cmp);
        nothing.sort_by(f32::total_cmp);
        let pct = |v: &[f32], q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        println!("\nsimilarity to the nearest section prototype (≤ {max_refs} refs per section)");
        println!(
            "  real photos ({}): min {:.3}  p1 {:.3}  p5 {:.3}  median {:.3}",
            real.len(),
            real[0],
            pct(&real, 0.01),
            pct(&real, 0.05),
            pct(&real, 0.5)
        );
        println!(
            "  nothing ({}):     median {:.3}  p95 {:.3}  p99 {:.3}  max {:.3}",
            nothing.len(),
            pct(&nothing, 0.5),
            pct(&nothing, 0.95),
            pct(&nothing, 0.99),
            nothing[nothing.len() - 1]
        );
        for threshold in [0.20f32, 0.25, 0.30, 0.35, 0.40, 0.45] {
            let rejected_real = real.iter().filter(|&&s| s < threshold).count();
            let caught = nothing.iter().filter(|&&s| s < threshold).count();
            println!(
                "  min_similarity {threshold:.2}: real photos called irrelevant {rejected_real}/{}, nothing caught {caught}/{}",
                real.len(), nothing.len()
            );
        }
    }
    let mut top: Vec<_> = coarse_confusions.into_iter().collect();
    top.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    println!("\nmost frequent coarse confusions (truth → predicted: count)");
    for ((truth, predicted), count) in top.iter().take(10) {
        println!("  {truth} → {predicted}: {count}");
    }
}
