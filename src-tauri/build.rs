//! tauri.conf.json lives at the workspace root (the repository's layout), and tauri-build reads
//! it from the current directory, so build from there. Capabilities stay beside this crate.

// Every command the UI may call (each window gets only those its capability file grants).
include!("src/commands/names.rs");

fn main() {
    let manifest_dir =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    if let Err(e) = std::env::set_current_dir(&root) {
        println!(
            "cargo::error=cannot enter the workspace root {}: {e}",
            root.display()
        );
        return;
    }
    println!(
        "cargo::rerun-if-changed={}",
        root.join("tauri.conf.json").display()
    );
    println!(
        "cargo::rerun-if-changed={}",
        manifest_dir.join("capabilities").display()
    );
    println!(
        "cargo::rerun-if-changed={}",
        manifest_dir.join("src/commands/names.rs").display()
    );
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        println!("cargo::error=tauri-build failed: {e:#}");
    }
}
