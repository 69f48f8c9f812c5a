//! The stores config as the station holds it: `stores.toml` reread when it changes (an invalid
//! edit keeps the last valid stores and says why), the active store, and each store's built
//! category set (dropped whenever the file changes or a reference photo is added).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::{StoreSpec, STORES_FILE};
use crate::analysis::BuiltSet;
use crate::stores;
use crate::{CategoryInfo, Station, StationError, StoreInfo, StoresInfo};

/// Stores config as last loaded.
#[derive(Debug, Default)]
pub(crate) struct StoresState {
    pub(crate) stores: Vec<StoreSpec>,
    pub(crate) import_folder: Option<PathBuf>,
    pub(crate) error: Option<String>,
    modified: Option<SystemTime>,
    loaded_once: bool,
    pub(crate) active: Option<String>,
    /// Built category sets by store id; cleared whenever the file changes.
    pub(crate) sets: HashMap<String, Arc<BuiltSet>>,
}

impl Station {
    pub(crate) fn stores_lock(&self) -> std::sync::MutexGuard<'_, StoresState> {
        // Plain data, replaced whole on reload; a panic cannot leave it half-updated.
        self.stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn stores_path(&self) -> PathBuf {
        self.data_dir().join(STORES_FILE)
    }

    /// Drops a store's built categories, so the next verdict rebuilds them (a reference photo
    /// was added).
    pub(crate) fn forget_category_set(&self, store_id: &str) {
        self.stores_lock().sets.remove(store_id);
    }

    /// The stores as last loaded (after a refresh by the caller).
    pub(crate) fn stores_snapshot(&self) -> Vec<StoreSpec> {
        self.stores_lock().stores.clone()
    }

    /// Rereads `stores.toml` when it changed on disk. An invalid file keeps the last valid
    /// stores and reports why.
    pub(crate) fn refresh_stores(&self) {
        let path = self.stores_path();
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut state = self.stores_lock();
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
        match stores::parse_config(&text, self.data_dir()) {
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
    pub async fn stores(&self) -> StoresInfo {
        self.refresh_stores();
        let (specs, active, error, built) = {
            let state = self.stores_lock();
            (
                state.stores.clone(),
                state.active.clone(),
                state.error.clone(),
                state.sets.clone(),
            )
        };
        let import_folder = self
            .stores_lock()
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
            config_path: self.stores_path().display().to_string(),
            stores,
            active,
            error,
            import_folder,
        }
    }

    pub async fn set_active_store(&self, id: &str) -> Result<StoresInfo, StationError> {
        self.refresh_stores();
        {
            let mut state = self.stores_lock();
            if !state.stores.iter().any(|s| s.id == id) {
                return Err(StationError::InvalidRequest(format!(
                    "no store with id {id:?}"
                )));
            }
            state.active = Some(id.to_string());
        }
        Ok(self.stores().await)
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
