//! Import jobs: expand the offered paths, then analyze and record each file on a pool of
//! blocking workers, reporting every file as it completes. One bad file never stops a batch.

use protocol::ErrorCode;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use engine::{IntakeError, IntakeLimits, QualityReport};
use futures_util::stream::{self, StreamExt};
use store::{ItemStatus, NewAnalysis, NewItem, Recorded, Sha256Hex};

use crate::{
    FileOutcome, FileResult, ImportProgress, ImportStarted, ImportSummary, Station, StationError,
    PDF_INTAKE, QUALITY_GATE,
};

/// Receives import events; implemented by the Tauri shell (window events) and by tests.
pub trait ImportSink: Send + Sync {
    fn started(&self, event: &ImportStarted);
    fn progress(&self, event: &ImportProgress);
    fn finished(&self, event: &ImportSummary);
}

/// Extensions taken from folders (photos and PDF documents). Files named explicitly are always tried, whatever their name,
/// so that a wrong file gets a specific error instead of silence.
const PHOTO_EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "webp", "pdf"];

/// Turns files and folders into the list of files to import (folders recursively, photos only,
/// sorted for a predictable order). Duplicated paths are kept once.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(false)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .filter(|p| {
                    p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                        PHOTO_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str())
                    })
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|p| seen.insert(p.clone()));
    files
}

/// The CPU- and disk-bound half of importing one file, run on a blocking worker.
enum Examined {
    /// Could not be read at all; nothing to record.
    Unreadable {
        code: ErrorCode,
        message: String,
    },
    /// Refused from its size alone, before reading.
    TooLarge {
        byte_len: u64,
        error: IntakeError,
    },
    Read {
        sha: Sha256Hex,
        byte_len: u64,
        analysis: Result<QualityReport, IntakeError>,
        latency_ms: f64,
    },
    Duplicate {
        item_id: i64,
    },
    /// A PDF: its page count, or why it cannot be used.
    Document {
        sha: Sha256Hex,
        byte_len: u64,
        inspected: Result<engine::pdf::PdfInfo, engine::pdf::PdfError>,
        latency_ms: f64,
    },
}

impl Station {
    /// Runs an import job to completion (or cancellation). The job must come from
    /// [`Station::new_job`]; it is unregistered when this returns.
    pub async fn run_import(
        self: &Arc<Self>,
        job_id: u64,
        paths: Vec<PathBuf>,
        sink: Arc<dyn ImportSink>,
    ) -> ImportSummary {
        let token = self.jobs_lock().get(&job_id).cloned().unwrap_or_default();
        let files = tokio::task::spawn_blocking(move || expand_paths(&paths))
            .await
            .unwrap_or_default();
        let total = u32::try_from(files.len()).unwrap_or(u32::MAX);
        sink.started(&ImportStarted { job_id, total });
        let mut summary = ImportSummary {
            job_id,
            total,
            ..ImportSummary::default()
        };
        let workers = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        let mut outcomes = stream::iter(files)
            .map(|path| {
                let station = Arc::clone(self);
                let token = token.clone();
                async move {
                    if token.is_cancelled() {
                        return None;
                    }
                    Some(station.import_one(&path).await)
                }
            })
            .buffer_unordered(workers);
        let mut done = 0u32;
        while let Some(outcome) = outcomes.next().await {
            let Some(outcome) = outcome else { continue };
            done += 1;
            match &outcome.result {
                FileResult::Imported { .. } | FileResult::Document { .. } => summary.imported += 1,
                FileResult::Duplicate { .. } => summary.duplicates += 1,
                FileResult::Failed { .. } => summary.failed += 1,
            }
            sink.progress(&ImportProgress {
                job_id,
                total,
                done,
                outcome,
            });
        }
        summary.cancelled = token.is_cancelled() && done < total;
        self.finish_job(job_id);
        tracing::info!(?summary, "import finished");
        sink.finished(&summary);
        summary
    }

    /// Imports one file; every failure becomes a `Failed` outcome with a specific code.
    pub async fn import_one(&self, path: &Path) -> FileOutcome {
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let result = match self.examine_and_record(path, &file_name).await {
            Ok(result) => result,
            Err(error) => {
                tracing::error!(path = %path.display(), %error, "import failed");
                FileResult::Failed {
                    item_id: None,
                    code: error.code(),
                    message: error.to_string(),
                }
            }
        };
        FileOutcome {
            path: path.display().to_string(),
            file_name,
            result,
        }
    }

