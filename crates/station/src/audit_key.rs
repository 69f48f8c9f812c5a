//! The audit chain's key (`store::AuditSeal`) in the OS keyring, one entry per data directory:
//! loaded when the station opens, made on the first open that has a keyring running (none is
//! started for it: no unlock prompt at start). Without one the station keeps working and says so (the log at start, every verification);
//! a database whose seals were made with a key this keyring does not hold is not re-keyed,
//! so its verification keeps saying that its seals cannot be checked here.

use std::path::Path;
use std::time::Duration;

use rand::RngCore;
use store::{AuditSeal, Store};

use crate::KEYRING_SERVICE;

/// A keyring that does not answer in this time is taken as absent (a locked keyring's prompt
/// left open must not hold the station's start).
const KEYRING_WAIT: Duration = Duration::from_secs(10);

fn entry(data_dir: &Path) -> String {
    format!("audit-key {}", data_dir.display())
}

/// The keyring's error in words that fit the audit key (the sync crate's speak of sync).
fn keyring_problem(error: ::sync::KeyringError) -> String {
    use ::sync::KeyringError as E;
    match error {
        E::NoSessionBus { detail } => format!("there is no D-Bus session bus ({detail})"),
        E::NoSecretService { detail } => format!("no Secret Service answers ({detail})"),
        E::Locked { detail } => format!("the keyring is locked ({detail})"),
        E::AccessDenied { detail } => format!("access to the keyring was denied ({detail})"),
        E::Platform { detail } => format!("the keyring failed ({detail})"),
    }
}

/// The key kept for `data_dir`, if any (`Err`: why the keyring could not be read).
pub(crate) async fn load(data_dir: &Path) -> Result<Option<AuditSeal>, String> {
    if !::sync::keyring_running().await.map_err(keyring_problem)? {
        return Err("no keyring (Secret Service) is running in this session".into());
    }
    let keys = ::sync::DeviceKeys::new(KEYRING_SERVICE);
    let found = tokio::time::timeout(KEYRING_WAIT, keys.load(&entry(data_dir)))
        .await
        .map_err(|_| format!("the keyring did not answer in {} s", KEYRING_WAIT.as_secs()))?
        .map_err(keyring_problem)?;
    found
        .map(|secret| AuditSeal::from_secret_text(secret.expose()))
        .transpose()
}

/// Sets the store's audit key: the one kept, or a new one when the keyring has none and no
/// decision was sealed yet. `Err`: why decisions are written unsealed.
pub(crate) async fn install(store: &Store, data_dir: &Path) -> Result<AuditSeal, String> {
    let seal = match load(data_dir).await? {
        Some(seal) => seal,
        None => {
            let (sealed, last) = store.seal_census().await.map_err(|e| e.to_string())?;
            if sealed > 0 {
                return Err(format!(
                    "the audit key of this data directory is not in this keyring ({sealed} decisions were sealed with it): new decisions are written unsealed and the old seals cannot be checked here"
                ));
            }
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let seal = AuditSeal::new(key, last + 1);
            let keys = ::sync::DeviceKeys::new(KEYRING_SERVICE);
            let secret = ::sync::Secret::new(seal.to_secret_text());
            tokio::time::timeout(KEYRING_WAIT, keys.store(&entry(data_dir), &secret))
                .await
                .map_err(|_| format!("the keyring did not answer in {} s", KEYRING_WAIT.as_secs()))?
                .map_err(keyring_problem)?;
            seal
        }
    };
    store.set_audit_seal(seal.clone());
    Ok(seal)
}

/// The verification's words on the seals.
pub(crate) async fn describe(store: &Store, checked: bool) -> Result<String, store::StoreError> {
    let (sealed, last) = store.seal_census().await?;
    Ok(match store.audit_seal() {
        Some(seal) if checked && last >= seal.from_id() => format!(
            "sealed with this station's audit key from decision {}: {sealed} seals and the head checked",
            seal.from_id()
        ),
        Some(seal) if checked => format!(
            "sealed with this station's audit key from decision {}: no decision since",
            seal.from_id()
        ),
        Some(seal) => format!(
            "sealed with this station's audit key from decision {}",
            seal.from_id()
        ),
        None if sealed > 0 => format!(
            "not checked: {sealed} decisions carry seals, but this station's audit key is not available here"
        ),
        None => "not sealed: the decisions were written without an audit key (no keyring)".into(),
    })
}
