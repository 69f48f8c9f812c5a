//! The station releases this router offers (`[updates]`): a folder holding `latest.json` in the
//! Tauri updater's static format and the packages it names. The manifest is read on every
//! check, so publishing is copying the packages in and then replacing `latest.json` (rename it
//! into place: a half-written file is refused, never offered). The router checks the manifest's
//! shape, not the signatures: the station holds the public key and installs only what verifies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::Deserialize;

/// The manifest's file name in the updates folder.
pub const MANIFEST: &str = "latest.json";

/// A manifest larger than this is not a manifest.
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("the update manifest {0} cannot be read: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("the update manifest {path} is larger than {MAX_MANIFEST_BYTES} bytes ({bytes})")]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("the update manifest {0} is not valid: {1}")]
    Invalid(PathBuf, String),
}

/// One platform's package in the manifest: a file name in the updates folder or an absolute
/// URL, and its signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub url: String,
    pub signature: String,
}

impl Package {
    /// The file in the updates folder this package is, when it is one (not a URL elsewhere).
    pub fn local_file(&self) -> Option<&str> {
        (!self.url.contains("://")).then_some(self.url.as_str())
    }
}

/// `latest.json`, checked.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub version: Version,
    pub notes: Option<String>,
    pub pub_date: Option<String>,
    /// By platform key: `{os}-{arch}-{bundle}` (`linux-x86_64-appimage`) or `{os}-{arch}`.
    pub platforms: BTreeMap<String, Package>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    version: String,
    notes: Option<String>,
    pub_date: Option<String>,
    platforms: BTreeMap<String, Package>,
}

impl Manifest {
    /// Reads and checks `dir/latest.json`; `Ok(None)` when there is none (nothing published).
    pub fn load(dir: &Path) -> Result<Option<Self>, UpdateError> {
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::metadata(&path) {
            Ok(meta) if meta.len() > MAX_MANIFEST_BYTES => {
                return Err(UpdateError::TooLarge {
                    path,
                    bytes: meta.len(),
                })
            }
            Ok(_) => std::fs::read(&path).map_err(|e| UpdateError::Read(path.clone(), e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(UpdateError::Read(path, e)),
        };
        Self::parse(&bytes, dir)
            .map(Some)
            .map_err(|message| UpdateError::Invalid(path, message))
    }

    fn parse(bytes: &[u8], dir: &Path) -> Result<Self, String> {
        let raw: RawManifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let version = Version::parse(raw.version.trim_start_matches('v'))
            .map_err(|e| format!("version {:?} is not semver: {e}", raw.version))?;
        if let Some(date) = &raw.pub_date {
            time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("pub_date {date:?} is not RFC 3339: {e}"))?;
        }
        if raw.platforms.is_empty() {
            return Err("it names no platform".into());
        }
        for (key, package) in &raw.platforms {
            if !valid_platform_key(key) {
                return Err(format!(
                    "platform {key:?} is not OS-ARCH or OS-ARCH-BUNDLE (linux-x86_64-appimage)"
                ));
            }
            check_signature(&package.signature).map_err(|e| format!("platform {key}: {e}"))?;
            match package.local_file() {
                Some(name) if !valid_file_name(name) => {
                    return Err(format!(
                        "platform {key}: {name:?} is neither a file name in the updates folder nor an absolute URL"
                    ))
                }
                Some(name) if !dir.join(name).is_file() => {
                    return Err(format!(
                        "platform {key}: {name} is not in the updates folder {}",
                        dir.display()
                    ))
                }
                Some(_) => {}
                None => {
                    let url = url::Url::parse(&package.url)
                        .map_err(|e| format!("platform {key}: {:?}: {e}", package.url))?;
                    if !matches!(url.scheme(), "https" | "http") {
                        return Err(format!(
                            "platform {key}: {} is not an http(s) URL",
                            package.url
                        ));
                    }
                }
            }
        }
        Ok(Self {
            version,
            notes: raw.notes,
            pub_date: raw.pub_date,
            platforms: raw.platforms,
        })
    }

    /// The package for a station on `os`/`arch` installed as `bundle` at version `current`:
    /// none when this release is not newer, or has nothing for that platform. The package
    /// kind's own entry first (an AppImage is not replaced by a .deb), then the platform's.
    pub fn offer(&self, current: &Version, os: &str, arch: &str, bundle: &str) -> Option<&Package> {
        if self.version <= *current {
            return None;
        }
        self.platforms
            .get(&format!("{os}-{arch}-{bundle}"))
            .or_else(|| self.platforms.get(&format!("{os}-{arch}")))
    }

    /// Whether `name` is a package of this release in the updates folder: only those are served.
    pub fn serves(&self, name: &str) -> bool {
        self.platforms
            .values()
            .any(|p| p.local_file() == Some(name))
    }
}

fn valid_platform_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('-').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// A plain file name: letters, digits, space, `._-+`; not hidden, no separator, no `..`.
pub fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b'_' | b'-' | b'+'))
}

