//! The admin dashboard's local figures after a real import: each engine step that ran has its
//! runs counted with a latency, a PDF page read from its text layer is no OCR run, and the window
//! is checked.

use std::sync::Arc;

use station::{FileResult, Insights, Station};
use time::format_description::well_known::Rfc3339;

use super::{fixture_dir, import, result_for};

fn hours_from_now(hours: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::hours(hours))
        .format(&Rfc3339)
        .unwrap()
}

async fn refused(station: &Arc<Station>, from: &str, to: &str) -> String {
    let error = station
        .insights()
        .local_stats(from, to)
        .await
        .expect_err("an invalid window");
    let error = protocol::ApiError::from(error);
    assert_eq!(error.code.as_str(), "invalid_request", "{}", error.message);
    error.message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_stats_time_the_steps_that_ran_on_an_import() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("stores.toml"),
        "[[store]]\nid = 's1'\nname = 'S'\n[[store.category]]\nname = 'Fruit'\nimagenet = ['banana']\n",
    )
    .unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let from = hours_from_now(-1);

    // a photo (quality gate, then the category gate on import) and a scanned PDF read by OCR;
    // a PDF with a text layer is read without OCR
    let (summary, progress) = import(
        &station,
        vec![
            fixture_dir("sharp.jpg"),
            fixture_dir("pdf/scanned.pdf"),
            fixture_dir("pdf/text-invoice.pdf"),
        ],
    )
    .await;
    assert_eq!(summary.failed, 0, "{progress:#?}");
    let document = |name: &str| match result_for(&progress, name) {
        FileResult::Document { item_id, .. } => *item_id,
        other => panic!("{name}: {other:?}"),
    };
    let scanned = station
        .analysis()
        .read_text(document("scanned.pdf"), 1, false)
        .await
        .unwrap();
    assert_eq!(scanned.source, "ocr");
    let text = station
        .analysis()
        .read_text(document("text-invoice.pdf"), 1, false)
        .await
        .unwrap();
    assert_eq!(text.source, "text_layer");
    // a cached reading is no run either
    assert!(
        station
            .analysis()
            .read_text(document("scanned.pdf"), 1, false)
            .await
            .unwrap()
            .cached
    );

    let to = hours_from_now(1);
    let stats = station.insights().local_stats(&from, &to).await.unwrap();
    let steps: Vec<&str> = stats.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(steps, ["quality_gate", "category_gate", "ocr"]);
    for step in &stats.steps {
        let p50 = step.p50_ms.unwrap_or_else(|| panic!("{step:?}"));
        let p95 = step.p95_ms.unwrap();
        assert!(p50 > 0.0 && p95 >= p50, "{step:?}");
    }
    let count = |name: &str| stats.steps.iter().find(|s| s.step == name).unwrap().count;
    assert_eq!(count("quality_gate"), 1);
    assert_eq!(count("category_gate"), 1);
    assert_eq!(
        count("ocr"),
        1,
        "the text layer and the cached reading are no OCR runs"
    );
    assert!(stats.reviewers.is_empty(), "{:?}", stats.reviewers);
    let cpu = engine::cpu::CpuInfo::detect();
    assert!(stats.hardware.starts_with(&cpu.model), "{}", stats.hardware);
    let provider = stats
        .hardware
        .rsplit_once('(')
        .and_then(|(_, p)| p.strip_suffix(')'))
        .unwrap_or_default();
    super::assert_provider(provider);

    let csv = Insights::local_stats_csv(&stats);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "section,name,count,p50_ms,p95_ms,items_per_hour,seconds_per_item"
    );
    // the header, the window, the hardware and the three steps (no reviewer decided)
    assert_eq!(lines.len(), 1 + 2 + 3, "{csv}");
    assert!(lines[1].starts_with("window,") && lines[2].starts_with("hardware,"));
    assert!(lines[5].starts_with("step,ocr,1,"), "{csv}");

    // the same window with an offset is answered in UTC; a window before the import is empty
    let shifted = time::OffsetDateTime::parse(&from, &Rfc3339)
        .unwrap()
        .to_offset(time::macros::offset!(+5:30))
        .format(&Rfc3339)
        .unwrap();
    let again = station.insights().local_stats(&shifted, &to).await.unwrap();
    assert_eq!(again.from, stats.from);
    assert!(again.from.ends_with('Z'));
    assert_eq!(again.steps, stats.steps);
    let before = station
        .insights()
        .local_stats("2020-01-01T00:00:00Z", &from)
        .await
        .unwrap();
    assert!(before
        .steps
        .iter()
        .all(|s| s.count == 0 && s.p50_ms.is_none()));
    assert!(before.hardware.ends_with("(no model ran in this window)"));

    // windows that are not ones
    assert!(refused(&station, &to, &from).await.contains("before"));
    assert!(refused(&station, &from, &from).await.contains("before"));
    assert!(refused(&station, "yesterday", &to).await.contains("`from`"));
    assert!(refused(&station, &from, "2025-13-01T00:00:00Z")
        .await
        .contains("`to`"));
}
