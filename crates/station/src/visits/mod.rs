//! The visits service: an auditor starts a visit for a store; every photo taken belongs to it
//! and gets its quality and category verdicts at once, with retake guidance; the store's
//! required shots become a checklist (done / retake / missing). Everything here runs offline:
//! checks that need the cloud LLM (a shot's rules) are kept as pending. `watch.rs` watches a
//! visit's import folder, `report.rs` writes visit reports, `types.rs` is what the UI sees.
//!
//! Just past 600 lines: the visit service's commands and the photo pipeline they share;
//! `types.rs`, `watch.rs` and `report.rs` already hold the rest.

pub(crate) mod report;
mod types;
pub(crate) mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use engine::QualityReport;
use store::VisitPhotoRow;

pub use types::{
    FolderState, FolderStatus, PhotoState, ShotState, ShotStatus, VisitFolderEvent, VisitInfo,
    VisitPhoto, VisitPhotoEvent, VisitState,
};

use crate::shared::Core;
use crate::stores::ShotSpec;
use crate::{
    expand_paths, Analysis, Documents, FileResult, Imports, StationError, Stores, VisitSink,
    QUALITY_GATE,
};

/// Longest auditor name accepted.
const MAX_AUDITOR_LEN: usize = 100;
/// Largest page of photos one call returns.
pub const MAX_VISIT_PAGE: u32 = 500;

#[derive(Debug)]
pub struct Visits {
    core: Arc<Core>,
    /// Who runs a visit (the signed-in auditor on a connected station).
    session: Arc<crate::Session>,
    /// Each visit's store: its categories and required shots.
    stores: Arc<Stores>,
    /// A photo's category verdict against the visit's store.
    analysis: Arc<Analysis>,
    /// A photo's compliance result goes to the review queue through it.
    documents: Arc<Documents>,
    /// A photo is imported like any other file first.
    imports: Arc<Imports>,
    /// The watched import folder of each visit being watched.
    watchers: Mutex<HashMap<i64, watch::FolderWatch>>,
}

