//! Updates of the station itself: where a connected station asks for a newer release, and the
//! one state the update panel shows (checking, offered, downloading, installed, failed) with the
//! moves allowed between them. Downloading, verifying the signature and replacing the package
//! are the Tauri updater plugin's, in the shell; it reports here, so what the user sees cannot
//! skip a step (an update is "installed" only after a verified download).

use std::sync::Mutex;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::StationError;
use protocol::ErrorCode;

/// The router's endpoint for releases, with the updater's placeholders (filled in by the
/// plugin: `linux`, `x86_64`, `appimage`, `0.1.0`).
const ENDPOINT: &str = "station/v1/updates/{{target}}/{{arch}}/{{bundle_type}}/{{current_version}}";

/// Where a station connected to the router at `router_url` asks for releases. Only over https,
/// or plain http to this machine (a router on loopback): a package is checked by its signature
/// whatever the transport, but what is new, and whether there is anything, should not be
/// readable or silenced on the way.
pub fn update_endpoint(router_url: &str) -> Result<String, StationError> {
    let invalid = |why: String| StationError::Sync {
        code: ErrorCode::InvalidRequest,
        message: why,
    };
    let url = url::Url::parse(router_url).map_err(|e| {
        invalid(format!(
            "the router's address {router_url:?} is not a URL: {e}"
        ))
    })?;
    if !private_transport(&url) {
        return Err(invalid(format!(
            "updates are asked for over https only; the router is at {router_url}"
        )));
    }
    Ok(format!("{}/{ENDPOINT}", router_url.trim_end_matches('/')))
}

/// https, or plain http to this machine: how update checks and downloads may travel.
pub fn private_transport(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

/// A release the router offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Offer {
    pub version: String,
    pub current_version: String,
    /// What is new, as published.
    pub notes: Option<String>,
    /// When it was published (RFC 3339).
    pub date: Option<String>,
}

/// Which step of an update failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStep {
    Check,
    Download,
    /// The package's signature did not verify: nothing was installed.
    Verify,
    Install,
}

/// What the update panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateState {
    /// Not checked (not connected to a router, or not yet).
    Idle,
    Checking,
    UpToDate {
        checked_at: String,
    },
    Available {
        offer: Offer,
    },
    Downloading {
        offer: Offer,
        #[ts(type = "number")]
        received: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    /// Downloaded and verified, being put in place (no longer cancellable).
    Installing {
        offer: Offer,
    },
    /// Verified and in place: the next start runs it.
    Installed {
        version: String,
    },
    Failed {
        step: UpdateStep,
        message: String,
        /// The release that was offered, when there was one (it can be tried again).
        offer: Option<Offer>,
    },
}

/// The station's update flow: one at a time, cancellable while it downloads.
#[derive(Debug)]
pub struct Updates {
    state: Mutex<UpdateState>,
    download: Mutex<Option<CancellationToken>>,
}

impl Default for Updates {
    fn default() -> Self {
        Self {
            state: Mutex::new(UpdateState::Idle),
            download: Mutex::new(None),
        }
    }
}

