//! ONNX Runtime, loaded at run time from the library that `models/fetch.py` installs, and the
//! model files listed in `models/manifest.toml`. No `ort` type leaves this module: callers see
//! [`Runtime`], [`Model`] and plain arrays.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

/// The manifest, as committed; it names every file the engine may load and its hash.
pub const MANIFEST_TOML: &str = include_str!("../../../models/manifest.toml");

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime library {path}: {detail}")]
    Library { path: PathBuf, detail: String },
    #[error("model {name} ({path}): {detail}")]
    Model {
        name: String,
        path: PathBuf,
        detail: String,
    },
    #[error("inference failed in {name}: {detail}")]
    Inference { name: String, detail: String },
    #[error("invalid models manifest: {0}")]
    Manifest(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub purpose: String,
    pub package: String,
    pub kind: String,
    pub file: String,
    pub sha256: String,
    pub license: String,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    model: Vec<ManifestEntry>,
}

pub fn manifest() -> Result<Vec<ManifestEntry>, RuntimeError> {
    toml::from_str::<Manifest>(MANIFEST_TOML)
        .map(|m| m.model)
        .map_err(|e| RuntimeError::Manifest(e.to_string()))
}

/// One manifest entry as found on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ModelStatus {
    pub name: String,
    pub purpose: String,
    /// Source package, e.g. `rapidocr==3.10.0`: the model version shown to users.
    pub package: String,
    pub license: String,
    pub path: String,
    /// `ok`, `missing` or `corrupt`.
    pub state: String,
    pub detail: Option<String>,
}

/// Checks every manifest file in `models_dir`: present, and the sha256 the manifest records.
pub fn verify_models(models_dir: &Path) -> Result<Vec<ModelStatus>, RuntimeError> {
    Ok(manifest()?
        .into_iter()
        .map(|entry| {
            let path = models_dir.join(&entry.file);
            let (state, detail) = match std::fs::read(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                    "missing",
                    Some("not installed: run `python3 models/fetch.py`".to_string()),
                ),
                Err(e) => ("missing", Some(format!("unreadable: {e}"))),
                Ok(bytes) => {
                    let actual = hex::encode(Sha256::digest(&bytes));
                    if actual == entry.sha256 {
                        ("ok", None)
                    } else {
                        (
                            "corrupt",
                            Some(format!(
                                "sha256 {actual}, expected {}; run `python3 models/fetch.py`",
                                entry.sha256
                            )),
                        )
                    }
                }
            };
            ModelStatus {
                name: entry.name,
                purpose: entry.purpose,
                package: entry.package,
                license: entry.license,
                path: path.display().to_string(),
                state: state.into(),
                detail,
            }
        })
        .collect())
}

/// The loaded ONNX Runtime. Create it once per process.
#[derive(Debug)]
pub struct Runtime {
    environment: ort::environment::Environment,
    library: PathBuf,
}

/// ONNX Runtime allows one environment per process: the loaded runtime is shared.
static SHARED: std::sync::Mutex<Option<std::sync::Arc<Runtime>>> = std::sync::Mutex::new(None);

impl Runtime {
    /// The process's runtime, loading the shared library at `library` (e.g.
    /// `runtime/libonnxruntime.so.1.31.1`) on first use. A failed load is retried next time, so
    /// installing the models while the app runs makes the engine available.
    pub fn shared(library: &Path) -> Result<std::sync::Arc<Self>, RuntimeError> {
        // The guarded value is an Option<Arc>; a panic elsewhere cannot leave it half-written.
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(runtime) = shared.as_ref() {
            return Ok(std::sync::Arc::clone(runtime));
        }
        let runtime = std::sync::Arc::new(Self::load(library)?);
        *shared = Some(std::sync::Arc::clone(&runtime));
        Ok(runtime)
    }

    fn load(library: &Path) -> Result<Self, RuntimeError> {
        let fail = |detail: String| RuntimeError::Library {
            path: library.to_path_buf(),
            detail,
        };
        if !library.is_file() {
            return Err(fail("not installed: run `python3 models/fetch.py`".into()));
        }
        let builder = ort::init_from(library).map_err(|e| fail(e.to_string()))?;
        let environment = builder
            .with_name("review-station")
            .build()
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            environment,
            library: library.to_path_buf(),
        })
    }

    pub fn library(&self) -> &Path {
        &self.library
    }

    /// The execution provider sessions run on. Only the CPU provider is registered in this build.
    pub fn provider(&self) -> &'static str {
        "CPUExecutionProvider"
    }

    /// Opens a model with full graph optimization and `threads` intra-op threads.
    pub fn open(&self, name: &str, path: &Path, threads: usize) -> Result<Model, RuntimeError> {
        let fail = |detail: String| RuntimeError::Model {
            name: name.into(),
            path: path.to_path_buf(),
            detail,
        };
        let session = ort::session::Session::builder(&self.environment)
            .map_err(|e| fail(e.to_string()))?
            .with_optimization_level(ort::session::builder::GraphOptimizationLevel::All)
            .map_err(|e| fail(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| fail(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Model {
            name: name.into(),
            session,
        })
    }
}

/// One model session. `run` needs `&mut self`: give each worker its own.
#[derive(Debug)]
pub struct Model {
    name: String,
    session: ort::session::Session,
}

/// An output tensor, copied out of the runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Model {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A custom metadata value of the model (e.g. the recognizer's `character` dictionary).
    pub fn metadata(&self, key: &str) -> Option<String> {
        self.session.metadata().ok().and_then(|m| m.custom(key))
    }

    /// Runs the model on one f32 input tensor and returns every output.
    pub fn run(&mut self, shape: &[usize], data: Vec<f32>) -> Result<Vec<Output>, RuntimeError> {
        let fail = |detail: String| RuntimeError::Inference {
            name: self.name.clone(),
            detail,
        };
        let input = ndarray::ArrayD::from_shape_vec(shape.to_vec(), data)
            .map_err(|e| fail(e.to_string()))?;
        let tensor = ort::value::Tensor::from_array(input).map_err(|e| fail(e.to_string()))?;
        let output_names: Vec<String> = self
            .session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let name = self.name.clone();
        let outputs =
            self.session
                .run(ort::inputs![tensor])
                .map_err(|e| RuntimeError::Inference {
                    name: name.clone(),
                    detail: e.to_string(),
                })?;
        output_names
            .into_iter()
            .map(|output| {
                let (shape, data) = outputs[output.as_str()]
                    .try_extract_tensor::<f32>()
                    .map_err(|e| RuntimeError::Inference {
                        name: name.clone(),
                        detail: e.to_string(),
                    })?;
                Ok(Output {
                    name: output,
                    shape: shape
                        .iter()
                        .map(|&d| usize::try_from(d).unwrap_or(0))
                        .collect(),
                    data: data.to_vec(),
                })
            })
            .collect()
    }
}

/// Where the fetch step installs models: `$REVIEW_STATION_MODELS_DIR`, else
/// `~/.cache/review-station/models`.
pub fn default_models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("REVIEW_STATION_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/review-station/models")
}

/// The runtime library's path inside a models directory.
pub fn runtime_library(models_dir: &Path) -> Result<PathBuf, RuntimeError> {
    let entry = manifest()?
        .into_iter()
        .find(|e| e.name == "onnxruntime")
        .ok_or_else(|| RuntimeError::Manifest("no onnxruntime entry".into()))?;
    Ok(models_dir.join(entry.file))
}
