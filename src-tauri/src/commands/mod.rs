//! Tauri commands, one file per feature; each forwards to one method of a station service
//! (`station.review().decide(…)`) or of the station itself, and errors cross as
//! `{code, message}` (`protocol::ApiError`). No command takes a file path from the webview:
//! paths come from the native dialogs (`dialogs.rs`), a drop on the window, or the command
//! line, so a compromised page cannot make the app read or write a file of its choosing.

mod account;
mod app;
mod dialogs;
mod documents;
mod items;
mod review;
mod sinks;
mod sync;
mod updates;
mod visits;

pub use account::*;
pub use app::*;
pub use documents::*;
pub use items::*;
pub use review::*;
pub use sync::*;
pub use updates::*;
pub use visits::*;

#[cfg(test)]
mod tests {
    include!("names.rs");

    /// The IPC commands as TypeScript: the union `api.ts` calls through, so a renamed or removed
    /// command fails the UI's type check.
    pub fn typescript_commands() -> String {
        let names: Vec<String> = COMMANDS.iter().map(|c| format!("  | \"{c}\"")).collect();
        format!(
            "// Generated from src-tauri/src/commands/names.rs; do not edit.\nexport type Command =\n{};\n",
            names.join("\n")
        )
    }

    /// Fails when ui/src/commands.ts differs from the command list; regenerate with
    /// `UPDATE_BINDINGS=1 cargo test --workspace --bins commands_are_current`.
    #[test]
    fn commands_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/commands.ts");
        let fresh = typescript_commands();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            fresh,
            "ui/src/commands.ts is stale: UPDATE_BINDINGS=1 cargo test --workspace --bins commands_are_current"
        );
    }

    /// Every listed command is registered with the handler, and nothing else is.
    #[test]
    fn the_handler_registers_exactly_the_listed_commands() {
        let main = include_str!("../main.rs");
        let registered: Vec<&str> = main
            .lines()
            .filter_map(|l| l.trim().strip_prefix("commands::"))
            .filter_map(|l| l.strip_suffix(','))
            .collect();
        let mut listed: Vec<&str> = COMMANDS.to_vec();
        let mut registered = registered;
        listed.sort_unstable();
        registered.sort_unstable();
        assert_eq!(registered, listed);
    }
}