impl Updates {
    pub fn state(&self) -> UpdateState {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, UpdateState> {
        // a poisoned lock only means a panic elsewhere while holding it; the state is plain data
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a check; `false` while a download runs or an update waits for the restart.
    pub fn begin_check(&self) -> bool {
        let mut state = self.lock();
        if matches!(
            *state,
            UpdateState::Checking
                | UpdateState::Downloading { .. }
                | UpdateState::Installing { .. }
                | UpdateState::Installed { .. }
        ) {
            return false;
        }
        *state = UpdateState::Checking;
        true
    }

    /// The check's answer: a release, nothing newer, or why it could not be asked.
    pub fn checked(&self, answer: Result<Option<Offer>, String>) {
        let mut state = self.lock();
        if *state != UpdateState::Checking {
            return;
        }
        *state = match answer {
            Ok(Some(offer)) => UpdateState::Available { offer },
            Ok(None) => UpdateState::UpToDate {
                checked_at: store::now_rfc3339(),
            },
            Err(message) => UpdateState::Failed {
                step: UpdateStep::Check,
                message,
                offer: None,
            },
        };
    }

    /// Starts downloading the offered release (also after a failed try of it); its token
    /// cancels the download.
    pub fn begin_download(&self) -> Result<(Offer, CancellationToken), StationError> {
        let mut state = self.lock();
        let offer = match &*state {
            UpdateState::Available { offer }
            | UpdateState::Failed {
                offer: Some(offer), ..
            } => offer.clone(),
            UpdateState::Downloading { .. } | UpdateState::Installing { .. } => {
                return Err(StationError::InvalidRequest(
                    "the update is being installed already".into(),
                ))
            }
            _ => return Err(StationError::InvalidRequest("no update is offered".into())),
        };
        *state = UpdateState::Downloading {
            offer: offer.clone(),
            received: 0,
            total: None,
        };
        let cancel = CancellationToken::new();
        *self.download.lock().unwrap_or_else(|p| p.into_inner()) = Some(cancel.clone());
        Ok((offer, cancel))
    }

    /// Bytes of the package received so far.
    pub fn progress(&self, chunk: u64, total: Option<u64>) {
        if let UpdateState::Downloading {
            received, total: t, ..
        } = &mut *self.lock()
        {
            *received += chunk;
            *t = total;
        }
    }

    /// The package is downloaded and verified: from here it is put in place, which a cancel
    /// no longer stops. `false` when the download was cancelled meanwhile (install nothing).
    pub fn begin_install(&self) -> bool {
        let token = self
            .download
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let mut state = self.lock();
        match (&*state, token) {
            (UpdateState::Downloading { offer, .. }, Some(token)) if !token.is_cancelled() => {
                *state = UpdateState::Installing {
                    offer: offer.clone(),
                };
                true
            }
            _ => false,
        }
    }

    /// The update ended: installed (verified and in place) or failed at `step`.
    pub fn finished(&self, outcome: Result<(), (UpdateStep, String)>) {
        self.download
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let mut state = self.lock();
        let (UpdateState::Downloading { offer, .. } | UpdateState::Installing { offer }) = &*state
        else {
            return;
        };
        *state = match outcome {
            Ok(()) => UpdateState::Installed {
                version: offer.version.clone(),
            },
            Err((step, message)) => UpdateState::Failed {
                step,
                message,
                offer: Some(offer.clone()),
            },
        };
    }

    /// Stops a running download; the offer stays (nothing was installed).
    pub fn cancel(&self) -> bool {
        let Some(cancel) = self
            .download
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return false;
        };
        cancel.cancel();
        let mut state = self.lock();
        if let UpdateState::Downloading { offer, .. } = &*state {
            *state = UpdateState::Available {
                offer: offer.clone(),
            };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> Offer {
        Offer {
            version: "0.2.0".into(),
            current_version: "0.1.0".into(),
            notes: Some("Faster".into()),
            date: None,
        }
    }

    #[test]
    fn the_endpoint_is_the_routers_over_https_or_loopback() {
        assert_eq!(
            update_endpoint("https://router.example.org/").unwrap(),
            "https://router.example.org/station/v1/updates/{{target}}/{{arch}}/{{bundle_type}}/{{current_version}}"
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://[::1]:9",
            "http://localhost:1",
        ] {
            assert!(update_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://router.example.org",
            "ftp://127.0.0.1",
            "not a url",
            "http://10.0.0.1",
        ] {
            assert!(update_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_update_is_installed_only_after_its_download_finished_well() {
        let updates = Updates::default();
        assert!(updates.begin_download().is_err(), "nothing offered yet");
        assert!(updates.begin_check());
        assert!(!updates.begin_check(), "one check at a time");
        updates.checked(Ok(Some(offer())));
        let (offered, _cancel) = updates.begin_download().unwrap();
        assert_eq!(offered, offer());
        assert!(updates.begin_download().is_err(), "one download at a time");
        assert!(!updates.begin_check(), "no check while downloading");
        updates.progress(100, Some(1000));
        updates.progress(250, Some(1000));
        assert!(matches!(
            updates.state(),
            UpdateState::Downloading {
                received: 350,
                total: Some(1000),
                ..
            }
        ));
        updates.finished(Err((UpdateStep::Verify, "bad signature".into())));
        assert!(
            !updates.begin_install(),
            "a failed download is not installed"
        );
        let UpdateState::Failed {
            step,
            offer: Some(_),
            ..
        } = updates.state()
        else {
            panic!("{:?}", updates.state())
        };
        assert_eq!(step, UpdateStep::Verify);
        // tried again from the failure, then installed
        updates.begin_download().unwrap();
        assert!(updates.begin_install());
        assert!(!updates.cancel(), "installing: too late to cancel");
        updates.finished(Ok(()));
        assert_eq!(
            updates.state(),
            UpdateState::Installed {
                version: "0.2.0".into()
            }
        );
        assert!(!updates.begin_check(), "installed: the restart comes first");
    }

    #[test]
    fn a_cancelled_download_leaves_the_offer_and_installs_nothing() {
        let updates = Updates::default();
        updates.begin_check();
        updates.checked(Ok(Some(offer())));
        let (_, token) = updates.begin_download().unwrap();
        assert!(updates.cancel());
        assert!(token.is_cancelled());
        assert_eq!(updates.state(), UpdateState::Available { offer: offer() });
        // the download's own end after the cancel installs nothing and changes nothing
        assert!(!updates.begin_install());
        updates.finished(Ok(()));
        assert_eq!(updates.state(), UpdateState::Available { offer: offer() });
        assert!(!updates.cancel(), "nothing left to cancel");
    }

    #[test]
    fn a_check_says_up_to_date_or_why_it_failed() {
        let updates = Updates::default();
        updates.begin_check();
        updates.checked(Ok(None));
        assert!(matches!(updates.state(), UpdateState::UpToDate { .. }));
        updates.begin_check();
        updates.checked(Err("the router did not answer".into()));
        assert!(matches!(
            updates.state(),
            UpdateState::Failed {
                step: UpdateStep::Check,
                offer: None,
                ..
            }
        ));
    }
}
