//! The station's device key: made here (the router only ever sees its sha256), kept in the
//! operating system's keyring (Keychain, Credential Manager, the Secret Service), one per router
//! address. There is deliberately no fallback store: a key in a file or in memory would outlive
//! or bypass the protection the keyring gives, so without a keyring the station works offline.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A secret (the device key) that never shows in `Debug` or logs; `expose` is the one way out.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its sha256 (hex), as the router keeps it.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A new device key (32 bytes from the operating system's random source, as `rd-` and 64 hex
/// digits) and its sha256 (hex), which is all the router is sent at enrolment.
pub fn new_device_key() -> (Secret, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = Secret(format!("rd-{}", hex::encode(bytes)));
    let hash = key.sha256_hex();
    (key, hash)
}

/// Why the keyring could not keep or give the device key. Each says that the station keeps
/// working offline: only the sync with the router needs the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("there is no D-Bus session bus to reach the system keyring on ({detail}): the device key cannot be kept; the station keeps working offline, and sync needs it started in a desktop session")]
    NoSessionBus { detail: String },
    #[error("no Secret Service (such as GNOME Keyring or KWallet) answers on the session bus ({detail}): install or start one to keep the device key; the station keeps working offline")]
    NoSecretService { detail: String },
    #[error("the keyring is locked, or its unlock prompt was dismissed ({detail}): unlock it to sync; the station keeps working offline")]
    Locked { detail: String },
    #[error("access to the keyring was denied ({detail}): allow the station to use it to sync; the station keeps working offline")]
    AccessDenied { detail: String },
    #[error("the system keyring failed ({detail}); the station keeps working offline")]
    Platform { detail: String },
}

/// The device keys in the OS keyring, under one service name, one entry per router address.
#[derive(Debug, Clone)]
pub struct DeviceKeys {
    service: String,
}

impl DeviceKeys {
    /// `service_name`: how the entries are labelled in the keyring (the app's identifier).
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            service: service_name.into(),
        }
    }

    /// Keeps `key` for `router_url` (the client's `url()`), replacing any earlier one.
    pub async fn store(&self, router_url: &str, key: &Secret) -> Result<(), KeyringError> {
        let key = key.clone();
        self.blocking(router_url, move |entry| entry.set_password(key.expose()))
            .await
    }

    /// The key kept for `router_url`, if any.
    pub async fn load(&self, router_url: &str) -> Result<Option<Secret>, KeyringError> {
        let found = self
            .blocking(router_url, |entry| match entry.get_password() {
                Ok(key) => Ok(Some(key)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            })
            .await?;
        Ok(found.map(Secret))
    }

    /// Forgets the key for `router_url`; whether there was one.
    pub async fn delete(&self, router_url: &str) -> Result<bool, KeyringError> {
        self.blocking(router_url, |entry| match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        })
        .await
    }

    /// Runs a keyring call on the blocking pool: each platform's API blocks (the Secret Service
    /// one drives its own D-Bus runtime), and must not hold up the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        router_url: &str,
        call: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, KeyringError> {
        let service = self.service.clone();
        let user = account(router_url);
        tokio::task::spawn_blocking(move || {
            let entry = keyring::Entry::new(&service, &user).map_err(classify)?;
            call(&entry).map_err(classify)
        })
        .await
        .map_err(|e| KeyringError::Platform {
            detail: format!("the keyring call did not finish: {e}"),
        })?
    }
}

/// Whether a keyring is running to be asked, without starting one: on Linux, whether
/// something owns `org.freedesktop.secrets` on the session bus (asking the keyring itself would
/// let D-Bus start gnome-keyring by activation, with its unlock prompt, from a session that
/// never had one). `Err`: there is no session bus to ask.
pub async fn keyring_running() -> Result<bool, KeyringError> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        bus_name_owned("org.freedesktop.secrets").await
    }
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    {
        Ok(true)
    }
}

/// Whether something owns `name` on the session bus (asked without activating anything).
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
pub async fn bus_name_owned(name: &str) -> Result<bool, KeyringError> {
    let no_bus = |e: zbus::Error| KeyringError::NoSessionBus {
        detail: e.to_string(),
    };
    let connection = zbus::Connection::session().await.map_err(no_bus)?;
    let bus = zbus::fdo::DBusProxy::new(&connection)
        .await
        .map_err(no_bus)?;
    let name = zbus::names::BusName::try_from(name).map_err(|e| no_bus(e.into()))?;
    bus.name_has_owner(name).await.map_err(|e| no_bus(e.into()))
}

/// The entry's account: the router's address, without a trailing slash (one key per router,
/// however its address was typed).
fn account(router_url: &str) -> String {
    router_url.trim().trim_end_matches('/').to_owned()
}

