//! The imports service: import jobs expand the offered paths, then analyze and record each
//! file on a pool of blocking workers, reporting every file as it completes; one bad file never
//! stops a batch (`record.rs`: one file examined and recorded). It also answers for the items
//! imports make (`items.rs`: listing, details, blobs).

mod items;
mod record;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use crate::shared::Core;
use crate::{
    Analysis, Documents, FileOutcome, FileResult, ImportProgress, ImportStarted, ImportSummary,
    StationError,
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
#[derive(Debug)]
pub struct Imports {
    core: Arc<Core>,
    /// A new photo's category verdict, and its item details.
    analysis: Arc<Analysis>,
    /// A new photo's compliance result goes to the review queue through it.
    documents: Arc<Documents>,
}

impl Imports {
    pub(crate) fn new(core: Arc<Core>, analysis: Arc<Analysis>, documents: Arc<Documents>) -> Self {
        Self {
            core,
            analysis,
            documents,
        }
    }

    /// Runs an import job to completion (or cancellation). The job must come from
    /// [`crate::Station::new_job`]; it is unregistered when this returns.
    pub async fn run_import(
        self: &Arc<Self>,
        job_id: u64,
        paths: Vec<PathBuf>,
        sink: Arc<dyn ImportSink>,
    ) -> ImportSummary {
        let token = self.core.jobs.token(job_id);
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
                let imports = Arc::clone(self);
                let token = token.clone();
                async move {
                    if token.is_cancelled() {
                        return None;
                    }
                    Some(imports.import_one(&path).await)
                }
            })
            .buffer_unordered(workers);
        let mut done = 0u32;
        while let Some(outcome) = outcomes.next().await {
            let Some(outcome) = outcome else { continue };
            done += 1;
            // what the progress list will show as saved: committed before this line
            tracing::debug!(path = %outcome.path, item_id = ?outcome.item_id(), "file imported");
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
        self.core.jobs.done(job_id);
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

    /// Category verdict for a newly imported photo when a store is configured. The import does
    /// not depend on it: without a store or an engine the photo keeps its quality verdict.
    async fn judge_on_import(&self, item_id: i64) {
        match self.analysis.judge_category(item_id, None).await {
            Ok(result) => {
                tracing::debug!(item_id, verdict = %result.verdict.verdict, "category judged");
                // a doubtful compliance result goes to the review queue
                if let Err(error) = self
                    .documents
                    .route_compliance(item_id, &result.store_id)
                    .await
                {
                    tracing::warn!(item_id, %error, "compliance not routed");
                }
            }
            Err(StationError::NoStore) => {}
            Err(error) => tracing::warn!(item_id, %error, "category gate skipped"),
        }
    }
}
