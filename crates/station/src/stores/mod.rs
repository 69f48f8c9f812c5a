//! Per-store configuration (`stores.toml` in the data directory): each store's categories for
//! the category gate, each defined by a folder of reference photos and/or ImageNet classes.

mod state;

pub(crate) use state::BuiltSet;
pub use state::Stores;

use std::path::{Path, PathBuf};

use engine::category::CategoryThresholds;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub const STORES_FILE: &str = "stores.toml";

/// Written on first start so the file documents itself.
pub const DEFAULT_STORES_TOML: &str = include_str!("../../../../config/stores.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoresFile {
    /// The folder a phone or camera syncs its photos to, watched during visits.
    #[serde(default)]
    import_folder: Option<PathBuf>,
    #[serde(default)]
    store: Vec<StoreSpec>,
}

/// A parsed stores file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoresConfig {
    pub stores: Vec<StoreSpec>,
    /// Absolute (relative paths are taken from the data directory).
    pub import_folder: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub thresholds: Option<CategoryThresholds>,
    #[serde(default)]
    pub category: Vec<CategorySpec>,
    /// The shots an auditor must take on a visit.
    #[serde(default)]
    pub shot: Vec<ShotSpec>,
    /// A reviewer's category correction adds the photo to that category's reference folder.
    #[serde(default)]
    pub learn_from_reviews: bool,
}

/// A required shot of a store visit: `count` photos of `category` that pass the gates.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ShotSpec {
    pub name: String,
    pub category: String,
    #[serde(default = "one")]
    pub count: u32,
    /// Rules checked by the cloud LLM (`"price tags are visible on every shelf"`); offline
    /// they are kept as pending checks.
    #[serde(default)]
    pub rules: Vec<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    pub name: String,
    /// Folder of reference photos; relative paths are taken from the data directory.
    pub references: Option<PathBuf>,
    /// ImageNet class names that also mean this category (appliances: "refrigerator", …).
    #[serde(default)]
    pub imagenet: Vec<String>,
}

/// A category as the UI sees it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct CategoryInfo {
    pub name: String,
    pub references_dir: Option<String>,
    pub reference_count: u32,
    pub imagenet: Vec<String>,
    /// Why this category cannot be used (missing folder, no photos, unknown class).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct StoreInfo {
    pub id: String,
    pub name: String,
    pub categories: Vec<CategoryInfo>,
    pub shots: Vec<ShotSpec>,
    pub thresholds: CategoryThresholds,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct StoresInfo {
    pub config_path: String,
    pub stores: Vec<StoreInfo>,
    /// The store whose categories judge photos.
    pub active: Option<String>,
    /// Set when the file was rejected; the stores then come from the last valid file, if any.
    pub error: Option<String>,
    /// The folder visits watch unless the auditor picks another.
    pub import_folder: Option<String>,
}

/// Photos a reference folder may hold.
const REFERENCE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];
/// Reference photos per category: each is compared with on its own (the nearest reference
/// decides), so a category of many kinds (Fruit: apples, lemons, melons…) wants a few photos of
/// each — 8 per kind suffice (BENCHMARKS.md, "Category gate"). More only slow the first build.
pub const MAX_REFERENCES: usize = 256;

/// Parses and checks a stores file. Folders are resolved against `data_dir`.
pub fn parse(text: &str, data_dir: &Path) -> Result<Vec<StoreSpec>, String> {
    parse_config(text, data_dir).map(|c| c.stores)
}