/// The keyring's error, as a person can act on it.
fn classify(error: keyring::Error) -> KeyringError {
    let detail = error.to_string();
    match error {
        keyring::Error::NoStorageAccess(inner) => {
            #[cfg(any(target_os = "linux", target_os = "freebsd"))]
            if let Some(ss) = inner.downcast_ref::<secret_service::Error>() {
                return secret_service_error(ss, detail);
            }
            // Keychain: locked with no way to ask ("interaction is not allowed") or the dialog
            // cancelled, else a refusal
            let text = inner.to_string().to_lowercase();
            if ["locked", "interaction is not allowed", "cancel"]
                .iter()
                .any(|w| text.contains(w))
            {
                KeyringError::Locked { detail }
            } else {
                KeyringError::AccessDenied { detail }
            }
        }
        keyring::Error::PlatformFailure(inner) => {
            #[cfg(any(target_os = "linux", target_os = "freebsd"))]
            if let Some(ss) = inner.downcast_ref::<secret_service::Error>() {
                return secret_service_error(ss, detail);
            }
            let text = inner.to_string().to_lowercase();
            if text.contains("access denied") || text.contains("access is denied") {
                KeyringError::AccessDenied { detail }
            } else {
                KeyringError::Platform { detail }
            }
        }
        keyring::Error::BadEncoding(_) => KeyringError::Platform {
            detail: "the stored device key is not text: delete it and enrol again".into(),
        },
        _ => KeyringError::Platform { detail },
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn secret_service_error(error: &secret_service::Error, detail: String) -> KeyringError {
    use secret_service::Error as Ss;
    // D-Bus error names are the protocol's own words: matched in the message, as zbus reports
    // them either as its own errors or as the bus's (`fdo`) ones
    let names = format!("{error} {error:?}");
    let said = |name: &str| names.contains(name);
    match error {
        Ss::Locked | Ss::Prompt => KeyringError::Locked { detail },
        Ss::NoResult => KeyringError::Platform {
            detail: format!(
                "{detail}: the keyring has no default collection to keep the key in (create a \"login\" keyring in the keyring app)"
            ),
        },
        // the library says this when it cannot connect to a bus at all
        Ss::Unavailable => KeyringError::NoSessionBus {
            detail: match std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
                Some(_) => format!("{detail}: DBUS_SESSION_BUS_ADDRESS names no bus that answers"),
                None => format!("{detail}: DBUS_SESSION_BUS_ADDRESS is not set"),
            },
        },
        _ if said("ServiceUnknown") || said("NameHasNoOwner") || said("ServiceNotFound") => {
            KeyringError::NoSecretService { detail }
        }
        _ if said("IsLocked") => KeyringError::Locked { detail },
        _ if said("AccessDenied") => KeyringError::AccessDenied { detail },
        _ => KeyringError::Platform { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_key_is_32_random_bytes_and_only_its_hash_leaves() {
        let (key, hash) = new_device_key();
        let hex_part = key.expose().strip_prefix("rd-").unwrap_or_default();
        assert_eq!(hex_part.len(), 64);
        assert!(hex::decode(hex_part).is_ok());
        assert_eq!(hash, hex::encode(Sha256::digest(key.expose().as_bytes())));
        assert_eq!(hash.len(), 64);
        let (other, _) = new_device_key();
        assert_ne!(key, other, "random, not fixed");
        assert_eq!(format!("{key:?}"), "Secret([redacted])");
        assert!(!format!("{:?}", Some(&key)).contains(hex_part));
    }

    #[test]
    fn one_entry_per_router_however_its_address_ends() {
        assert_eq!(account("https://r.example/base/"), "https://r.example/base");
        assert_eq!(account(" https://r.example "), "https://r.example");
    }

    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    #[test]
    fn secret_service_errors_say_what_to_do() {
        let wrap =
            |e: secret_service::Error| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) };
        let locked = classify(keyring::Error::NoStorageAccess(wrap(
            secret_service::Error::Prompt,
        )));
        assert!(matches!(locked, KeyringError::Locked { .. }), "{locked:?}");
        assert!(locked.to_string().contains("unlock prompt was dismissed"));
        let no_bus = classify(keyring::Error::PlatformFailure(wrap(
            secret_service::Error::Unavailable,
        )));
        assert!(
            matches!(no_bus, KeyringError::NoSessionBus { .. }),
            "{no_bus:?}"
        );
        for error in [locked, no_bus] {
            assert!(
                error
                    .to_string()
                    .contains("the station keeps working offline"),
                "{error}"
            );
        }
        let odd = classify(keyring::Error::BadEncoding(vec![0xff]));
        assert!(odd.to_string().contains("not text"), "{odd}");
    }
}
