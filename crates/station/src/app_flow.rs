//! Where what the app is handed goes, decided here rather than in the shell: files (from the
//! dialog, a drop, the command line) go to the open visit when there is one, else to an
//! import; at start the open visit's folder and the stores config are watched again.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{ConfigSink, ImportSink, Station, StationError, VisitInfo, VisitSink};

impl Station {
    /// Takes files under the job `job_id`: while a visit is open each file becomes one of its
    /// photos (its verdicts go to `visit_sink`), otherwise they are imported (progress to
    /// `import_sink`). Runs until every file is done.
    pub async fn take_files(
        self: &Arc<Self>,
        job_id: u64,
        paths: Vec<PathBuf>,
        import_sink: Arc<dyn ImportSink>,
        visit_sink: Arc<dyn VisitSink>,
    ) {
        match self.current_visit().await {
            Ok(Some(visit)) => {
                self.finish_job(job_id);
                self.add_visit_photos(visit.id, &paths, visit_sink.as_ref())
                    .await;
            }
            Ok(None) => {
                self.run_import(job_id, paths, import_sink).await;
            }
            Err(error) => {
                // the files are not lost: they are still where they were; say why nothing ran
                self.finish_job(job_id);
                tracing::error!(%error, "cannot tell whether a visit is open; files not taken");
            }
        }
    }

    /// Adds files (folders walked) to a visit, one after another; each photo's verdicts go to
    /// `sink`. A file that fails is logged and the others still go in.
    pub async fn add_visit_photos(&self, visit_id: i64, paths: &[PathBuf], sink: &dyn VisitSink) {
        for path in crate::expand_paths(paths) {
            match self.add_visit_photo(visit_id, &path).await {
                Ok(photo) => sink.photo(visit_id, &photo),
                Err(error) => {
                    tracing::error!(%error, path = %path.display(), "visit photo failed");
                }
            }
        }
    }

    /// Starts a visit and watches its import folder.
    pub async fn begin_visit(
        self: &Arc<Self>,
        store_id: &str,
        auditor: &str,
        import_folder: Option<&std::path::Path>,
        sink: Arc<dyn VisitSink>,
    ) -> Result<VisitInfo, StationError> {
        let visit = self.start_visit(store_id, auditor, import_folder).await?;
        self.watch_visit(visit.id, sink).await?;
        Ok(visit)
    }

    /// Watches the stores config for the life of the app, and the open visit's folder (a visit
    /// left open when the app closed is resumed). Never returns.
    pub async fn watch_at_start(
        self: &Arc<Self>,
        visit_sink: Arc<dyn VisitSink>,
        config_sink: Arc<dyn ConfigSink>,
    ) {
        let _config_watch = self.watch_config(config_sink);
        match self.current_visit().await {
            Ok(Some(visit)) => {
                tracing::info!(visit = visit.id, "resuming the open visit");
                if let Err(error) = self.watch_visit(visit.id, visit_sink).await {
                    tracing::error!(%error, "cannot watch the open visit's folder");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot read the open visit"),
        }
        std::future::pending::<()>().await;
    }
}
