//! The station's sync client (issue 16): what an outbox job's state becomes on each event
//! (`outbox`), when and whether a failed send is tried again (`retry`), the router's client
//! (`transport`: reqwest over rustls, the shared `protocol::station_api` types) with its errors
//! (`error`), and the device key in the OS keyring (`keys`). No tauri, no station or store: the
//! station wires these to its outbox rows.

pub mod error;
pub mod keys;
pub mod outbox;
pub mod retry;
pub mod transport;

pub use error::{ConnectFailure, SyncError};
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
pub use keys::bus_name_owned;
pub use keys::{keyring_running, new_device_key, DeviceKeys, KeyringError, Secret};
pub use transport::{AdminTable, BlobSource, RouterClient, Uploaded};
