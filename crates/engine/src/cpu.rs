//! The processor the engine runs on, as every OCR benchmark and the Engine panel print it.
//!
//! ONNX Runtime picks its int8 kernels by instruction set: with VNNI (AVX-512 VNNI or AVX-VNNI)
//! a u8×s8 product is summed into 32 bits exactly; on AVX2 or AVX-512 without VNNI pairs of
//! products are first added into a saturating 16-bit lane (`vpmaddubsw`). The detector is
//! quantized so that this never saturates (7-bit weights, `models/quantize_ocr_det.py`), but a
//! figure measured on one path says nothing of the other: it is printed beside every number.

use std::fmt;

/// The processor's model name and the instruction sets that choose ONNX Runtime's kernels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuInfo {
    /// `model name` of /proc/cpuinfo ("unknown" elsewhere).
    pub model: String,
    /// The features that matter here, as the running code detects them (CPUID): `avx2`,
    /// `avx512f`, `avx512bw`, `avx512vnni`, `avxvnni`.
    pub features: Vec<&'static str>,
}

/// Which int8 matrix kernels ONNX Runtime's CPU provider runs on this processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Path {
    /// u8×s8 summed exactly into 32 bits (AVX-512 VNNI or AVX-VNNI).
    Vnni,
    /// Pairs of u8×s8 products summed into a saturating 16-bit lane first.
    Avx512NoVnni,
    /// The same with 256-bit vectors.
    Avx2NoVnni,
    /// Neither: plain SSE kernels that widen to 16 bits first.
    Sse,
}

impl CpuInfo {
    /// Reads the processor once; cheap enough to call per benchmark.
    pub fn detect() -> Self {
        Self {
            model: model_name().unwrap_or_else(|| "unknown".into()),
            features: detected_features(),
        }
    }

    pub fn has(&self, feature: &str) -> bool {
        self.features.contains(&feature)
    }

    pub fn int8_path(&self) -> Int8Path {
        if self.has("avx512vnni") || self.has("avxvnni") {
            Int8Path::Vnni
        } else if self.has("avx512bw") {
            Int8Path::Avx512NoVnni
        } else if self.has("avx2") {
            Int8Path::Avx2NoVnni
        } else {
            Int8Path::Sse
        }
    }
}

impl fmt::Display for Int8Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Vnni => "VNNI",
            Self::Avx512NoVnni => "AVX-512 without VNNI",
            Self::Avx2NoVnni => "AVX2 without VNNI",
            Self::Sse => "SSE",
        })
    }
}

impl fmt::Display for CpuInfo {
    /// `AMD EPYC 9R14 96-Core Processor [avx2 avx512f avx512bw avx512vnni avxvnni; int8: VNNI]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}; int8: {}]",
            self.model,
            if self.features.is_empty() {
                "no AVX2".to_string()
            } else {
                self.features.join(" ")
            },
            self.int8_path()
        )
    }
}

fn model_name() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, name)| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

#[cfg(target_arch = "x86_64")]
fn detected_features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if std::arch::is_x86_feature_detected!("avx2") {
        features.push("avx2");
    }
    if std::arch::is_x86_feature_detected!("avx512f") {
        features.push("avx512f");
    }
    if std::arch::is_x86_feature_detected!("avx512bw") {
        features.push("avx512bw");
    }
    if std::arch::is_x86_feature_detected!("avx512vnni") {
        features.push("avx512vnni");
    }
    if std::arch::is_x86_feature_detected!("avxvnni") {
        features.push("avxvnni");
    }
    features
}

#[cfg(not(target_arch = "x86_64"))]
fn detected_features() -> Vec<&'static str> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_int8_path_follows_the_features() {
        let cpu = |features: Vec<&'static str>| CpuInfo {
            model: "test".into(),
            features,
        };
        assert_eq!(cpu(vec!["avx2"]).int8_path(), Int8Path::Avx2NoVnni);
        assert_eq!(
            cpu(vec!["avx2", "avx512f", "avx512bw"]).int8_path(),
            Int8Path::Avx512NoVnni
        );
        assert_eq!(
            cpu(vec!["avx2", "avx512f", "avx512bw", "avx512vnni"]).int8_path(),
            Int8Path::Vnni
        );
        assert_eq!(cpu(vec!["avx2", "avxvnni"]).int8_path(), Int8Path::Vnni);
        assert_eq!(cpu(vec![]).int8_path(), Int8Path::Sse);
        assert_eq!(
            cpu(vec!["avx2"]).to_string(),
            "test [avx2; int8: AVX2 without VNNI]"
        );
    }

    #[test]
    fn this_machine_is_described() {
        let cpu = CpuInfo::detect();
        assert!(!cpu.model.is_empty());
        assert!(cpu.to_string().contains("; int8: "), "{cpu}");
        // AVX-512 VNNI implies AVX-512 itself: the detection reads real CPUID bits
        assert!(!cpu.has("avx512vnni") || cpu.has("avx512f"), "{cpu}");
    }
}