    async fn examine_and_record(
        &self,
        path: &Path,
        file_name: &str,
    ) -> Result<FileResult, StationError> {
        let owned_path = path.to_path_buf();
        let limits = self.limits;
        let config = self.gate_config();
        let store = self.store.clone();
        let pdf_library = self.models_dir.join("runtime/libpdfium.so");
        let examined = tokio::task::spawn_blocking(move || {
            examine(&owned_path, &limits, &config, &store, &pdf_library)
        })
        .await?;
        let source_path = path.display().to_string();
        let base = |byte_len: u64| NewItem {
            blob: None,
            media_type: None,
            file_name: file_name.to_string(),
            source_path: source_path.clone(),
            byte_len,
            status: ItemStatus::Error,
            verdict: None,
            error_code: None,
            error_message: None,
            format: None,
            width: None,
            height: None,
            kind: "photo".into(),
            page_count: None,
        };
        match examined {
            Examined::Unreadable { code, message } => Ok(FileResult::Failed {
                item_id: None,
                code,
                message,
            }),
            Examined::Duplicate { item_id } => Ok(FileResult::Duplicate { item_id }),
            Examined::Document {
                sha,
                byte_len,
                inspected,
                latency_ms,
            } => {
                let document = NewItem {
                    blob: Some(sha),
                    media_type: Some("application/pdf".into()),
                    format: Some("pdf".into()),
                    kind: "document".into(),
                    ..base(byte_len)
                };
                let (item, summary) = match &inspected {
                    Ok(info) => (
                        NewItem {
                            status: ItemStatus::Analyzed,
                            page_count: Some(info.page_count),
                            // First page at the viewer's page size, for the list's thumbnail box.
                            width: Some((info.width_pt * 150.0 / 72.0).round() as u32),
                            height: Some((info.height_pt * 150.0 / 72.0).round() as u32),
                            ..document
                        },
                        serde_json::json!({ "page_count": info.page_count, "width_pt": info.width_pt, "height_pt": info.height_pt }),
                    ),
                    Err(error) => (
                        NewItem {
                            error_code: Some(error.code().as_str().into()),
                            error_message: Some(error.to_string()),
                            ..document
                        },
                        serde_json::json!({ "error": { "code": error.code(), "message": error.to_string() } }),
                    ),
                };
                let row = NewAnalysis {
                    analyzer: PDF_INTAKE.into(),
                    engine_version: engine::ENGINE_VERSION.into(),
                    verdict: None,
                    result_json: summary.to_string(),
                    latency_ms,
                    ..NewAnalysis::default()
                };
                match (self.store.record_item(&item, Some(&row)).await?, inspected) {
                    (Recorded::Duplicate(item_id), _) => Ok(FileResult::Duplicate { item_id }),
                    (Recorded::New(item_id), Ok(info)) => Ok(FileResult::Document {
                        item_id,
                        page_count: info.page_count,
                    }),
                    (Recorded::New(item_id), Err(error)) => Ok(FileResult::Failed {
                        item_id: Some(item_id),
                        code: error.code(),
                        message: error.to_string(),
                    }),
                }
            }
            Examined::TooLarge { byte_len, error } => {
                if let Some(item_id) = self.store.find_unread_item(&source_path, byte_len).await? {
                    return Ok(FileResult::Duplicate { item_id });
                }
                let item = NewItem {
                    error_code: Some(error.code().as_str().into()),
                    error_message: Some(error.to_string()),
                    ..base(byte_len)
                };
                let item_id = recorded_id(self.store.record_item(&item, None).await?);
                Ok(FileResult::Failed {
                    item_id: Some(item_id),
                    code: error.code(),
                    message: error.to_string(),
                })
            }
            Examined::Read {
                sha,
                byte_len,
                analysis,
                latency_ms,
            } => {
                let (item, row, result) = match analysis {
                    Ok(report) => {
                        let verdict = report.verdict;
                        let verdict_text = verdict_str(verdict);
                        let item = NewItem {
                            blob: Some(sha),
                            media_type: Some(report.format.media_type().into()),
                            status: ItemStatus::Analyzed,
                            verdict: Some(verdict_text.into()),
                            format: Some(format!("{:?}", report.format).to_lowercase()),
                            width: Some(report.width),
                            height: Some(report.height),
                            ..base(byte_len)
                        };
                        let row = NewAnalysis {
                            analyzer: QUALITY_GATE.into(),
                            engine_version: engine::ENGINE_VERSION.into(),
                            verdict: Some(verdict_text.into()),
                            result_json: serde_json::to_string(&report).unwrap_or_default(),
                            latency_ms,
                            ..NewAnalysis::default()
                        };
                        (item, row, Ok(verdict))
                    }
                    Err(error) => {
                        let item = NewItem {
                            blob: Some(sha),
                            error_code: Some(error.code().as_str().into()),
                            error_message: Some(error.to_string()),
                            ..base(byte_len)
                        };
                        let row = NewAnalysis {
                            analyzer: QUALITY_GATE.into(),
                            engine_version: engine::ENGINE_VERSION.into(),
                            verdict: None,
                            result_json: serde_json::json!({ "error": { "code": error.code(), "message": error.to_string() } })
                                .to_string(),
                            latency_ms,
                            ..NewAnalysis::default()
                        };
                        (item, row, Err(error))
                    }
                };
                match (self.store.record_item(&item, Some(&row)).await?, result) {
                    (Recorded::Duplicate(item_id), _) => Ok(FileResult::Duplicate { item_id }),
                    (Recorded::New(item_id), Ok(verdict)) => {
                        self.judge_on_import(item_id).await;
                        Ok(FileResult::Imported { item_id, verdict })
                    }
                    (Recorded::New(item_id), Err(error)) => Ok(FileResult::Failed {
                        item_id: Some(item_id),
                        code: error.code(),
                        message: error.to_string(),
                    }),
                }
            }
        }
    }
}

