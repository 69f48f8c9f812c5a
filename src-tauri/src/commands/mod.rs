//! Tauri commands, one file per feature; each forwards to one `Station` method and errors cross
//! as `{code, message}` (`protocol::ApiError`). No command takes a file path from the webview:
//! paths come from the native dialogs (`dialogs.rs`), a drop on the window, or the command
//! line, so a compromised page cannot make the app read or write a file of its choosing.

mod app;
mod dialogs;
mod documents;
mod items;
mod review;
mod sinks;
mod visits;

pub use app::*;
pub use documents::*;
pub use items::*;
pub use review::*;
pub use visits::*;
