//! Which folder the engine's models and native runtimes (ONNX Runtime, PDFium) come from, for
//! a source build and for an installed package alike.

use std::path::{Path, PathBuf};

/// Where an installed package keeps them, beside its `bin/`: `/usr/share/review-station/models`
/// for the .deb, `$APPDIR/usr/share/review-station/models` inside the AppImage (not under
/// `lib/`: the AppImage's tooling rewrites libraries there, which their sha256 would refuse).
const PACKAGED: &str = "../share/review-station/models";

/// `$REVIEW_STATION_MODELS_DIR` when set; else the models the installed package carries, when
/// `executable` is an installed one (its folder has them, with the runtimes); else the fetch
/// step's folder (a source build).
pub fn models_dir(executable: Option<&Path>) -> PathBuf {
    choose(
        std::env::var_os("REVIEW_STATION_MODELS_DIR").map(PathBuf::from),
        executable,
        engine::runtime::default_models_dir(),
    )
}

fn choose(from_env: Option<PathBuf>, executable: Option<&Path>, fetched: PathBuf) -> PathBuf {
    if let Some(dir) = from_env {
        return dir;
    }
    executable
        .and_then(Path::parent)
        .map(|bin| bin.join(PACKAGED))
        .filter(|packaged| packaged.join("runtime").is_dir())
        // `/usr/share/…` rather than `/usr/bin/../share/…` in the engine panel and the logs
        .map(|packaged| packaged.canonicalize().unwrap_or(packaged))
        .unwrap_or(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_then_the_package_then_the_fetched_folder() {
        let usr = tempfile::tempdir().unwrap();
        let exe = usr.path().join("bin/review-station");
        let fetched = PathBuf::from("/home/ana/.cache/review-station/models");
        // a source build (target/debug/review-station has no models beside it): the fetched ones
        assert_eq!(choose(None, Some(&exe), fetched.clone()), fetched);
        assert_eq!(choose(None, None, fetched.clone()), fetched);
        std::fs::create_dir_all(usr.path().join("bin")).unwrap();
        std::fs::create_dir_all(usr.path().join("share/review-station/models/runtime")).unwrap();
        assert_eq!(
            choose(None, Some(&exe), fetched.clone()),
            usr.path()
                .canonicalize()
                .unwrap()
                .join("share/review-station/models")
        );
        let chosen = PathBuf::from("/srv/models");
        assert_eq!(choose(Some(chosen.clone()), Some(&exe), fetched), chosen);
    }
}