impl Station {
    /// Category verdict for a newly imported photo when a store is configured. The import does
    /// not depend on it: without a store or an engine the photo keeps its quality verdict.
    async fn judge_on_import(&self, item_id: i64) {
        match self.judge_category(item_id, None).await {
            Ok(result) => {
                tracing::debug!(item_id, verdict = %result.verdict.verdict, "category judged");
                // a doubtful compliance result goes to the review queue
                if let Err(error) = self.route_compliance(item_id, &result.store_id).await {
                    tracing::warn!(item_id, %error, "compliance not routed");
                }
            }
            Err(StationError::NoStore) => {}
            Err(error) => tracing::warn!(item_id, %error, "category gate skipped"),
        }
    }
}

fn recorded_id(recorded: Recorded) -> i64 {
    match recorded {
        Recorded::New(id) | Recorded::Duplicate(id) => id,
    }
}

pub(crate) fn verdict_str(verdict: engine::QualityVerdict) -> &'static str {
    match verdict {
        engine::QualityVerdict::Pass => "pass",
        engine::QualityVerdict::Fail => "fail",
    }
}

fn examine(
    path: &Path,
    limits: &IntakeLimits,
    config: &engine::GateConfig,
    store: &store::Store,
    pdf_library: &Path,
) -> Examined {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Examined::Unreadable {
                code: ErrorCode::NotFound,
                message: "the file does not exist".into(),
            }
        }
        Err(e) => {
            return Examined::Unreadable {
                code: ErrorCode::Unreadable,
                message: format!("the file cannot be read: {e}"),
            }
        }
    };
    if !metadata.is_file() {
        return Examined::Unreadable {
            code: ErrorCode::NotAFile,
            message: "not a regular file".into(),
        };
    }
    if metadata.len() > limits.max_bytes {
        return Examined::TooLarge {
            byte_len: metadata.len(),
            error: IntakeError::FileTooLarge {
                bytes: metadata.len(),
                limit: limits.max_bytes,
            },
        };
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Examined::Unreadable {
                code: ErrorCode::Unreadable,
                message: format!("the file cannot be read: {e}"),
            }
        }
    };
    let sha = Sha256Hex::of(&bytes);
    // A duplicate check here avoids decoding content the station already has.
    if let Ok(Some(item_id)) =
        tokio::runtime::Handle::current().block_on(store.find_item_by_blob(&sha))
    {
        return Examined::Duplicate { item_id };
    }
    let started = Instant::now();
    if engine::pdf::is_pdf(&bytes) {
        let inspected =
            engine::pdf::PdfEngine::shared(pdf_library).and_then(|pdf| pdf.inspect(&bytes));
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(error) = store.blobs().put_hashed(&sha, &bytes) {
            return Examined::Unreadable {
                code: ErrorCode::Storage,
                message: error.to_string(),
            };
        }
        return Examined::Document {
            sha,
            byte_len: bytes.len() as u64,
            inspected,
            latency_ms,
        };
    }
    let analysis = engine::assess(&bytes, limits, config);
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(error) = store.blobs().put_hashed(&sha, &bytes) {
        return Examined::Unreadable {
            code: ErrorCode::Storage,
            message: error.to_string(),
        };
    }
    Examined::Read {
        sha,
        byte_len: bytes.len() as u64,
        analysis,
        latency_ms,
    }
}
