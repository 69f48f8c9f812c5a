//! Types that cross the IPC boundary. TypeScript twins are generated into ui/src/bindings
//! (see `tests::bindings_are_current`).

use engine::{GateConfig, QualityReport, QualityVerdict};
use serde::{Deserialize, Serialize};
use store::{ItemRow, ItemSort, VerdictFilter};
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ItemQuery {
    pub verdict: VerdictFilter,
    pub sort: ItemSort,
    #[ts(type = "number")]
    pub offset: u64,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ItemPage {
    /// Items matching the filter, across all pages.
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub offset: u64,
    pub items: Vec<ItemRow>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AnalysisMeta {
    pub engine_version: String,
    pub latency_ms: f64,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ItemDetail {
    pub item: ItemRow,
    pub quality: Option<QualityReport>,
    pub analysis: Option<AnalysisMeta>,
    /// The latest category verdict, when the item was judged.
    pub category: Option<CategoryResult>,
}

/// A category verdict as recorded: against which store, by which model, on which provider.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct CategoryResult {
    pub store_id: String,
    pub store_name: String,
    pub verdict: engine::category::CategoryVerdict,
    pub latency_ms: f64,
    pub provider: String,
    pub model_version: String,
}

/// One text line: corners (top-left, top-right, bottom-right, bottom-left) in the pixels of the
/// image `OcrPage.width × height`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OcrLine {
    pub polygon: [[f32; 2]; 4],
    pub text: String,
    pub confidence: f32,
}

/// The text of a photo or of one document page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct OcrPage {
    #[ts(type = "number")]
    pub item_id: i64,
    /// 1-based; photos have one page.
    pub page: u32,
    pub page_count: u32,
    /// `ocr`, or `text_layer` when a PDF page carried its own text.
    pub source: String,
    pub width: u32,
    pub height: u32,
    pub lines: Vec<OcrLine>,
    pub latency_ms: f64,
    /// Time inside the OCR models (absent for a text layer).
    pub model_ms: Option<f64>,
    pub provider: Option<String>,
    pub model_version: Option<String>,
    pub created_at: String,
    /// True when this is a recorded result rather than a fresh run.
    #[serde(default)]
    pub cached: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub engine_version: String,
    pub data_dir: String,
    pub gate_config_path: String,
    /// Set when the thresholds file was rejected (the defaults are then in force).
    pub gate_config_error: Option<String>,
    pub gate_config: GateConfig,
    #[ts(type = "number")]
    pub max_file_bytes: u64,
    #[ts(type = "number")]
    pub max_pixels: u64,
}

/// The stored files (photos, pages) the database refers to, looked at when the app starts:
/// missing ones and ones of another size, named by an item they belong to.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DataCheck {
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub faults: u64,
    /// The first few: "first.jpg: its file is missing".
    pub examples: Vec<String>,
    /// What to do, when there is a fault.
    pub advice: Option<String>,
}

/// The local engine as installed: runtime, execution provider and every model's state.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EngineStatus {
    /// True when the runtime loaded and every model is present with its recorded hash.
    pub available: bool,
    pub engine_version: String,
    /// Execution provider sessions run on (e.g. `CPUExecutionProvider`), when loaded.
    pub provider: Option<String>,
    /// Why sessions run on the CPU although a GPU is present or was asked for.
    pub provider_note: Option<String>,
    /// Engine workers (each with its own sessions) and intra-op threads per session.
    pub workers: u32,
    pub threads_per_worker: u32,
    /// The processor and the instruction sets that pick ONNX Runtime's int8 kernels, e.g.
    /// `AMD EPYC 9R14 [avx2 avx512f avx512bw avx512vnni avxvnni; int8: VNNI]`.
    pub cpu: String,
    pub runtime_library: String,
    pub models_dir: String,
    pub models: Vec<engine::runtime::ModelStatus>,
    /// Why the engine is unavailable, in one line.
    pub error: Option<String>,
}

/// What happened to one file of an import.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileResult {
    Imported {
        #[ts(type = "number")]
        item_id: i64,
        verdict: QualityVerdict,
    },
    /// A PDF document, opened and counted; its pages are read on demand.
    Document {
        #[ts(type = "number")]
        item_id: i64,
        page_count: u32,
    },
    /// The same content is already an item.
    Duplicate {
        #[ts(type = "number")]
        item_id: i64,
    },
    /// The file could not be analyzed; `item_id` is set when it was recorded as an error item.
    Failed {
        #[ts(type = "number | null")]
        item_id: Option<i64>,
        code: protocol::ErrorCode,
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileOutcome {
    pub path: String,
    pub file_name: String,
    pub result: FileResult,
}

impl FileOutcome {
    /// The item the file became or already was, when it was recorded.
    pub fn item_id(&self) -> Option<i64> {
        match &self.result {
            FileResult::Imported { item_id, .. }
            | FileResult::Document { item_id, .. }
            | FileResult::Duplicate { item_id } => Some(*item_id),
            FileResult::Failed { item_id, .. } => *item_id,
        }
    }
}

/// Emitted once per file as an import proceeds.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportProgress {
    #[ts(type = "number")]
    pub job_id: u64,
    pub total: u32,
    pub done: u32,
    pub outcome: FileOutcome,
}

