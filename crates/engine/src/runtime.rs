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
    /// Installed only on request (the GPU runtime); its absence does not disable the engine.
    #[serde(default)]
    pub optional: bool,
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
    /// `ok`, `missing`, `corrupt`, or `not_installed` for an optional file.
    pub state: String,
    pub detail: Option<String>,
}

/// Checks every manifest file in `models_dir`: present, and the sha256 the manifest records.
pub fn verify_models(models_dir: &Path) -> Result<Vec<ModelStatus>, RuntimeError> {
    let mut stamps = Stamps::load(models_dir);
    let statuses = manifest()?
        .into_iter()
        .map(|entry| {
            let path = models_dir.join(&entry.file);
            let (state, detail) = match hash_file(&path, &mut stamps) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && entry.optional => (
                    "not_installed",
                    Some("optional: `python3 models/fetch.py --gpu` installs it".to_string()),
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                    "missing",
                    Some("not installed: run `python3 models/fetch.py`".to_string()),
                ),
                Err(e) => ("missing", Some(format!("unreadable: {e}"))),
                Ok(actual) => {
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
        .collect();
    stamps.save(models_dir);
    Ok(statuses)
}

/// Which execution provider sessions should use: `REVIEW_STATION_PROVIDER=cpu|cuda|auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderPreference {
    /// CUDA when an NVIDIA GPU and the GPU runtime are installed, CPU otherwise.
    Auto,
    Cpu,
    Cuda,
}

impl ProviderPreference {
    pub fn from_env() -> Self {
        match std::env::var("REVIEW_STATION_PROVIDER").as_deref() {
            Ok("cpu") => Self::Cpu,
            Ok("cuda") => Self::Cuda,
            _ => Self::Auto,
        }
    }
}

pub const CPU_PROVIDER: &str = "CPUExecutionProvider";
pub const CUDA_PROVIDER: &str = "CUDAExecutionProvider";

/// A file's sha256, streamed (the GPU runtime holds files of half a gigabyte). Hashes are kept
/// in `<models>/.verified.toml` keyed by size and modification time, so a restart does not hash
/// gigabytes again; any change to a file changes its stamp and it is hashed anew.
fn hash_file(path: &Path, stamps: &mut Stamps) -> std::io::Result<String> {
    let metadata = std::fs::metadata(path)?;
    let modified_ns = metadata
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos().to_string())
        .unwrap_or_default();
    let key = path.display().to_string();
    if let Some(stamp) = stamps.file.get(&key) {
        if stamp.len == metadata.len().to_string() && stamp.modified_ns == modified_ns {
            return Ok(stamp.sha256.clone());
        }
    }
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    let sha = hex::encode(hasher.finalize());
    stamps.file.insert(
        key,
        Stamp {
            len: metadata.len().to_string(),
            modified_ns,
            sha256: sha.clone(),
        },
    );
    stamps.changed = true;
    Ok(sha)
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stamps {
    #[serde(default)]
    file: std::collections::BTreeMap<String, Stamp>,
    #[serde(skip)]
    changed: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stamp {
    len: String,
    modified_ns: String,
    sha256: String,
}

const STAMPS_FILE: &str = ".verified.toml";

impl Stamps {
    fn load(models_dir: &Path) -> Self {
        std::fs::read_to_string(models_dir.join(STAMPS_FILE))
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Best effort: without it the next start hashes again, nothing worse.
    fn save(&self, models_dir: &Path) {
        if !self.changed || !models_dir.is_dir() {
            return;
        }
        let Ok(text) = toml::to_string(self) else {
            return;
        };
        let tmp = models_dir.join(format!("{STAMPS_FILE}.{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, models_dir.join(STAMPS_FILE));
        }
    }
}

/// The loaded ONNX Runtime. Create it once per process.
#[derive(Debug)]
pub struct Runtime {
    environment: ort::environment::Environment,
    library: PathBuf,
    /// Sessions ask for CUDA first when this is set.
    try_cuda: bool,
    /// Why sessions run on the CPU although a GPU was wanted or present; `None` when they do not,
    /// or when no GPU was ever in question.
    cpu_reason: std::sync::Mutex<Option<String>>,
    /// Set once a session was created on the CUDA provider.
    cuda_active: std::sync::atomic::AtomicBool,
}

/// ONNX Runtime allows one environment per process: the loaded runtime is shared.
static SHARED: std::sync::Mutex<Option<std::sync::Arc<Runtime>>> = std::sync::Mutex::new(None);

impl Runtime {
    /// The process's runtime, loading ONNX Runtime from `models_dir` on first use: the GPU
    /// build when it is installed, an NVIDIA device is present and the preference allows it, the
    /// CPU build otherwise. A failed load is retried next time, so installing the models while
    /// the app runs makes the engine available.
    pub fn shared(models_dir: &Path) -> Result<std::sync::Arc<Self>, RuntimeError> {
        // The guarded value is an Option<Arc>; a panic elsewhere cannot leave it half-written.
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(runtime) = shared.as_ref() {
            return Ok(std::sync::Arc::clone(runtime));
        }
        let runtime = std::sync::Arc::new(Self::load(models_dir, ProviderPreference::from_env())?);
        *shared = Some(std::sync::Arc::clone(&runtime));
        Ok(runtime)
    }

    fn load(models_dir: &Path, preference: ProviderPreference) -> Result<Self, RuntimeError> {
        let choice = choose_library(models_dir, preference, nvidia_device_present())?;
        let library = choice.library;
        let fail = |detail: String| RuntimeError::Library {
            path: library.clone(),
            detail,
        };
        if !library.is_file() {
            return Err(fail("not installed: run `python3 models/fetch.py`".into()));
        }
        let mut cpu_reason = choice.cpu_reason;
        if choice.gpu {
            // The CUDA provider resolves CUDA and cuDNN when a session asks for it; the fetch
            // step puts them beside the GPU library, so load them from there first.
            let dir = library.parent().unwrap_or(models_dir);
            if let Err(e) = ort::ep::cuda::preload_dylibs(Some(dir), Some(dir)) {
                cpu_reason = Some(format!("CUDA libraries could not be loaded: {e}"));
            }
        }
        let builder = ort::init_from(&library).map_err(|e| fail(e.to_string()))?;
        let environment = builder
            .with_name("review-station")
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let cuda_built_in =
            <ort::ep::CUDA as ort::ep::ExecutionProvider>::is_available().unwrap_or(false);
        let try_cuda = choice.gpu && cpu_reason.is_none() && cuda_built_in;
        if choice.gpu && !cuda_built_in && cpu_reason.is_none() {
            cpu_reason = Some(format!("{} has no CUDA provider", library.display()));
        }
        Ok(Self {
            environment,
            library,
            try_cuda,
            cpu_reason: std::sync::Mutex::new(cpu_reason),
            cuda_active: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn library(&self) -> &Path {
        &self.library
    }

    /// The execution provider sessions run on.
    pub fn provider(&self) -> &'static str {
        if self.cuda_active.load(std::sync::atomic::Ordering::Relaxed) {
            CUDA_PROVIDER
        } else {
            CPU_PROVIDER
        }
    }

    /// Whether sessions are created on CUDA first (the GPU build loaded, a device present).
    pub fn wants_gpu(&self) -> bool {
        self.try_cuda
    }

    /// Why sessions run on the CPU although a GPU was wanted or present.
    pub fn cpu_reason(&self) -> Option<String> {
        self.cpu_reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Opens a model with full graph optimization and `threads` intra-op threads, on CUDA when
    /// the runtime has it (registration must succeed, else the session is built again on CPU and
    /// the reason kept: a silent fallback would misreport the provider).
    pub fn open(&self, name: &str, path: &Path, threads: usize) -> Result<Model, RuntimeError> {
        let fail = |detail: String| RuntimeError::Model {
            name: name.into(),
            path: path.to_path_buf(),
            detail,
        };
        if !path.is_file() {
            return Err(fail("not installed: run `python3 models/fetch.py`".into()));
        }
        let builder = || {
            ort::session::Session::builder(&self.environment)
                .map_err(|e| fail(e.to_string()))?
                .with_optimization_level(ort::session::builder::GraphOptimizationLevel::All)
                .map_err(|e| fail(e.to_string()))?
                .with_intra_threads(threads.max(1))
                .map_err(|e| fail(e.to_string()))
        };
        if self.try_cuda {
            let attempt = builder()?
                .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                .map_err(|e| e.to_string())
                .and_then(|mut b| b.commit_from_file(path).map_err(|e| e.to_string()));
            match attempt {
                Ok(session) => {
                    self.cuda_active
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    return Ok(Model {
                        name: name.into(),
                        provider: CUDA_PROVIDER,
                        session,
                    });
                }
                Err(detail) => {
                    tracing::warn!(model = name, %detail, "CUDA session failed; using CPU");
                    *self
                        .cpu_reason
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(format!("CUDA session for {name} failed: {detail}"));
                }
            }
        }
        let session = builder()?
            .commit_from_file(path)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Model {
            name: name.into(),
            provider: CPU_PROVIDER,
            session,
        })
    }
}

/// Which ONNX Runtime build to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryChoice {
    pub library: PathBuf,
    pub gpu: bool,
    pub cpu_reason: Option<String>,
}

/// The GPU build when it is installed, a device is present and the preference allows it.
pub fn choose_library(
    models_dir: &Path,
    preference: ProviderPreference,
    device_present: bool,
) -> Result<LibraryChoice, RuntimeError> {
    let cpu = runtime_library(models_dir)?;
    let gpu = gpu_runtime_library(models_dir)?;
    let cpu_with = |reason: Option<String>| LibraryChoice {
        library: cpu.clone(),
        gpu: false,
        cpu_reason: reason,
    };
    Ok(match preference {
        ProviderPreference::Cpu => cpu_with(None),
        _ if !device_present => cpu_with(
            (preference == ProviderPreference::Cuda)
                .then(|| "CUDA was asked for, but no NVIDIA GPU is present".to_string()),
        ),
        _ => match gpu {
            Some(library) if library.is_file() => LibraryChoice {
                library,
                gpu: true,
                cpu_reason: None,
            },
            _ => cpu_with(Some(
                "an NVIDIA GPU is present but the GPU runtime is not installed: run \
                 `python3 models/fetch.py --gpu`"
                    .to_string(),
            )),
        },
    })
}

/// An NVIDIA driver exposes its control device; without it CUDA cannot run.
pub fn nvidia_device_present() -> bool {
    Path::new("/dev/nvidiactl").exists()
}

/// One model session. `run` needs `&mut self`: give each worker its own.
#[derive(Debug)]
pub struct Model {
    name: String,
    provider: &'static str,
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

    /// The execution provider this session runs on.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// A custom metadata value of the model (e.g. the recognizer's `character` dictionary).
    pub fn metadata(&self, key: &str) -> Option<String> {
        self.session.metadata().ok().and_then(|m| m.custom(key))
    }

    /// Runs the model on one f32 input tensor and returns every output.
    pub fn run(&mut self, shape: &[usize], data: Vec<f32>) -> Result<Vec<Output>, RuntimeError> {
        self.run_with(shape, data, |outputs| {
            outputs
                .iter()
                .map(|o| Output {
                    name: o.name.to_owned(),
                    shape: o.shape.clone(),
                    data: o.data.to_vec(),
                })
                .collect()
        })
    }

    /// Runs the model and lets `read` look at its outputs where the runtime left them: the
    /// recognizer's output is a probability for each of 18,710 symbols at every step (23 MB for
    /// a batch of six lines), which copying cost as much as reading it (BENCHMARKS.md, "OCR").
    pub fn run_with<R>(
        &mut self,
        shape: &[usize],
        data: Vec<f32>,
        read: impl FnOnce(&[OutputView<'_>]) -> R,
    ) -> Result<R, RuntimeError> {
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
        let views = output_names
            .iter()
            .map(|output| {
                let (shape, data) = outputs[output.as_str()]
                    .try_extract_tensor::<f32>()
                    .map_err(|e| RuntimeError::Inference {
                        name: name.clone(),
                        detail: e.to_string(),
                    })?;
                Ok(OutputView {
                    name: output,
                    shape: shape
                        .iter()
                        .map(|&d| usize::try_from(d).unwrap_or(0))
                        .collect(),
                    data,
                })
            })
            .collect::<Result<Vec<_>, RuntimeError>>()?;
        Ok(read(&views))
    }
}

/// One output of a model run, borrowed from the runtime.
#[derive(Debug)]
pub struct OutputView<'a> {
    pub name: &'a str,
    pub shape: Vec<usize>,
    pub data: &'a [f32],
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

/// The GPU build's path inside a models directory, when the manifest lists one.
pub fn gpu_runtime_library(models_dir: &Path) -> Result<Option<PathBuf>, RuntimeError> {
    Ok(manifest()?
        .into_iter()
        .find(|e| e.name == "onnxruntime-gpu")
        .map(|entry| models_dir.join(entry.file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gpu_build_is_chosen_only_with_a_device_and_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let gpu = gpu_runtime_library(dir.path()).unwrap().unwrap();
        let cpu = runtime_library(dir.path()).unwrap();
        let choose = |p, device| choose_library(dir.path(), p, device).unwrap();

        let no_device = choose(ProviderPreference::Auto, false);
        assert_eq!(
            (
                no_device.library.clone(),
                no_device.gpu,
                no_device.cpu_reason
            ),
            (cpu.clone(), false, None)
        );
        let asked = choose(ProviderPreference::Cuda, false);
        assert!(asked.cpu_reason.unwrap().contains("no NVIDIA GPU"));
        let not_installed = choose(ProviderPreference::Auto, true);
        assert!(!not_installed.gpu);
        assert!(not_installed.cpu_reason.unwrap().contains("--gpu"));

        std::fs::create_dir_all(gpu.parent().unwrap()).unwrap();
        std::fs::write(&gpu, b"").unwrap();
        let installed = choose(ProviderPreference::Auto, true);
        assert_eq!((installed.library, installed.gpu), (gpu, true));
        let forced_cpu = choose(ProviderPreference::Cpu, true);
        assert_eq!((forced_cpu.library, forced_cpu.gpu), (cpu, false));
    }
}