/// A signature is base64 of a minisign signature file's text: its first line an untrusted
/// comment, then the signature. Whether it verifies is the station's to find out.
fn check_signature(signature: &str) -> Result<(), String> {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|e| format!("the signature is not base64: {e}"))?;
    let text = String::from_utf8(text).map_err(|_| "the signature is not text".to_owned())?;
    if !text.starts_with("untrusted comment:") || text.lines().count() < 2 {
        return Err("the signature is not a minisign signature (the .sig file's text)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .encode("untrusted comment: signature\nRUQ=\ntrusted comment: x\nAA==\n")
    }

    fn folder(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app_0.2.0.AppImage"), b"\x7fELF").unwrap();
        std::fs::write(dir.path().join(MANIFEST), manifest).unwrap();
        dir
    }

    fn manifest(platforms: &str) -> String {
        format!(
            r#"{{"version": "0.2.0", "notes": "New", "pub_date": "2026-12-01T10:00:00Z", "platforms": {{{platforms}}}}}"#
        )
    }

    #[test]
    fn offers_the_package_kinds_own_entry_and_only_to_older_stations() {
        let dir = folder(&manifest(&format!(
            r#""linux-x86_64-appimage": {{"url": "app_0.2.0.AppImage", "signature": "{s}"}},
               "linux-x86_64": {{"url": "https://example.org/app.deb", "signature": "{s}"}}"#,
            s = sig()
        )));
        let m = Manifest::load(dir.path()).unwrap().unwrap();
        let old = Version::new(0, 1, 0);
        assert_eq!(
            m.offer(&old, "linux", "x86_64", "appimage").unwrap().url,
            "app_0.2.0.AppImage"
        );
        assert_eq!(
            m.offer(&old, "linux", "x86_64", "deb").unwrap().url,
            "https://example.org/app.deb"
        );
        assert!(m.offer(&old, "windows", "x86_64", "msi").is_none());
        assert!(m
            .offer(&Version::new(0, 2, 0), "linux", "x86_64", "appimage")
            .is_none());
        assert!(m
            .offer(&Version::new(1, 0, 0), "linux", "x86_64", "appimage")
            .is_none());
        assert!(m.serves("app_0.2.0.AppImage"));
        assert!(!m.serves(MANIFEST));
    }

    #[test]
    fn no_manifest_is_nothing_published() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Manifest::load(dir.path()).unwrap().is_none());
    }

    #[test]
    fn a_broken_manifest_is_refused_with_its_reason() {
        let s = sig();
        for (manifest, says) in [
            ("{\"version\": \"0.2".to_owned(), "EOF"),
            (
                r#"{"version": "soon", "platforms": {}}"#.to_owned(),
                "not semver",
            ),
            (manifest(""), "no platform"),
            (
                manifest(&format!(
                    r#""linux x86": {{"url": "app_0.2.0.AppImage", "signature": "{s}"}}"#
                )),
                "OS-ARCH",
            ),
            (
                manifest(&format!(
                    r#""linux-x86_64": {{"url": "../etc/passwd", "signature": "{s}"}}"#
                )),
                "neither a file name",
            ),
            (
                manifest(&format!(
                    r#""linux-x86_64": {{"url": "missing.AppImage", "signature": "{s}"}}"#
                )),
                "not in the updates folder",
            ),
            (
                manifest(&format!(
                    r#""linux-x86_64": {{"url": "file:///etc/passwd", "signature": "{s}"}}"#
                )),
                "not an http(s) URL",
            ),
            (
                manifest(
                    r#""linux-x86_64": {"url": "app_0.2.0.AppImage", "signature": "not base64!"}"#,
                ),
                "not base64",
            ),
            (
                manifest(
                    r#""linux-x86_64": {"url": "app_0.2.0.AppImage", "signature": "aGVsbG8="}"#,
                ),
                "not a minisign signature",
            ),
        ] {
            let dir = folder(&manifest);
            let error = Manifest::load(dir.path()).unwrap_err().to_string();
            assert!(error.contains(says), "{manifest}: {error}");
        }
    }

    #[test]
    fn file_names_cannot_leave_the_folder() {
        for bad in ["", ".hidden", "../x", "a/b", "a\\b", "a\0b", "a\nb"] {
            assert!(!valid_file_name(bad), "{bad:?}");
        }
        assert!(valid_file_name("Review Station_0.1.1_amd64.AppImage"));
    }
}
