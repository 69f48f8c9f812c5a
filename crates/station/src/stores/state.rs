//! The stores service: `stores.toml` as the station holds it, reread when it changes (an
//! invalid edit keeps the last valid stores and says why), the active store, and each store's
//! built category set (dropped whenever the file changes or a reference photo is added). The
//! sets are built by the analysis service, which needs the engine; they are kept here because
//! they live and die with the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use engine::category::CategorySet;

use super::{StoreSpec, STORES_FILE};
use crate::stores;
use crate::{CategoryInfo, StationError, StoreInfo, StoresInfo};

/// A store's categories ready to judge photos, with what the UI shows of each.
#[derive(Debug)]
pub(crate) struct BuiltSet {
    pub(crate) set: CategorySet,
    pub(crate) infos: Vec<CategoryInfo>,
}

/// Stores config as last loaded.
#[derive(Debug, Default)]
struct StoresState {
    stores: Vec<StoreSpec>,
    import_folder: Option<PathBuf>,
    error: Option<String>,
    modified: Option<SystemTime>,
    loaded_once: bool,
    active: Option<String>,
    /// Built category sets by store id; cleared whenever the file changes.
    sets: HashMap<String, Arc<BuiltSet>>,
}

#[derive(Debug)]
pub struct Stores {
    data_dir: PathBuf,
    state: Mutex<StoresState>,
}

impl Stores {
    /// The stores of `data_dir`; the file is first read on use.
    pub(crate) fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            state: Mutex::new(StoresState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoresState> {
        // Plain data, replaced whole on reload; a panic cannot leave it half-updated.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn path(&self) -> PathBuf {
        self.data_dir.join(STORES_FILE)
    }

    /// Drops a store's built categories, so the next verdict rebuilds them (a reference photo
    /// was added).
    pub(crate) fn forget_category_set(&self, store_id: &str) {
        self.lock().sets.remove(store_id);
    }

    /// A store's config (the active store's when `store_id` is `None`) and its built category
    /// set when one is kept.
    pub(crate) fn with_set(
        &self,
        store_id: Option<&str>,
    ) -> Result<(StoreSpec, Option<Arc<BuiltSet>>), StationError> {
        self.refresh();
        let state = self.lock();
        let wanted = store_id
            .map(str::to_string)
            .or_else(|| state.active.clone());
        let spec = wanted
            .as_ref()
            .and_then(|a| state.stores.iter().find(|s| &s.id == a))
            .cloned()
            .ok_or(StationError::NoStore)?;
        let built = state.sets.get(&spec.id).cloned();
        Ok((spec, built))
    }

    /// Keeps a store's built category set until the file changes.
    pub(crate) fn keep_set(&self, store_id: String, built: Arc<BuiltSet>) {
        self.lock().sets.insert(store_id, built);
    }

    /// The store's config as last loaded.
    pub(crate) fn spec(&self, store_id: &str) -> Result<StoreSpec, StationError> {
        self.refresh();
        self.lock()
            .stores
            .iter()
            .find(|s| s.id == store_id)
            .cloned()
            .ok_or_else(|| {
                StationError::InvalidRequest(format!(
                    "no store with id {store_id:?} in stores.toml"
                ))
            })
    }

    /// Rereads `stores.toml` when it changed on disk. An invalid file keeps the last valid
    /// stores and reports why.
    pub(crate) fn refresh(&self) {
        let path = self.path();
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut state = self.lock();
        if state.loaded_once && state.modified == modified {
            return;
        }
        state.loaded_once = true;
        state.modified = modified;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Err(e) = std::fs::write(&path, stores::DEFAULT_STORES_TOML) {
                    tracing::warn!(path = %path.display(), error = %e, "could not write the example stores file");
                }
                stores::DEFAULT_STORES_TOML.to_string()
            }
            Err(e) => {
                state.error = Some(format!("{}: {e}", path.display()));
                return;
            }
        };
        match stores::parse_config(&text, &self.data_dir) {
            Ok(parsed) => {
                state.stores = parsed.stores;
                state.import_folder = parsed.import_folder;
                state.error = None;
                state.sets.clear();
                let still_there = state
                    .active
                    .as_ref()
                    .is_some_and(|a| state.stores.iter().any(|s| &s.id == a));
                if !still_there {
                    state.active = state.stores.first().map(|s| s.id.clone());
                }
            }
            Err(error) => {
                tracing::error!(%error, "stores config rejected; keeping the previous one");
                state.error = Some(format!("{}: {error}", path.display()));
            }
        }
    }

    /// The stores, their categories (with reference counts and problems) and the active one.
    pub async fn list(&self) -> StoresInfo {
        self.refresh();
        let (specs, active, error, built) = {
            let state = self.lock();
            (
                state.stores.clone(),
                state.active.clone(),
                state.error.clone(),
                state.sets.clone(),
            )
        };
        let import_folder = self
            .lock()
            .import_folder
            .as_ref()
            .map(|p| p.display().to_string());
        let stores = specs
            .iter()
            .map(|spec| StoreInfo {
                id: spec.id.clone(),
                name: spec.name.clone(),
                categories: built
                    .get(&spec.id)
                    .map_or_else(|| describe_categories(spec), |b| b.infos.clone()),
                shots: spec.shot.clone(),
                thresholds: spec.thresholds.unwrap_or_default(),
            })
            .collect();
        StoresInfo {
            config_path: self.path().display().to_string(),
            stores,
            active,
            error,
            import_folder,
        }
    }

    pub async fn set_active(&self, id: &str) -> Result<StoresInfo, StationError> {
        self.refresh();
        {
            let mut state = self.lock();
            if !state.stores.iter().any(|s| s.id == id) {
                return Err(StationError::InvalidRequest(format!(
                    "no store with id {id:?}"
                )));
            }
            state.active = Some(id.to_string());
        }
        Ok(self.list().await)
    }
}

/// Categories as configured, before their photos are embedded.
fn describe_categories(spec: &StoreSpec) -> Vec<CategoryInfo> {
    spec.category
        .iter()
        .map(|category| {
            let (count, problem) = match &category.references {
                Some(dir) => match stores::reference_photos(dir) {
                    Ok(photos) => (u32::try_from(photos.len()).unwrap_or(u32::MAX), None),
                    Err(error) => (0, Some(error)),
                },
                None => (0, None),
            };
            CategoryInfo {
                name: category.name.clone(),
                references_dir: category
                    .references
                    .as_ref()
                    .map(|d| d.display().to_string()),
                reference_count: count,
                imagenet: category.imagenet.clone(),
                problem,
            }
        })
        .collect()
}
