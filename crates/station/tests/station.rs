//! Integration tests of the application layer on a real data directory, real files and real
//! SQLite: what a user's import does, end to end below the UI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::{ImageBuffer, Luma, Rgb};
use station::{
    FileResult, ImportProgress, ImportSink, ImportStarted, ImportSummary, ItemQuery, Station,
};
use store::{ItemSort, VerdictFilter};

#[derive(Default)]
struct Recorder {
    progress: Mutex<Vec<ImportProgress>>,
    finished: Mutex<Vec<ImportSummary>>,
}

impl ImportSink for Recorder {
    fn started(&self, _: &ImportStarted) {}
    fn progress(&self, event: &ImportProgress) {
        self.progress.lock().unwrap().push(event.clone());
    }
    fn finished(&self, event: &ImportSummary) {
        self.finished.lock().unwrap().push(event.clone());
    }
}

/// A textured scene: blocks, stripes and pseudo-random speckle, like a shelf of products.
fn scene(w: u32, h: u32, seed: u32) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    ImageBuffer::from_fn(w, h, |x, y| {
        let block = if ((x * 12 / w) + (y * 9 / h) + seed).is_multiple_of(2) {
            70
        } else {
            180
        };
        let stripe = if (x / 4 + y / 6).is_multiple_of(2) {
            30
        } else {
            0
        };
        let speckle = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663) ^ seed) % 24;
        let v = (block + stripe + speckle) as u8;
        Rgb([v, v.saturating_sub(10), v / 2 + 40])
    })
}