/// Parses and checks a stores file, with its import folder.
pub fn parse_config(text: &str, data_dir: &Path) -> Result<StoresConfig, String> {
    let file: StoresFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let import_folder = file.import_folder.clone().map(|dir| {
        if dir.is_relative() {
            data_dir.join(dir)
        } else {
            dir
        }
    });
    let mut ids = std::collections::HashSet::new();
    for store in &file.store {
        if store.id.trim().is_empty() {
            return Err("a store has an empty id".into());
        }
        if !ids.insert(store.id.clone()) {
            return Err(format!("store id {:?} appears twice", store.id));
        }
        let mut names = std::collections::HashSet::new();
        for category in &store.category {
            if category.name.trim().is_empty() {
                return Err(format!(
                    "store {:?} has a category with an empty name",
                    store.id
                ));
            }
            if !names.insert(category.name.clone()) {
                return Err(format!(
                    "store {:?}: category {:?} appears twice",
                    store.id, category.name
                ));
            }
            if category.references.is_none() && category.imagenet.is_empty() {
                return Err(format!(
                    "store {:?}: category {:?} needs `references` (a folder of photos) or `imagenet` classes",
                    store.id, category.name
                ));
            }
            for class in &category.imagenet {
                if let Err(nearest) = engine::category::imagenet_class(class) {
                    return Err(format!(
                        "store {:?}: category {:?}: {class:?} is not one of the model's ImageNet classes (nearest: {})",
                        store.id,
                        category.name,
                        nearest
                            .iter()
                            .map(|n| format!("{n:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        let mut shots = std::collections::HashSet::new();
        for shot in &store.shot {
            if !shots.insert(shot.name.clone()) {
                return Err(format!(
                    "store {:?}: shot {:?} appears twice",
                    store.id, shot.name
                ));
            }
            if !names.contains(&shot.category) {
                return Err(format!(
                    "store {:?}: shot {:?} needs category {:?}, which the store does not define",
                    store.id, shot.name, shot.category
                ));
            }
            if !(1..=100).contains(&shot.count) {
                return Err(format!(
                    "store {:?}: shot {:?} count must be 1–100",
                    store.id, shot.name
                ));
            }
        }
        if let Some(t) = &store.thresholds {
            if !(-1.0..=1.0).contains(&t.min_similarity) || !(0.0..=2.0).contains(&t.min_margin) {
                return Err(format!(
                    "store {:?}: thresholds out of range (min_similarity −1…1, min_margin 0…2)",
                    store.id
                ));
            }
        }
    }
    let stores = file
        .store
        .into_iter()
        .map(|mut store| {
            for category in &mut store.category {
                if let Some(dir) = &category.references {
                    if dir.is_relative() {
                        category.references = Some(data_dir.join(dir));
                    }
                }
            }
            store
        })
        .collect();
    Ok(StoresConfig {
        stores,
        import_folder,
    })
}

/// The photos of a reference folder and of its subfolders one level down (one per kind of
/// product, if the user sorts them so), sorted, at most [`MAX_REFERENCES`]. Links and deeper
/// folders are not followed.
pub fn reference_photos(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let listed = |d: &Path| -> Result<Vec<PathBuf>, String> {
        let entries = std::fs::read_dir(d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(entries.filter_map(Result::ok).map(|e| e.path()).collect())
    };
    let is_photo = |p: &Path| {
        p.is_file()
            && !p.is_symlink()
            && p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| REFERENCE_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
    };
    let mut photos = Vec::new();
    for entry in listed(dir)? {
        if entry.is_dir() && !entry.is_symlink() {
            photos.extend(listed(&entry)?.into_iter().filter(|p| is_photo(p)));
        } else if is_photo(&entry) {
            photos.push(entry);
        }
    }
    photos.sort();
    photos.truncate(MAX_REFERENCES);
    if photos.is_empty() {
        return Err(format!(
            "{} holds no JPEG, PNG or WebP photos",
            dir.display()
        ));
    }
    Ok(photos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_photos_come_from_the_folder_and_its_subfolders_not_links_or_deeper() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let touch = |p: &Path| {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        };
        touch(&root.join("a.jpg"));
        touch(&root.join("notes.txt"));
        touch(&root.join("apples/1.JPG"));
        touch(&root.join("lemons/1.webp"));
        touch(&root.join("lemons/deeper/2.jpg"));
        std::os::unix::fs::symlink(root.join("a.jpg"), root.join("link.jpg")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        touch(&outside.path().join("elsewhere.jpg"));
        std::os::unix::fs::symlink(outside.path(), root.join("linked-folder")).unwrap();
        let found: Vec<String> = reference_photos(root)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(found, ["a.jpg", "apples/1.JPG", "lemons/1.webp"]);
        let empty = tempfile::tempdir().unwrap();
        assert!(reference_photos(empty.path())
            .unwrap_err()
            .contains("holds no JPEG"));
    }

    #[test]
    fn the_shipped_example_parses() {
        let stores = parse(DEFAULT_STORES_TOML, Path::new("/data")).unwrap();
        assert!(stores.is_empty() || stores.iter().all(|s| !s.category.is_empty()));
        // and so does the store it shows in comments, once uncommented
        let example: String = DEFAULT_STORES_TOML
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.starts_with('[')
                    || l.split_once(" = ").is_some_and(|(key, _)| {
                        key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    })
            })
            .filter(|l| !l.starts_with("import_folder"))
            .map(|l| format!("{l}\n"))
            .collect();
        let stores = parse(&example, Path::new("/data")).unwrap();
        assert_eq!(stores[0].category.len(), 3, "{example}");
        assert_eq!(stores[0].shot.len(), 2, "{example}");
    }

    #[test]
    fn a_class_the_model_does_not_know_is_refused_with_the_nearest_names() {
        let config = |class: &str| {
            format!("[[store]]\nid='a'\nname='A'\n[[store.category]]\nname='Appliances'\nimagenet=['television', '{class}']\n")
        };
        let data = Path::new("/data");
        let error = parse(&config("microwave"), data).unwrap_err();
        assert!(
            error.contains("\"microwave\" is not one of the model's ImageNet classes")
                && error.contains("\"microwave oven\""),
            "{error}"
        );
        let error = parse(&config("washer"), data).unwrap_err();
        assert!(error.contains("\"washing machine\""), "{error}");
        // any case is the same class
        assert!(parse(&config("Washing Machine"), data).is_ok());
    }

    #[test]
    fn invalid_files_are_rejected_with_the_reason() {
        let data = Path::new("/data");
        let dup = "[[store]]\nid='a'\nname='A'\n[[store]]\nid='a'\nname='B'\n";
        assert!(parse(dup, data).unwrap_err().contains("appears twice"));
        let empty_cat = "[[store]]\nid='a'\nname='A'\n[[store.category]]\nname='Fruit'\n";
        assert!(parse(empty_cat, data)
            .unwrap_err()
            .contains("needs `references`"));
        let shot = "[[store]]\nid='a'\nname='A'\n[[store.category]]\nname='Fruit'\nimagenet=['banana']\n[[store.shot]]\nname='Dairy wall'\ncategory='Dairy'\n";
        assert!(parse(shot, data)
            .unwrap_err()
            .contains("needs category \"Dairy\""));
        let shot = shot.replace("'Dairy'", "'Fruit'");
        assert_eq!(parse(&shot, data).unwrap()[0].shot[0].count, 1);
        let unknown = "[[store]]\nid='a'\nname='A'\ncolour='red'\n";
        assert!(parse(unknown, data).unwrap_err().contains("colour"));
        assert!(parse("[[store]", data).is_err());
        let ok = "[[store]]\nid='a'\nname='A'\n[[store.category]]\nname='Fruit'\nreferences='refs/fruit'\n";
        let stores = parse(ok, data).unwrap();
        assert_eq!(
            stores[0].category[0].references.as_deref(),
            Some(Path::new("/data/refs/fruit"))
        );
    }
}
