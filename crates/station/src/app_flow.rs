//! Where what the app is handed goes, decided here rather than in the shell: files (from the
//! dialog, a drop, the command line) go to the open visit when there is one, else to an
//! import; at start the open visit's folder and the stores config are watched again. This is
//! the one place that coordinates several services; each service's own work stays in it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio_util::sync::CancellationToken;

use crate::{ImportSink, Station, StationError, StoresInfo, VisitInfo, VisitSink};

/// Receives the stores config each time it changes on disk (with `error` set when the edit was
/// rejected and the previous config kept).
pub trait ConfigSink: Send + Sync {
    fn stores_changed(&self, stores: &StoresInfo);
    /// A store's routing policy file changed: `error` says why it was rejected (the previous
    /// policy then stays in force).
    fn policy_changed(&self, _store_id: &str, _error: Option<&str>) {}
}

impl Station {
    /// Takes files under the job `job_id`: while a visit is open each file becomes one of its
    /// photos (its verdicts go to `visit_sink`), otherwise they are imported (progress to
    /// `import_sink`). Runs until every file is done.
    pub async fn take_files(
        &self,
        job_id: u64,
        paths: Vec<PathBuf>,
        import_sink: Arc<dyn ImportSink>,
        visit_sink: Arc<dyn VisitSink>,
    ) {
        match self.visits.current_visit().await {
            Ok(Some(visit)) => {
                self.core.jobs.done(job_id);
                self.visits
                    .add_visit_photos(visit.id, &paths, visit_sink.as_ref())
                    .await;
            }
            Ok(None) => {
                self.imports.run_import(job_id, paths, import_sink).await;
            }
            Err(error) => {
                // the files are not lost: they are still where they were; say why nothing ran
                self.core.jobs.done(job_id);
                tracing::error!(%error, "cannot tell whether a visit is open; files not taken");
            }
        }
    }

    /// Starts a visit and watches its import folder.
    pub async fn begin_visit(
        &self,
        store_id: &str,
        auditor: &str,
        import_folder: Option<&std::path::Path>,
        sink: Arc<dyn VisitSink>,
    ) -> Result<VisitInfo, StationError> {
        let visit = self
            .visits
            .start_visit(store_id, auditor, import_folder)
            .await?;
        self.visits.watch_visit(visit.id, sink).await?;
        Ok(visit)
    }

    /// Watches the stores config for the life of the app, and the open visit's folder (a visit
    /// left open when the app closed is resumed). Never returns.
    pub async fn watch_at_start(
        &self,
        visit_sink: Arc<dyn VisitSink>,
        config_sink: Arc<dyn ConfigSink>,
    ) {
        let _config_watch = self.watch_config(config_sink);
        match self.visits.current_visit().await {
            Ok(Some(visit)) => {
                tracing::info!(visit = visit.id, "resuming the open visit");
                if let Err(error) = self.visits.watch_visit(visit.id, visit_sink).await {
                    tracing::error!(%error, "cannot watch the open visit's folder");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot read the open visit"),
        }
        std::future::pending::<()>().await;
    }

    /// Watches the data directory and rereads `stores.toml` whenever it changes, reporting the
    /// new stores, or the error while the previous config stays in force.
    pub fn watch_config(&self, sink: Arc<dyn ConfigSink>) -> CancellationToken {
        let token = CancellationToken::new();
        // the task holds only what it rereads: the stores and the review policies
        let stores = Arc::clone(&self.stores);
        let review = Arc::clone(&self.review);
        let dir = self.data_dir().to_path_buf();
        let stop = token.clone();
        tokio::spawn(async move {
            // `None`: stores.toml; `Some(store)`: that store's policy file
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
            let policies = dir.join(crate::POLICIES_DIR);
            if let Err(error) = std::fs::create_dir_all(&policies) {
                tracing::warn!(%error, "cannot create the policies folder");
            }
            let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                let Ok(event) = res else { return };
                for path in &event.paths {
                    if path
                        .file_name()
                        .is_some_and(|n| n == crate::stores::STORES_FILE)
                    {
                        let _ = tx.send(None);
                    } else if path.extension().is_some_and(|x| x == "toml")
                        && path
                            .parent()
                            .and_then(|p| p.file_name())
                            .is_some_and(|n| n == crate::POLICIES_DIR)
                    {
                        if let Some(store) = path.file_stem().and_then(|s| s.to_str()) {
                            let _ = tx.send(Some(store.to_string()));
                        }
                    }
                }
            })
            .and_then(|mut w| {
                w.watch(&dir, RecursiveMode::NonRecursive)?;
                w.watch(&policies, RecursiveMode::NonRecursive)?;
                Ok(w)
            });
            let _watcher = match watcher {
                Ok(w) => w,
                Err(error) => {
                    tracing::error!(%error, "cannot watch the data directory; stores.toml is reread on use");
                    return;
                }
            };
            let mut last = stores.list().await;
            loop {
                let first = tokio::select! {
                    () = stop.cancelled() => break,
                    got = rx.recv() => match got { Some(what) => what, None => break },
                };
                // an editor writes in several steps: let them land
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut changed = std::collections::BTreeSet::new();
                changed.insert(first);
                while let Ok(what) = rx.try_recv() {
                    changed.insert(what);
                }
                for what in changed {
                    match what {
                        None => {
                            let now = stores.list().await;
                            if now != last {
                                sink.stores_changed(&now);
                                last = now;
                            }
                        }
                        Some(store) => match review.policy(&store) {
                            Ok((_, error)) => sink.policy_changed(&store, error.as_deref()),
                            Err(error) => sink.policy_changed(&store, Some(&error.to_string())),
                        },
                    }
                }
            }
        });
        token
    }
}
