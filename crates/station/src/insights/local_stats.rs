//! The local engine and the reviewers on this station over a window, for the admin dashboard:
//! latency p50 / p95 of the quality gate, the category gate and OCR as each run recorded it,
//! and each reviewer's pace from the standing decisions; the processor (and execution
//! providers) the latencies were measured on; and the same as CSV.
//!
//! What each step's latency measures (the `latency_ms` of its `analyses` rows):
//! - `quality_gate`: decoding the file (byte and pixel limits, EXIF orientation) and the gate's
//!   measures, on the import's blocking worker; reading the file, hashing and storing it are
//!   not counted. Files that could not be decoded (no verdict) are no run of the gate.
//! - `category_gate`: the store's category set (built once), the engine (loaded once), the
//!   photo's embedding (cached by content and model: a photo judged again skips the model) and
//!   the verdict.
//! - `ocr`: one photo or document page read by OCR: reading the blob, the engine (loaded on
//!   first use), decoding the photo (or looking for the page's text layer, then rendering it),
//!   detection, angle classification and recognition. A PDF page whose text
//!   came from its text layer is no OCR run, and a cached reading is not a run at all.

use std::fmt::Write as _;

use protocol::csv::field as csv_field;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Insights;
use crate::account::{LocalStats, ReviewerPace, StepLatency};
use crate::{StationError, CATEGORY_GATE, OCR, QUALITY_GATE};

/// The steps reported, in order, and which of their recorded analyses are runs.
const STEPS: [store::StepRuns<'static>; 3] = [
    store::StepRuns {
        analyzer: QUALITY_GATE,
        except_verdicts: &[],
    },
    store::StepRuns {
        analyzer: CATEGORY_GATE,
        except_verdicts: &[],
    },
    store::StepRuns {
        analyzer: OCR,
        except_verdicts: &["text_layer"],
    },
];

/// A window bound as RFC 3339, in UTC.
fn bound(name: &str, value: &str) -> Result<OffsetDateTime, StationError> {
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(|at| at.to_offset(time::UtcOffset::UTC))
        .map_err(|e| {
            StationError::InvalidRequest(format!(
                "`{name}` is not an RFC 3339 time (like 2025-01-31T09:00:00Z): {value:?}: {e}"
            ))
        })
}

fn rfc3339(at: OffsetDateTime) -> Result<String, StationError> {
    at.format(&Rfc3339)
        .map_err(|e| StationError::InvalidRequest(format!("the window cannot be written: {e}")))
}

impl Insights {
    /// The local engine's latency per step and the reviewers' pace over `[from, to)` (RFC 3339
    /// times, `from` before `to`; answered in UTC), with the processor and the execution
    /// providers the models ran on in that window.
    pub async fn local_stats(&self, from: &str, to: &str) -> Result<LocalStats, StationError> {
        let (start, end) = (bound("from", from)?, bound("to", to)?);
        if start >= end {
            return Err(StationError::InvalidRequest(format!(
                "the window is empty: `from` ({from}) must be before `to` ({to})"
            )));
        }
        let (from, to) = (rfc3339(start)?, rfc3339(end)?);
        let store = &self.core.store;
        let steps = store
            .step_latencies(&STEPS, &from, &to)
            .await?
            .into_iter()
            .map(|s| StepLatency {
                step: s.analyzer,
                count: s.count,
                p50_ms: s.p50_ms,
                p95_ms: s.p95_ms,
            })
            .collect();
        let reviewers = store
            .reviewer_pace(&from, &to)
            .await?
            .into_iter()
            .map(|r| ReviewerPace {
                reviewer: r.reviewer,
                items: r.items,
                items_per_hour: r.items_per_hour,
                seconds_per_item: r.median_seconds,
            })
            .collect();
        let providers = store
            .analysis_providers(&[CATEGORY_GATE, OCR], &from, &to)
            .await?;
        let cpu =
            tokio::task::spawn_blocking(|| engine::cpu::CpuInfo::detect().to_string()).await?;
        Ok(LocalStats {
            from,
            to,
            hardware: hardware(&cpu, &providers),
            steps,
            reviewers,
        })
    }

