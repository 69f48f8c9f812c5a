//! tauri.conf.json lives at the workspace root (the repository's layout), and tauri-build reads
//! it from the current directory, so build from there. Capabilities stay beside this crate.

/// Every command the UI may call. Each window gets only those its capability file grants.
const COMMANDS: &[&str] = &[
    "ui_ready",
    "app_info",
    "engine_status",
    "list_items",
    "get_item",
    "pick_and_import",
    "cancel_import",
    "session",
    "sign_in",
    "sign_out",
    "list_stores",
    "set_active_store",
    "judge_category",
    "new_job",
    "read_text",
    "extract_document",
    "latest_document",
    "compliance",
    "current_visit",
    "start_visit",
    "end_visit",
    "visit_state",
    "pick_visit_photos",
    "export_visit_report",
    "review_queue",
    "claim_next",
    "release_task",
    "renew_leases",
    "decide",
    "undo_decision",
    "verify_audit",
    "review_metrics",
    "review_insights",
    "export_evaluation",
];

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
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        println!("cargo::error=tauri-build failed: {e:#}");
    }
}
