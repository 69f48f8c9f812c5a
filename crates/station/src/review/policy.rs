//! Routing policies per store, read from `policies/<store id>.toml` and cached by the file's
//! modification time; an invalid edit keeps the policy in force and says why.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use ::review::Policy;
use protocol::PolicyChanged;

use super::Review;
use super::POLICIES_DIR;
use crate::StationError;

#[derive(Debug, Default)]
pub(crate) struct PolicyCache {
    /// By store id: the policy in force, the file's modification time, the last error.
    loaded: HashMap<String, (Policy, Option<SystemTime>, Option<String>)>,
}

impl Review {
    fn policy_path(&self, store_id: &str) -> Result<PathBuf, StationError> {
        // store ids come from stores.toml; never let one name a path outside the folder
        if store_id.is_empty()
            || !store_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            || store_id.starts_with('.')
        {
            return Err(StationError::InvalidRequest(format!(
                "store id {store_id:?} cannot name a policy file"
            )));
        }
        Ok(self
            .core
            .data_dir()
            .join(POLICIES_DIR)
            .join(format!("{store_id}.toml")))
    }

    /// The store's routing policy (defaults when it has no file), reread when the file
    /// changed; an invalid file keeps the previous policy and the error is returned beside it.
    pub fn policy(&self, store_id: &str) -> Result<(Policy, Option<String>), StationError> {
        let path = self.policy_path(store_id)?;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut cache = self
            .policies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((policy, seen, error)) = cache.loaded.get(store_id) {
            if *seen == modified {
                return Ok((policy.clone(), error.clone()));
            }
        }
        let previous = cache.loaded.get(store_id).map(|(p, ..)| p.clone());
        let (policy, error) = match std::fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Policy::default(), None),
            Err(e) => (
                previous.unwrap_or_default(),
                Some(format!("{}: {e}", path.display())),
            ),
            Ok(text) => match Policy::from_toml(&text) {
                Ok(policy) => (policy, None),
                Err(e) => {
                    tracing::error!(store = store_id, error = %e, "routing policy rejected; keeping the previous one");
                    (
                        previous.unwrap_or_default(),
                        Some(format!("{}: {e}", path.display())),
                    )
                }
            },
        };
        cache.loaded.insert(
            store_id.to_string(),
            (policy.clone(), modified, error.clone()),
        );
        Ok((policy, error))
    }

    /// Every policy file that is invalid now, with why (read through the cache, so a file
    /// that was already broken when the station started is reported too).
    pub fn policy_errors(&self) -> Vec<PolicyChanged> {
        let Ok(entries) = std::fs::read_dir(self.core.data_dir().join(POLICIES_DIR)) else {
            return Vec::new();
        };
        let mut errors: Vec<PolicyChanged> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "toml") {
                    return None;
                }
                let store_id = path.file_stem()?.to_str()?.to_string();
                let error = match self.policy(&store_id) {
                    Ok((_, error)) => error?,
                    Err(e) => e.to_string(),
                };
                Some(PolicyChanged {
                    store_id,
                    error: Some(error),
                })
            })
            .collect();
        errors.sort_by(|a, b| a.store_id.cmp(&b.store_id));
        errors
    }
}
