//! The station's own updates through tauri-plugin-updater: asked of the connected router at
//! start and after connecting, downloaded when the user says so, installed only when the
//! package's minisign signature verifies against the public key built into this app
//! (`plugins.updater.pubkey`, for the version the endpoint announced). The flow's state lives
//! in `station::updates`; this file only drives the plugin and reports to it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use station::updates::{Offer, UpdateStep};
use station::Station;
use tauri::utils::config::BundleType;
use tauri::utils::platform::bundle_type;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_updater::{Error as UpdaterError, Update, UpdaterExt};

/// The event the UI listens to for the update panel.
pub const EVENT: &str = "update-state";

/// The release found by the last check, which `install` downloads.
#[derive(Default)]
pub struct Pending(Mutex<Option<Update>>);

impl Pending {
    fn set(&self, update: Option<Update>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = update;
    }

    fn get(&self) -> Option<Update> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn report<R: Runtime>(app: &AppHandle<R>, station: &Station) {
    let _ = app.emit(EVENT, station.updates().state());
}

/// Where this copy is installed as the plugin replaces it; `Err` says why it cannot update
/// itself. A build from source has no package to replace; an AppImage is the file `APPIMAGE`
/// names (its runtime sets it), never the binary inside it.
fn install_target() -> Result<Option<std::path::PathBuf>, String> {
    match bundle_type() {
        None => Err("this copy was built from source: it is updated from the source".into()),
        Some(BundleType::AppImage) => {
            let path = std::env::var_os("APPIMAGE")
                .map(std::path::PathBuf::from)
                .ok_or("this AppImage runs extracted (APPIMAGE is not set): download the new AppImage instead")?;
            if !path.is_absolute() || !path.is_file() {
                return Err(format!(
                    "APPIMAGE names {}, which is not an AppImage file",
                    path.display()
                ));
            }
            Ok(Some(path))
        }
        Some(_) => Ok(None),
    }
}

/// Asks the connected router for a newer release (nothing when not connected).
pub async fn check<R: Runtime>(app: AppHandle<R>, station: Arc<Station>, pending: Arc<Pending>) {
    let endpoint = match station.update_endpoint().await {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "no update check");
            return;
        }
    };
    if !station.updates().begin_check() {
        return;
    }
    report(&app, &station);
    let answer = ask(&app, &endpoint).await;
    if let Ok(Some((update, _))) = &answer {
        tracing::info!(version = %update.version, "an update is offered");
    }
    let answer = answer.map(|found| {
        found.map(|(update, offer)| {
            pending.set(Some(update));
            offer
        })
    });
    if let Err(message) = &answer {
        tracing::warn!(%message, "update check failed");
    }
    station.updates().checked(answer);
    report(&app, &station);
}

async fn ask<R: Runtime>(
    app: &AppHandle<R>,
    endpoint: &str,
) -> Result<Option<(Update, Offer)>, String> {
    let target = install_target()?;
    let url = endpoint
        .parse()
        .map_err(|e| format!("the update address {endpoint} is not a URL: {e}"))?;
    let mut builder = app
        .updater_builder()
        .endpoints(vec![url])
        .map_err(|e| e.to_string())?
        .timeout(Duration::from_secs(30));
    if let Some(path) = target {
        builder = builder.executable_path(path);
    }
    let updater = builder.build().map_err(|e| e.to_string())?;
    let update = updater.check().await.map_err(|e| match e {
        UpdaterError::ReleaseNotFound => {
            "the router did not answer the update check (see its log)".to_owned()
        }
        other => format!("the update check failed: {other}"),
    })?;
    Ok(update.map(|update| {
        let offer = Offer {
            version: update.version.clone(),
            current_version: update.current_version.clone(),
            notes: update.body.clone(),
            date: update.date.and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
        };
        (update, offer)
    }))
}

/// Downloads the offered release in the background, reporting progress; installs it only
/// after its signature verified (the plugin's `download` checks it before handing the bytes
/// over, and `install` checks them again).
pub fn install<R: Runtime>(
    app: &AppHandle<R>,
    station: &Arc<Station>,
    pending: &Pending,
) -> Result<(), station::StationError> {
    let Some(update) = pending.get() else {
        return Err(station::StationError::InvalidRequest(
            "no update is offered: check again".into(),
        ));
    };
    let (_, cancel) = station.updates().begin_download()?;
    report(app, station);
    let (app, station) = (app.clone(), Arc::clone(station));
    tauri::async_runtime::spawn(async move {
        if !update
            .download_url
            .as_str()
            .parse()
            .is_ok_and(|url| station::updates::private_transport(&url))
        {
            station.updates().finished(Err((
                UpdateStep::Download,
                format!(
                    "the package is at {}, which is neither https nor this machine",
                    update.download_url
                ),
            )));
            report(&app, &station);
            return;
        }
        let mut last_report = Instant::now();
        let downloaded = tokio::select! {
            () = cancel.cancelled() => {
                tracing::info!("update download cancelled");
                report(&app, &station);
                return;
            }
            bytes = update.download(
                |chunk, total| {
                    station.updates().progress(chunk as u64, total);
                    if last_report.elapsed() > Duration::from_millis(100) {
                        last_report = Instant::now();
                        report(&app, &station);
                    }
                },
                || {},
            ) => bytes,
        };
        let outcome = match downloaded {
            Err(error) => Err(failure(&error)),
            Ok(bytes) => {
                if !station.updates().begin_install() {
                    report(&app, &station);
                    return;
                }
                report(&app, &station);
                let installing = update.clone();
                match tokio::task::spawn_blocking(move || installing.install(bytes)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(failure(&error)),
                    Err(join) => Err((UpdateStep::Install, format!("the install stopped: {join}"))),
                }
            }
        };
        match &outcome {
            Ok(()) => tracing::info!(version = %update.version, "update installed"),
            Err((step, message)) => tracing::warn!(?step, %message, "update not installed"),
        }
        station.updates().finished(outcome);
        report(&app, &station);
    });
    Ok(())
}

/// Which step failed, said so a person knows what happened to their app.
fn failure(error: &UpdaterError) -> (UpdateStep, String) {
    use minisign_verify::Error as Minisign;
    match error {
        UpdaterError::Minisign(Minisign::UnexpectedKeyId) => (
            UpdateStep::Verify,
            "the package is signed with a key this app does not trust: nothing was installed"
                .into(),
        ),
        UpdaterError::Minisign(Minisign::InvalidSignature) => (
            UpdateStep::Verify,
            "the package does not match its signature (altered, or not the release signed): nothing was installed"
                .into(),
        ),
        UpdaterError::Minisign(_)
        | UpdaterError::Base64(_)
        | UpdaterError::SignatureUtf8(_)
        | UpdaterError::MissingSignedVersion
        | UpdaterError::SignedVersionMismatch { .. } => (
            UpdateStep::Verify,
            format!("the package's signature does not verify ({error}): nothing was installed"),
        ),
        UpdaterError::Reqwest(_) | UpdaterError::Network(_) | UpdaterError::Http(_) => (
            UpdateStep::Download,
            format!("the download failed: {error}"),
        ),
        _ => (
            UpdateStep::Install,
            format!("the verified package could not be put in place: {error}"),
        ),
    }
}
