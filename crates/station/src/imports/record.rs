//! One file examined (read, hashed, gated or inspected as a PDF, off the async threads) and
//! recorded as an item with its analysis.

use std::path::Path;
use std::time::Instant;

use engine::{IntakeError, IntakeLimits, QualityReport};
use protocol::ErrorCode;
use store::{ItemStatus, NewAnalysis, NewItem, Recorded, Sha256Hex};

use super::Imports;
use crate::{FileResult, StationError, PDF_INTAKE, QUALITY_GATE};

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
impl Imports {
    pub(super) async fn examine_and_record(
        &self,
        path: &Path,
        file_name: &str,
    ) -> Result<FileResult, StationError> {
        let owned_path = path.to_path_buf();
        let limits = self.core.limits;
        let config = self.core.gate_config();
        let store = self.core.store.clone();
        let pdf_library = self.core.pdf_library();
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
                match (
                    self.core.store.record_item(&item, Some(&row)).await?,
                    inspected,
                ) {
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
                if let Some(item_id) = self
                    .core
                    .store
                    .find_unread_item(&source_path, byte_len)
                    .await?
                {
                    return Ok(FileResult::Duplicate { item_id });
                }
                let item = NewItem {
                    error_code: Some(error.code().as_str().into()),
                    error_message: Some(error.to_string()),
                    ..base(byte_len)
                };
                let item_id = recorded_id(self.core.store.record_item(&item, None).await?);
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
                match (
                    self.core.store.record_item(&item, Some(&row)).await?,
                    result,
                ) {
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

fn recorded_id(recorded: Recorded) -> i64 {
    match recorded {
        Recorded::New(id) | Recorded::Duplicate(id) => id,
    }
}

fn verdict_str(verdict: engine::QualityVerdict) -> &'static str {
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
        // the original again: its stored copy is made whole if it went missing or was damaged
        match store.blobs().repair(&sha, &bytes) {
            Ok(true) => {
                tracing::warn!(item_id, %sha, "a damaged stored file was repaired from its original")
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(item_id, %error, "a damaged stored file could not be repaired")
            }
        }
        return Examined::Duplicate { item_id };
    }
    let started = Instant::now();
    if engine::pdf::is_pdf(&bytes) {
        let inspected =
            engine::pdf::PdfEngine::shared(pdf_library).and_then(|pdf| pdf.inspect(&bytes));
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(error) = store.blobs().put_hashed(&sha, &bytes) {
            let error = StationError::from(error);
            return Examined::Unreadable {
                code: error.code(),
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
        // a full or read-only disk says so (disk_full, data_read_only), by its own words
        let error = StationError::from(error);
        return Examined::Unreadable {
            code: error.code(),
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