    /// [`LocalStats`] as CSV, one row per step and per reviewer, units in the header, after a
    /// row for the window and one for the hardware:
    ///
    /// ```text
    /// section,name,count,p50_ms,p95_ms,items_per_hour,seconds_per_item
    /// window,2025-01-01T00:00:00Z/2025-01-02T00:00:00Z,,,,,
    /// hardware,AMD EPYC 9R14 … (CPUExecutionProvider),,,,,
    /// step,ocr,12,812.400,1530.250,,
    /// reviewer,ana,40,,,31.50,42.000
    /// ```
    pub fn local_stats_csv(stats: &LocalStats) -> String {
        let mut out =
            String::from("section,name,count,p50_ms,p95_ms,items_per_hour,seconds_per_item\n");
        let ms = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
        let _ = writeln!(
            out,
            "window,{},,,,,",
            csv_field(&format!("{}/{}", stats.from, stats.to))
        );
        let _ = writeln!(out, "hardware,{},,,,,", csv_field(&stats.hardware));
        for s in &stats.steps {
            let _ = writeln!(
                out,
                "step,{},{},{},{},,",
                csv_field(&s.step),
                s.count,
                ms(s.p50_ms),
                ms(s.p95_ms)
            );
        }
        for r in &stats.reviewers {
            let _ = writeln!(
                out,
                "reviewer,{},{},,,{:.2},{:.3}",
                csv_field(&r.reviewer),
                r.items,
                r.items_per_hour,
                r.seconds_per_item
            );
        }
        out
    }
}

/// `<processor> (<providers>)`: the processor as the Engine panel prints it (model, the
/// instruction sets that pick ONNX Runtime's int8 kernels) and the execution providers recorded
/// on the window's model runs (a GPU shows as `CUDAExecutionProvider`).
fn hardware(cpu: &str, providers: &[String]) -> String {
    if providers.is_empty() {
        format!("{cpu} (no model ran in this window)")
    } else {
        format!("{cpu} ({})", providers.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_units_rows_per_step_and_reviewer_and_no_formulas() {
        let stats = LocalStats {
            from: "2025-01-01T00:00:00Z".into(),
            to: "2025-01-02T00:00:00Z".into(),
            hardware: "Intel(R) Xeon(R) [avx2; int8: AVX2 without VNNI] (CPUExecutionProvider)"
                .into(),
            steps: vec![
                StepLatency {
                    step: "ocr".into(),
                    count: 2,
                    p50_ms: Some(812.4),
                    p95_ms: Some(1530.25),
                },
                StepLatency {
                    step: "category_gate".into(),
                    count: 0,
                    p50_ms: None,
                    p95_ms: None,
                },
            ],
            reviewers: vec![
                ReviewerPace {
                    reviewer: "=cmd|' /C calc'!A0".into(),
                    items: 3,
                    items_per_hour: 29.916,
                    seconds_per_item: 2.0,
                },
                ReviewerPace {
                    reviewer: "Doe, \"Jo\"".into(),
                    items: 1,
                    items_per_hour: 0.0,
                    seconds_per_item: 0.0,
                },
            ],
        };
        assert_eq!(
            Insights::local_stats_csv(&stats),
            "section,name,count,p50_ms,p95_ms,items_per_hour,seconds_per_item\n\
             window,2025-01-01T00:00:00Z/2025-01-02T00:00:00Z,,,,,\n\
             hardware,Intel(R) Xeon(R) [avx2; int8: AVX2 without VNNI] (CPUExecutionProvider),,,,,\n\
             step,ocr,2,812.400,1530.250,,\n\
             step,category_gate,0,,,,\n\
             reviewer,'=cmd|' /C calc'!A0,3,,,29.92,2.000\n\
             reviewer,\"Doe, \"\"Jo\"\"\",1,,,0.00,0.000\n"
        );
    }

    #[test]
    fn hardware_names_the_providers_or_says_none_ran() {
        assert_eq!(
            hardware("AMD EPYC", &["CPUExecutionProvider".into()]),
            "AMD EPYC (CPUExecutionProvider)"
        );
        assert_eq!(
            hardware("AMD EPYC", &[]),
            "AMD EPYC (no model ran in this window)"
        );
    }
}
