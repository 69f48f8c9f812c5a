//! The engine as the app uses it: the runtime loaded once, every model session created once per
//! worker, and a pool of workers sized to the machine.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::category::{CategoryError, CategoryModel, Embedding};
use crate::intake::IntakeLimits;
use crate::ocr::{Ocr, OcrError, OcrOptions, TextLine};
use crate::pool::Pool;
use crate::runtime::{verify_models, ModelStatus, Runtime, RuntimeError};

/// How many workers, each with how many intra-op threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPlan {
    pub workers: usize,
    pub threads_per_worker: usize,
}

impl WorkerPlan {
    /// Up to 4 threads per session (the models gain little beyond that) and as many workers as
    /// the cores then allow; on a GPU two workers keep it busy while the CPU pre- and
    /// post-processes. `REVIEW_STATION_ENGINE_WORKERS` overrides the worker count.
    pub fn for_machine(cores: usize, gpu: bool) -> Self {
        let cores = cores.max(1);
        let threads_per_worker = cores.min(4);
        let workers = if gpu {
            2
        } else {
            (cores / threads_per_worker).max(1)
        };
        let workers = std::env::var("REVIEW_STATION_ENGINE_WORKERS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| (1..=64).contains(&n))
            .unwrap_or(workers);
        Self {
            workers,
            threads_per_worker,
        }
    }

    pub fn this_machine(gpu: bool) -> Self {
        Self::for_machine(
            std::thread::available_parallelism().map_or(2, usize::from),
            gpu,
        )
    }
}

/// Every session one worker needs.
#[derive(Debug)]
pub struct Worker {
    pub category: CategoryModel,
    pub ocr: Ocr,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error(transparent)]
    Category(#[from] CategoryError),
    #[error("models not usable: {0}")]
    Models(String),
}

/// The loaded engine: shared by every caller, safe to use from many threads.
#[derive(Debug)]
pub struct Engine {
    runtime: Arc<Runtime>,
    pool: Pool<Worker>,
    plan: WorkerPlan,
    models: Vec<ModelStatus>,
    models_dir: PathBuf,
    imagenet_classes: Vec<String>,
    category_model_sha256: String,
    ocr_detector: String,
}

impl Engine {
    /// Verifies the models against the manifest, loads the runtime and opens `plan.workers`
    /// sets of sessions. Takes about a second per worker on CPU; call it off the UI thread.
    pub fn open(models_dir: &Path, plan: Option<WorkerPlan>) -> Result<Self, EngineError> {
        let models = verify_models(models_dir)?;
        let broken: Vec<String> = models
            .iter()
            .filter(|m| m.state == "missing" || m.state == "corrupt")
            .map(|m| format!("{} is {}", m.name, m.state))
            .collect();
        if !broken.is_empty() {
            return Err(EngineError::Models(broken.join("; ")));
        }
        let runtime = Runtime::shared(models_dir)?;
        let plan = plan.unwrap_or_else(|| WorkerPlan::this_machine(runtime.wants_gpu()));
        let category_model = models_dir.join("category/efficientnet_lite0.onnx");
        let workers = (0..plan.workers)
            .map(|_| {
                Ok(Worker {
                    category: CategoryModel::open(
                        &runtime,
                        &category_model,
                        plan.threads_per_worker,
                    )?,
                    ocr: Ocr::open(
                        &runtime,
                        models_dir,
                        plan.threads_per_worker,
                        OcrOptions::default(),
                    )?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let imagenet_classes = workers.first().map_or_else(Vec::new, |w| {
            (0..1000)
                .map(|i| w.category.class_name(i).to_string())
                .collect()
        });
        let ocr_detector = workers
            .first()
            .map_or_else(String::new, |w| w.ocr.detector_name().to_string());
        let category_model_sha256 = crate::runtime::manifest()?
            .into_iter()
            .find(|e| e.name == "category")
            .map(|e| e.sha256)
            .unwrap_or_default();
        Ok(Self {
            runtime,
            pool: Pool::new(workers),
            imagenet_classes,
            category_model_sha256,
            ocr_detector,
            plan,
            models,
            models_dir: models_dir.to_path_buf(),
        })
    }

    pub fn provider(&self) -> &'static str {
        self.runtime.provider()
    }

    pub fn cpu_reason(&self) -> Option<String> {
        self.runtime.cpu_reason()
    }

    pub fn plan(&self) -> WorkerPlan {
        self.plan
    }

    pub fn models(&self) -> &[ModelStatus] {
        &self.models
    }

    pub fn models_dir(&self) -> &Path {
        &self.models_dir
    }

    /// `package==version` of a model by manifest name (recorded with every analysis).
    pub fn model_version(&self, name: &str) -> Option<&str> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.package.as_str())
    }

    /// What OCR results are recorded as produced by: the recognizer's package and the
    /// detector in use (`ocr-det-int8` on the CPU, `ocr-det` on a GPU).
    pub fn ocr_version(&self) -> String {
        format!(
            "{} ({})",
            self.model_version("ocr-rec").unwrap_or_default(),
            self.ocr_detector
        )
    }

    /// Embeds a photo for the category gate on a free worker (blocks while all are busy).
    pub fn embed(&self, bytes: &[u8], limits: &IntakeLimits) -> Result<Embedding, CategoryError> {
        self.pool
            .with(|worker| worker.category.embed(bytes, limits))
    }

    /// Reads every text line of an image on a free worker; also returns the seconds spent in
    /// the models.
    pub fn ocr(&self, image: &image::RgbImage) -> Result<(Vec<TextLine>, f64), OcrError> {
        self.pool.with(|worker| {
            let lines = worker.ocr.run(image)?;
            Ok((lines, worker.ocr.last_model_seconds))
        })
    }

    /// ImageNet class name by index, from the category model's metadata ("" when unknown).
    pub fn imagenet_class(&self, index: usize) -> String {
        self.imagenet_classes
            .get(index)
            .cloned()
            .unwrap_or_default()
    }

    /// All 1000 ImageNet class names, by index.
    pub fn imagenet_classes(&self) -> &[String] {
        &self.imagenet_classes
    }

    /// The category model's sha256: cached embeddings are keyed by it.
    pub fn category_model_sha256(&self) -> &str {
        &self.category_model_sha256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_fit_the_machine() {
        assert_eq!(
            WorkerPlan::for_machine(2, false),
            WorkerPlan {
                workers: 1,
                threads_per_worker: 2
            }
        );
        assert_eq!(
            WorkerPlan::for_machine(16, false),
            WorkerPlan {
                workers: 4,
                threads_per_worker: 4
            }
        );
        assert_eq!(WorkerPlan::for_machine(0, false).workers, 1);
        assert_eq!(WorkerPlan::for_machine(16, true).workers, 2);
    }
}
