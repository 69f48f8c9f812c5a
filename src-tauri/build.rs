// Every command the UI may call (each window gets only those its capability file grants).
include!("src/commands/names.rs");

fn main() {
    println!("cargo::rerun-if-changed=capabilities");
    println!("cargo::rerun-if-changed=src/commands/names.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        println!("cargo::error=tauri-build failed: {e:#}");
    }
}