impl Visits {
    pub(crate) fn new(
        core: Arc<Core>,
        stores: Arc<Stores>,
        analysis: Arc<Analysis>,
        documents: Arc<Documents>,
        imports: Arc<Imports>,
        session: Arc<crate::Session>,
    ) -> Self {
        Self {
            session,
            core,
            stores,
            analysis,
            documents,
            imports,
            watchers: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a visit of `store_id` by `auditor`, optionally watching `import_folder`. Only one
    /// visit is open at a time, so that every photo has exactly one visit.
    pub async fn start_visit(
        &self,
        store_id: &str,
        auditor: &str,
        import_folder: Option<&Path>,
    ) -> Result<VisitInfo, StationError> {
        let auditor = self.session.auditor(auditor.trim())?;
        let auditor = auditor.as_str();
        if auditor.is_empty() || auditor.chars().count() > MAX_AUDITOR_LEN {
            return Err(StationError::InvalidRequest(format!(
                "the auditor's name must be 1–{MAX_AUDITOR_LEN} characters"
            )));
        }
        let spec = self.stores.spec(store_id)?;
        let folder = match import_folder.filter(|f| !f.as_os_str().is_empty()) {
            Some(folder) => Some(validate_folder(folder)?),
            None => None,
        };
        if let Some(open) = self.core.store.open_visit().await? {
            return Err(StationError::InvalidRequest(format!(
                "visit {} of {} is still open: end it before starting another",
                open.id, open.store_name
            )));
        }
        let row = self
            .core
            .store
            .start_visit(&spec.id, &spec.name, auditor, folder.as_deref())
            .await?;
        tracing::info!(visit = row.id, store = %spec.id, "visit started");
        Ok(row.into())
    }

    /// The open visit, if any: after a restart the auditor resumes it.
    pub async fn current_visit(&self) -> Result<Option<VisitInfo>, StationError> {
        Ok(self.core.store.open_visit().await?.map(VisitInfo::from))
    }

    pub async fn end_visit(&self, visit_id: i64) -> Result<VisitInfo, StationError> {
        self.stop_watching(visit_id);
        let row = self.core.store.end_visit(visit_id).await?;
        tracing::info!(visit = row.id, "visit ended");
        Ok(row.into())
    }

    /// The visit with its checklist and one page of its photos (newest first).
    pub async fn visit_state(
        &self,
        visit_id: i64,
        offset: u32,
        limit: u32,
    ) -> Result<VisitState, StationError> {
        let row = self.core.store.get_visit(visit_id).await?;
        let spec = self.stores.spec(&row.store_id).ok();
        let all = self.core.store.visit_photos(visit_id, u32::MAX, 0).await?;
        let mut cloud = self.core.store.visit_cloud_checks(visit_id).await?;
        let photos: Vec<VisitPhoto> = all
            .iter()
            .filter_map(|row| photo_of_row(row, &mut cloud))
            .collect();
        let checklist = checklist(spec.as_ref().map_or(&[][..], |s| &s.shot), &photos);
        let page = photos
            .into_iter()
            .skip(offset as usize)
            .take(limit.min(MAX_VISIT_PAGE) as usize)
            .collect();
        let config_error = self.stores.list().await.error;
        Ok(VisitState {
            folder: self.folder_state(visit_id, row.import_folder.as_deref()),
            photos_total: all.len() as u64,
            pending_cloud: self.core.store.count_pending_cloud(visit_id).await?,
            visit: row.into(),
            checklist,
            photos: page,
            config_error,
        })
    }

    /// Every photo of a visit, oldest first (for reports).
    pub(crate) async fn visit_photos_all(
        &self,
        visit_id: i64,
    ) -> Result<Vec<VisitPhoto>, StationError> {
        let mut cloud = self.core.store.visit_cloud_checks(visit_id).await?;
        let mut photos: Vec<VisitPhoto> = self
            .core
            .store
            .visit_photos(visit_id, u32::MAX, 0)
            .await?
            .iter()
            .filter_map(|row| photo_of_row(row, &mut cloud))
            .collect();
        photos.reverse();
        Ok(photos)
    }

    /// Imports one file into a visit and judges it: quality gate, then the category gate
    /// against the visit's store. Returns the photo with its verdicts and guidance. A file that
    /// cannot be read at all still joins the visit, as an unreadable photo with the reason.
    pub async fn add_visit_photo(
        &self,
        visit_id: i64,
        path: &Path,
    ) -> Result<VisitPhoto, StationError> {
        self.add_visit_photo_attempt(visit_id, path, true).await
    }

    /// [`Self::add_visit_photo`] for a caller that tries again: unless `keep_unread`, a file
    /// that could not be read at all (no item recorded) is only returned, not kept in the visit,
    /// so that a passing read error (a card pulled mid-read) leaves nothing behind once the
    /// retry succeeds.
    pub(crate) async fn add_visit_photo_attempt(
        &self,
        visit_id: i64,
        path: &Path,
        keep_unread: bool,
    ) -> Result<VisitPhoto, StationError> {
        let started = Instant::now();
        let visit = self.core.store.get_visit(visit_id).await?;
        if visit.ended_at.is_some() {
            return Err(StationError::InvalidRequest(format!(
                "visit {visit_id} has ended"
            )));
        }
        let spec = self.stores.spec(&visit.store_id)?;
        let outcome = self.imports.import_one(path).await;
        let mut photo = VisitPhoto {
            item_id: outcome.item_id(),
            file_name: outcome.file_name.clone(),
            source_path: outcome.path.clone(),
            added_at: store::now_rfc3339(),
            state: PhotoState::Unreadable,
            quality: None,
            reasons: Vec::new(),
            guidance: Vec::new(),
            category: None,
            category_verdict: None,
            shot: None,
            pending_rules: 0,
            cloud_rules: Vec::new(),
            latency_ms: 0.0,
            duplicate: false,
            error: None,
        };
        let item_id = match &outcome.result {
            FileResult::Imported { item_id, .. } | FileResult::Duplicate { item_id } => *item_id,
            FileResult::Document { .. } => {
                photo.error = Some("a PDF document, not a photo".into());
                photo.guidance.push("Take the shot with the camera.".into());
                return self.finish_photo(visit_id, photo, started).await;
            }
            FileResult::Failed {
                item_id,
                code,
                message,
            } => {
                photo.error = Some(message.clone());
                photo.guidance.push(
                    "The file could not be read: take the photo again or copy it again.".into(),
                );
                // a file gone by now has nothing to show; it is taken when it is back
                if item_id.is_none()
                    && keep_unread
                    && *code != protocol::ErrorCode::NotFound
                    && path.exists()
                {
                    photo.item_id = Some(self.record_unread(path, &outcome, *code, message).await?);
                }
                return self.finish_photo(visit_id, photo, started).await;
            }
        };
        let report = self
            .core
            .store
            .latest_analysis(item_id, QUALITY_GATE)
            .await?
            .and_then(|row| serde_json::from_str::<QualityReport>(&row.result_json).ok());
        let Some(report) = report else {
            // recorded as an error item earlier (undecodable content seen again)
            let item = self.core.store.get_item(item_id).await?;
            photo.error = Some(
                item.error_message
                    .unwrap_or_else(|| "the photo could not be read".into()),
            );
            photo
                .guidance
                .push("The file could not be read: take the photo again.".into());
            return self.finish_photo(visit_id, photo, started).await;
        };
        let passed = report.verdict == engine::QualityVerdict::Pass;
        photo.quality = Some(if passed { "pass" } else { "fail" }.into());
        for reason in &report.reasons {
            photo.reasons.push(
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            );
        }
        photo.guidance.extend(report.suggestions.iter().cloned());
        let mut category_ok = false;
        match self
            .analysis
            .judge_category_in(item_id, None, Some(&spec.id))
            .await
        {
            Ok(result) if result.verdict.scores.is_empty() => {
                // no category of the store has usable references: nothing to judge against
                photo.error = Some(format!(
                    "{} has no usable categories (see the reference folders in stores.toml)",
                    spec.name
                ));
                category_ok = true;
            }
            Ok(result) => {
                let verdict = result.verdict;
                photo.category_verdict = Some(verdict.verdict.clone());
                photo.category = verdict.predicted.clone();
                match verdict.verdict.as_str() {
                    "irrelevant" => {
                        photo.reasons.push("irrelevant".into());
                        photo.guidance.push(format!(
                            "This photo does not look like any of {}'s sections: photograph the display itself.",
                            spec.name
                        ));
                        photo.category = None;
                    }
                    "uncertain" => {
                        let runner_up = verdict.scores.get(1).map(|s| s.name.clone());
                        photo.reasons.push("uncertain".into());
                        photo.guidance.push(format!(
                            "The photo could show {} or {}: frame one section only.",
                            verdict.predicted.as_deref().unwrap_or("?"),
                            runner_up.as_deref().unwrap_or("?")
                        ));
                    }
                    _ => category_ok = true,
                }
            }
            Err(error) => {
                // quality still counts; the category is judged again when the engine is back
                photo.error = Some(error.to_string());
            }
        }
        if let Err(error) = self.documents.route_compliance(item_id, &spec.id).await {
            tracing::warn!(item_id, %error, "compliance not routed");
        }
        photo.shot = photo.category.as_ref().and_then(|c| {
            spec.shot
                .iter()
                .find(|s| &s.category == c)
                .map(|s| s.name.clone())
        });
        photo.state = match (passed && category_ok, &photo.shot) {
            (true, Some(_)) => PhotoState::Accepted,
            (true, None) => PhotoState::Extra,
            (false, _) => PhotoState::Retake,
        };
        if photo.state == PhotoState::Accepted {
            if let Some(shot) = spec
                .shot
                .iter()
                .find(|s| Some(&s.name) == photo.shot.as_ref())
            {
                let item = self.core.store.get_item(item_id).await?;
                match item.blob_sha256 {
                    Some(sha) if !shot.rules.is_empty() => {
                        let job = crate::sync::compliance_check_job(
                            visit_id,
                            item_id,
                            &sha,
                            &spec.id,
                            &shot.rules,
                        );
                        // the pending checks and the row that sends them: one write
                        self.core
                            .store
                            .queue_cloud_check(visit_id, item_id, &shot.rules, &job)
                            .await?;
                        self.core.outbox_written.notify_one();
                    }
                    _ => {
                        // an accepted photo always has its bytes kept; without them there is
                        // nothing to send, and the checks stay pending for a person to see
                        for rule in &shot.rules {
                            self.core
                                .store
                                .add_pending_cloud(visit_id, item_id, rule)
                                .await?;
                        }
                    }
                }
                photo.pending_rules = u32::try_from(shot.rules.len()).unwrap_or(u32::MAX);
            }
        }
        self.finish_photo(visit_id, photo, started).await
    }

    async fn finish_photo(
        &self,
        visit_id: i64,
        mut photo: VisitPhoto,
        started: Instant,
    ) -> Result<VisitPhoto, StationError> {
        photo.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Some(item_id) = photo.item_id {
            let state = serde_json::to_value(photo.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let json = serde_json::to_string(&photo).unwrap_or_default();
            let new = self
                .core
                .store
                .put_visit_photo(visit_id, item_id, &photo.source_path, &state, &json)
                .await?;
            photo.duplicate = !new;
            if photo.state != PhotoState::Unreadable {
                self.core
                    .store
                    .drop_unreadable_visit_photos(visit_id, &photo.source_path, item_id)
                    .await?;
            }
        }
        tracing::info!(visit = visit_id, file = %photo.file_name, state = ?photo.state, latency_ms = photo.latency_ms, "visit photo");
        Ok(photo)
    }

    /// An item for a file that could not be read at all, so that it can be part of the visit
    /// with its error: like a file refused for its size, it has no blob and is known by its
    /// path and size (the same failure again finds the same item).
    async fn record_unread(
        &self,
        path: &Path,
        outcome: &crate::FileOutcome,
        code: protocol::ErrorCode,
        message: &str,
    ) -> Result<i64, StationError> {
        let byte_len = std::fs::metadata(path).map_or(0, |m| m.len());
        if let Some(item_id) = self
            .core
            .store
            .find_unread_item(&outcome.path, byte_len)
            .await?
        {
            return Ok(item_id);
        }
        let item = store::NewItem {
            blob: None,
            media_type: None,
            file_name: outcome.file_name.clone(),
            source_path: outcome.path.clone(),
            byte_len,
            status: store::ItemStatus::Error,
            verdict: None,
            error_code: Some(code.as_str().into()),
            error_message: Some(message.to_string()),
            format: None,
            width: None,
            height: None,
            kind: "photo".into(),
            page_count: None,
        };
        Ok(match self.core.store.record_item(&item, None).await? {
            store::Recorded::New(id) | store::Recorded::Duplicate(id) => id,
        })
    }

    /// Adds files (folders walked) to a visit, one after another; each photo's verdicts go to
    /// `sink`. A file that fails is logged and the others still go in.
    pub async fn add_visit_photos(&self, visit_id: i64, paths: &[PathBuf], sink: &dyn VisitSink) {
        for path in expand_paths(paths) {
            match self.add_visit_photo(visit_id, &path).await {
                Ok(photo) => sink.photo(visit_id, &photo),
                Err(error) => {
                    tracing::error!(%error, path = %path.display(), "visit photo failed");
                }
            }
        }
    }
}

/// A watched folder must be an existing directory given by an absolute path.
/// The import folder as the visit records it (a text column: a name that is not UTF-8 is
/// refused rather than stored altered, which would watch another folder).
fn validate_folder(path: &Path) -> Result<String, StationError> {
    if !path.is_absolute() {
        return Err(StationError::InvalidRequest(format!(
            "the import folder must be an absolute path: {}",
            path.display()
        )));
    }
    if !path.is_dir() {
        return Err(StationError::InvalidRequest(format!(
            "the import folder {} does not exist or is not a folder",
            path.display()
        )));
    }
    path.to_str().map(str::to_string).ok_or_else(|| {
        StationError::InvalidRequest(format!(
            "the import folder's name {} is not valid UTF-8: rename it or choose another",
            path.display()
        ))
    })
}

/// A stored photo with its cloud checks as they stand now (the verdicts stored with the photo
/// were made before any answer came back).
fn photo_of_row(
    row: &VisitPhotoRow,
    cloud: &mut HashMap<i64, Vec<store::CloudCheckRow>>,
) -> Option<VisitPhoto> {
    let mut photo: VisitPhoto = serde_json::from_str(&row.verdict_json).ok()?;
    photo.item_id = Some(row.item_id);
    photo.added_at.clone_from(&row.added_at);
    if let Some(checks) = cloud.remove(&row.item_id) {
        photo.pending_rules =
            u32::try_from(checks.iter().filter(|c| c.state == "pending").count()).unwrap_or(0);
        photo.cloud_rules = checks
            .into_iter()
            .map(|c| types::CloudRule {
                rule: c.rule,
                state: c.state,
                confidence: c.confidence,
                reason: c.reason,
            })
            .collect();
    }
    Some(photo)
}

/// Per required shot: done when enough accepted photos show its category; retake when a photo of
/// it (or one whose category could not be told) must be taken again; missing otherwise.
pub fn checklist(shots: &[ShotSpec], photos: &[VisitPhoto]) -> Vec<ShotStatus> {
    shots
        .iter()
        .map(|shot| {
            let of_shot = |p: &&VisitPhoto| p.shot.as_deref() == Some(shot.name.as_str());
            let accepted = photos
                .iter()
                .filter(of_shot)
                .filter(|p| p.state == PhotoState::Accepted)
                .count();
            let retakes = photos
                .iter()
                .filter(of_shot)
                .filter(|p| p.state == PhotoState::Retake)
                .count();
            let accepted = u32::try_from(accepted).unwrap_or(u32::MAX);
            let retakes = u32::try_from(retakes).unwrap_or(u32::MAX);
            let state = if accepted >= shot.count {
                ShotState::Done
            } else if retakes > 0 {
                ShotState::Retake
            } else {
                ShotState::Missing
            };
            ShotStatus {
                name: shot.name.clone(),
                category: shot.category.clone(),
                required: shot.count,
                accepted,
                retakes,
                state,
                rules: shot.rules.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(shot: &str, state: PhotoState) -> VisitPhoto {
        VisitPhoto {
            item_id: Some(1),
            file_name: "p.jpg".into(),
            source_path: "/p.jpg".into(),
            added_at: String::new(),
            state,
            quality: Some("pass".into()),
            reasons: Vec::new(),
            guidance: Vec::new(),
            category: Some("Fruit".into()),
            category_verdict: Some("predicted".into()),
            shot: Some(shot.into()),
            pending_rules: 0,
            cloud_rules: Vec::new(),
            latency_ms: 1.0,
            duplicate: false,
            error: None,
        }
    }

    #[test]
    fn the_checklist_counts_accepted_photos_and_asks_for_retakes() {
        let shots = vec![
            ShotSpec {
                name: "Fruit wall".into(),
                category: "Fruit".into(),
                count: 2,
                rules: Vec::new(),
            },
            ShotSpec {
                name: "Dairy".into(),
                category: "Packages".into(),
                count: 1,
                rules: Vec::new(),
            },
            ShotSpec {
                name: "Veg".into(),
                category: "Vegetables".into(),
                count: 1,
                rules: Vec::new(),
            },
        ];
        let photos = vec![
            photo("Fruit wall", PhotoState::Accepted),
            photo("Fruit wall", PhotoState::Retake),
            photo("Dairy", PhotoState::Retake),
        ];
        let list = checklist(&shots, &photos);
        assert_eq!(list[0].state, ShotState::Retake);
        assert_eq!((list[0].accepted, list[0].retakes), (1, 1));
        assert_eq!(list[1].state, ShotState::Retake);
        assert_eq!(list[2].state, ShotState::Missing);
        let photos = vec![
            photo("Fruit wall", PhotoState::Accepted),
            photo("Fruit wall", PhotoState::Accepted),
            photo("Fruit wall", PhotoState::Retake),
        ];
        assert_eq!(checklist(&shots, &photos)[0].state, ShotState::Done);
    }
}