/// Emitted when an import ends, whether finished or cancelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct ImportSummary {
    #[ts(type = "number")]
    pub job_id: u64,
    pub total: u32,
    pub imported: u32,
    pub duplicates: u32,
    pub failed: u32,
    pub cancelled: bool,
}

/// Emitted when an import starts (from the dialog, a drop, or the command line).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportStarted {
    #[ts(type = "number")]
    pub job_id: u64,
    pub total: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Every IPC type, exported together with everything it references.
    fn export_all(dir: &Path) {
        // 64-bit integers cross IPC as JSON numbers (ids and counts stay far below 2^53).
        let cfg = ts_rs::Config::new()
            .with_out_dir(dir)
            .with_large_int("number");
        ItemQuery::export_all(&cfg).unwrap();
        ItemPage::export_all(&cfg).unwrap();
        ItemDetail::export_all(&cfg).unwrap();
        AppInfo::export_all(&cfg).unwrap();
        crate::updates::UpdateState::export_all(&cfg).unwrap();
        EngineStatus::export_all(&cfg).unwrap();
        OcrPage::export_all(&cfg).unwrap();
        crate::StoresInfo::export_all(&cfg).unwrap();
        ImportProgress::export_all(&cfg).unwrap();
        ImportSummary::export_all(&cfg).unwrap();
        ImportStarted::export_all(&cfg).unwrap();
        crate::DocumentResult::export_all(&cfg).unwrap();
        crate::ExtractProgress::export_all(&cfg).unwrap();
        extract::compliance::Compliance::export_all(&cfg).unwrap();
        crate::VisitInfo::export_all(&cfg).unwrap();
        crate::VisitState::export_all(&cfg).unwrap();
        crate::VisitPhotoEvent::export_all(&cfg).unwrap();
        crate::VisitFolderEvent::export_all(&cfg).unwrap();
        crate::ReportFormat::export_all(&cfg).unwrap();
        crate::ReportWritten::export_all(&cfg).unwrap();
        crate::ReportProgress::export_all(&cfg).unwrap();
        crate::backup::BackupProgress::export_all(&cfg).unwrap();
        crate::backup::BackupWritten::export_all(&cfg).unwrap();
        crate::disk::DiskStatus::export_all(&cfg).unwrap();
        DataCheck::export_all(&cfg).unwrap();
        crate::QueuePage::export_all(&cfg).unwrap();
        crate::ReviewMetrics::export_all(&cfg).unwrap();
        crate::ReviewInsights::export_all(&cfg).unwrap();
        crate::EvaluationFormat::export_all(&cfg).unwrap();
        crate::SyncStatus::export_all(&cfg).unwrap();
        crate::SyncJobPage::export_all(&cfg).unwrap();
        crate::account::AccountStatus::export_all(&cfg).unwrap();
        crate::account::LoginOutcome::export_all(&cfg).unwrap();
        crate::account::QrCode::export_all(&cfg).unwrap();
        crate::account::DashboardView::export_all(&cfg).unwrap();
        crate::account::LiveView::export_all(&cfg).unwrap();
        crate::account::RequestsView::export_all(&cfg).unwrap();
        crate::account::CsvTable::export_all(&cfg).unwrap();
        crate::account::LocalStats::export_all(&cfg).unwrap();
        protocol::export_typescript(dir).unwrap();
    }

    fn read_dir_sorted(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            std::fs::read_to_string(e.path()).unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Fails when ui/src/bindings differs from what the Rust types generate. Regenerate with
    /// `UPDATE_BINDINGS=1 cargo test -p station bindings_are_current`.
    #[test]
    fn bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
        let fresh = tempfile::tempdir().unwrap();
        export_all(fresh.path());
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            std::fs::create_dir_all(&committed).unwrap();
            for (name, text) in read_dir_sorted(fresh.path()) {
                std::fs::write(committed.join(name), text).unwrap();
            }
        }
        let expected = read_dir_sorted(fresh.path());
        let actual = read_dir_sorted(&committed);
        let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&actual), names(&expected), "binding files differ; run UPDATE_BINDINGS=1 cargo test -p station bindings_are_current");
        for ((name, a), (_, e)) in actual.iter().zip(&expected) {
            assert_eq!(a, e, "ui/src/bindings/{name} is stale; run UPDATE_BINDINGS=1 cargo test -p station bindings_are_current");
        }
    }
}