fn write_jpeg(path: &Path, image: &ImageBuffer<Rgb<u8>, Vec<u8>>) {
    image
        .save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let sharp = scene(1200, 900, 1);
    write_jpeg(&dir.join("sharp.jpg"), &sharp);
    let blurred = image::imageops::blur(&sharp, 6.0);
    write_jpeg(&dir.join("blurred.jpg"), &blurred);
    let dark = ImageBuffer::from_fn(800, 600, |x, y| Luma([((x + y) % 9) as u8]));
    dark.save_with_format(dir.join("dark.png"), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(dir.join("empty.jpg"), b"").unwrap();
    std::fs::write(
        dir.join("notes.jpg"),
        b"this is a shopping list, not a photo",
    )
    .unwrap();
    let full = std::fs::read(dir.join("sharp.jpg")).unwrap();
    std::fs::write(dir.join("truncated.jpg"), &full[..full.len() / 3]).unwrap();
    std::fs::write(dir.join("sharp-copy.jpg"), &full).unwrap();
    [
        "sharp.jpg",
        "blurred.jpg",
        "dark.png",
        "empty.jpg",
        "notes.jpg",
        "truncated.jpg",
        "sharp-copy.jpg",
    ]
    .iter()
    .map(|n| dir.join(n))
    .collect()
}

async fn import(
    station: &Arc<Station>,
    paths: Vec<PathBuf>,
) -> (ImportSummary, Vec<ImportProgress>) {
    let recorder = Arc::new(Recorder::default());
    let (job, _) = station.new_job();
    let summary = station.run_import(job, paths, recorder.clone()).await;
    let progress = recorder.progress.lock().unwrap().clone();
    (summary, progress)
}

fn result_for<'a>(progress: &'a [ImportProgress], name: &str) -> &'a FileResult {
    &progress
        .iter()
        .find(|p| p.outcome.file_name == name)
        .unwrap_or_else(|| panic!("no outcome for {name}"))
        .outcome
        .result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_batch_gets_verdicts_specific_errors_and_survives_restart() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let paths = fixtures(files.path());
    let station = Station::open(data.path()).await.unwrap();
    let (summary, progress) = import(&station, paths).await;
    assert_eq!(summary.total, 7);
    assert_eq!(progress.len(), 7);
    assert_eq!(progress.iter().map(|p| p.done).max(), Some(7));

    let verdict = |name| match result_for(&progress, name) {
        FileResult::Imported { verdict, .. } => *verdict,
        other => panic!("{name}: {other:?}"),
    };
    let code = |name| match result_for(&progress, name) {
        FileResult::Failed { code, .. } => code.clone(),
        other => panic!("{name}: {other:?}"),
    };
    // sharp.jpg and sharp-copy.jpg are the same content: exactly one of them is a duplicate.
    let copies = [
        result_for(&progress, "sharp.jpg"),
        result_for(&progress, "sharp-copy.jpg"),
    ];
    assert_eq!(
        copies
            .iter()
            .filter(|r| matches!(r, FileResult::Duplicate { .. }))
            .count(),
        1,
        "{copies:?}"
    );
    let imported = copies
        .iter()
        .find(|r| matches!(r, FileResult::Imported { .. }))
        .unwrap();
    assert!(
        matches!(
            imported,
            FileResult::Imported {
                verdict: engine::QualityVerdict::Pass,
                ..
            }
        ),
        "{imported:?}"
    );
    assert_eq!(verdict("blurred.jpg"), engine::QualityVerdict::Fail);
    assert_eq!(verdict("dark.png"), engine::QualityVerdict::Fail);
    assert_eq!(code("empty.jpg"), "empty_file");
    assert_eq!(code("notes.jpg"), "unsupported_format");
    assert_eq!(code("truncated.jpg"), "truncated");
    assert_eq!(
        (summary.imported, summary.duplicates, summary.failed),
        (3, 1, 3)
    );

    // Reasons and stored figures of the blurred photo.
    let page = station
        .list_items(ItemQuery {
            verdict: VerdictFilter::Fail,
            sort: ItemSort::Name,
            offset: 0,
            limit: 50,
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    let blurred = page
        .items
        .iter()
        .find(|i| i.file_name == "blurred.jpg")
        .unwrap();
    let detail = station.get_item(blurred.id).await.unwrap();
    let quality = detail.quality.unwrap();
    assert_eq!(quality.reasons, vec![engine::GateCheck::Blur]);
    assert_eq!(quality.suggestions.len(), 1);
    assert!(detail
        .analysis
        .unwrap()
        .engine_version
        .contains("quality-gate"));
    let dark = page
        .items
        .iter()
        .find(|i| i.file_name == "dark.png")
        .unwrap();
    let dark_reasons = station
        .get_item(dark.id)
        .await
        .unwrap()
        .quality
        .unwrap()
        .reasons;
    assert!(
        dark_reasons.contains(&engine::GateCheck::Dark),
        "{dark_reasons:?}"
    );
    drop(station);

    // Restart: everything is still there, and importing the same files again adds nothing.
    let station = Station::open(data.path()).await.unwrap();
    let all = station
        .list_items(ItemQuery {
            verdict: VerdictFilter::All,
            sort: ItemSort::Newest,
            offset: 0,
            limit: 50,
        })
        .await
        .unwrap();
    assert_eq!(all.total, 6, "3 analyzed + 3 error items");
    let errors = station
        .list_items(ItemQuery {
            verdict: VerdictFilter::Error,
            sort: ItemSort::Name,
            offset: 0,
            limit: 50,
        })
        .await
        .unwrap();
    let codes: Vec<_> = errors
        .items
        .iter()
        .map(|i| i.error_code.clone().unwrap())
        .collect();
    assert_eq!(codes, vec!["empty_file", "unsupported_format", "truncated"]);
    let (again, _) = import(&station, vec![files.path().to_path_buf()]).await;
    assert_eq!(again.imported, 0);
    let after = station
        .list_items(ItemQuery {
            verdict: VerdictFilter::All,
            sort: ItemSort::Newest,
            offset: 0,
            limit: 50,
        })
        .await
        .unwrap();
    assert_eq!(after.total, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_are_walked_for_photos_only() {
    let files = tempfile::tempdir().unwrap();
    let nested = files.path().join("card/DCIM/100");
    std::fs::create_dir_all(&nested).unwrap();
    write_jpeg(&nested.join("a.JPG"), &scene(640, 480, 2));
    write_jpeg(&nested.join("b.jpeg"), &scene(640, 480, 3));
    std::fs::write(nested.join("clip.mov"), b"not a photo").unwrap();
    std::fs::write(files.path().join("card/readme.txt"), b"hello").unwrap();
    let expanded = station::expand_paths(&[files.path().join("card")]);
    let names: Vec<_> = expanded
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["a.JPG", "b.jpeg"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_a_batch_and_keeps_what_was_done() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..40)
        .map(|i| {
            let p = files.path().join(format!("p{i:02}.jpg"));
            write_jpeg(&p, &scene(1600, 1200, i));
            p
        })
        .collect();
    let station = Station::open(data.path()).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let (job, _) = station.new_job();
    let running = {
        let station = station.clone();
        let recorder = recorder.clone();
        tokio::spawn(async move { station.run_import(job, paths, recorder).await })
    };
    while recorder.progress.lock().unwrap().len() < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(station.cancel_job(job));
    let summary = running.await.unwrap();
    assert!(summary.cancelled, "{summary:?}");
    assert!(
        summary.imported >= 3 && summary.imported < 40,
        "{summary:?}"
    );
    let stored = station
        .list_items(ItemQuery {
            verdict: VerdictFilter::All,
            sort: ItemSort::Newest,
            offset: 0,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(stored.total, u64::from(summary.imported));
    assert!(
        !station.cancel_job(job),
        "a finished job is no longer cancellable"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_gate_config_falls_back_to_defaults_with_an_error() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join(station::GATE_CONFIG_FILE),
        "max_blur_effect = 'very'",
    )
    .unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let info = station.app_info().await;
    assert!(info.gate_config_error.unwrap().contains("max_blur_effect"));
    assert_eq!(info.gate_config, engine::GateConfig::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_paths_reject_traversal() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let err = station.blob_path("../../station.db").unwrap_err();
    assert_eq!(station::IpcError::from(err).code, "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_reports_its_runtime_and_models() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let status = station.engine_status().await;
    assert!(status.available, "{:?}", status.error);
    assert_eq!(status.provider.as_deref(), Some("CPUExecutionProvider"));
    assert!(status
        .models
        .iter()
        .any(|m| m.package == "rapidocr==3.10.0" && m.state == "ok"));
}
