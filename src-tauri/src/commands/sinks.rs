//! Station events, forwarded to the main window as Tauri events.

use station::{
    ConfigSink, ExtractProgress, ExtractSink, FolderState, ImportProgress, ImportSink,
    ImportStarted, ImportSummary, ReportProgress, ReportSink, StoresInfo, VisitFolderEvent,
    VisitPhoto, VisitPhotoEvent, VisitSink,
};
use tauri::{AppHandle, Emitter, Runtime};

/// The main window, as the station's sink for every kind of event.
pub struct WindowSink<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> WindowSink<R> {
    fn emit<T: serde::Serialize + Clone>(&self, event: &str, payload: T) {
        // a window that is gone (closing) has nobody to tell; nothing else can fail here
        let _ = self.0.emit_to("main", event, payload);
    }
}

impl<R: Runtime> ImportSink for WindowSink<R> {
    fn started(&self, event: &ImportStarted) {
        self.emit("import-started", event);
    }
    fn progress(&self, event: &ImportProgress) {
        self.emit("import-progress", event);
    }
    fn finished(&self, event: &ImportSummary) {
        self.emit("import-finished", event);
    }
}

impl<R: Runtime> ExtractSink for WindowSink<R> {
    fn progress(&self, event: &ExtractProgress) {
        self.emit("extract-progress", event);
    }
}

impl<R: Runtime> VisitSink for WindowSink<R> {
    fn photo(&self, visit_id: i64, photo: &VisitPhoto) {
        self.emit(
            "visit-photo",
            VisitPhotoEvent {
                visit_id,
                photo: photo.clone(),
            },
        );
    }
    fn folder(&self, visit_id: i64, folder: &FolderState) {
        self.emit(
            "visit-folder",
            VisitFolderEvent {
                visit_id,
                folder: folder.clone(),
            },
        );
    }
}

impl<R: Runtime> ConfigSink for WindowSink<R> {
    fn stores_changed(&self, stores: &StoresInfo) {
        self.emit("stores-changed", stores);
    }
    fn policy_changed(&self, store_id: &str, error: Option<&str>) {
        self.emit(
            "policy-changed",
            protocol::PolicyChanged {
                store_id: store_id.to_string(),
                error: error.map(str::to_string),
            },
        );
    }
}

impl<R: Runtime> ReportSink for WindowSink<R> {
    fn progress(&self, event: &ReportProgress) {
        self.emit("report-progress", event);
    }
}
