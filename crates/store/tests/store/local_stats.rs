//! The local engine's latency percentiles and the reviewers' pace over a window, checked against
//! values computed by hand. Rows are written with chosen times through a second connection
//! (the store stamps its own rows with the current time).

use sqlx::Connection;
use store::{ReviewerPaceRow, StepLatencyRow, StepRuns, Store};

use super::{an_item, task};

const FROM: &str = "2030-01-01T10:00:00Z";
const TO: &str = "2030-01-01T12:00:00Z";

async fn connect(dir: &std::path::Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        dir.join(store::DATABASE_FILE).display()
    ))
    .await
    .unwrap()
}

/// `(analyzer, verdict, latency ms, created at, provider)`
type Analysis<'a> = (&'a str, Option<&'a str>, f64, &'a str, Option<&'a str>);

async fn add_analyses(conn: &mut sqlx::SqliteConnection, item: i64, rows: &[Analysis<'_>]) {
    for (analyzer, verdict, latency_ms, at, provider) in rows {
        sqlx::query(
            "INSERT INTO analyses (item_id, analyzer, engine_version, verdict, result_json, \
             latency_ms, created_at, provider) VALUES (?, ?, 'test', ?, '{}', ?, ?, ?)",
        )
        .bind(item)
        .bind(analyzer)
        .bind(verdict)
        .bind(latency_ms)
        .bind(at)
        .bind(provider)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
}

fn steps() -> [StepRuns<'static>; 4] {
    [
        StepRuns {
            analyzer: "quality_gate",
            except_verdicts: &[],
        },
        StepRuns {
            analyzer: "category_gate",
            except_verdicts: &[],
        },
        StepRuns {
            analyzer: "ocr",
            except_verdicts: &["text_layer"],
        },
        StepRuns {
            analyzer: "pdf_intake",
            except_verdicts: &[],
        },
    ]
}

fn row(analyzer: &str, count: u32, p50: Option<f64>, p95: Option<f64>) -> StepLatencyRow {
    StepLatencyRow {
        analyzer: analyzer.into(),
        count,
        p50_ms: p50,
        p95_ms: p95,
    }
}

#[tokio::test]
async fn step_latencies_are_nearest_rank_percentiles_of_the_runs_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "latency.jpg").await;
    let mut conn = connect(dir.path()).await;

    // quality gate: 20 runs in the window with latencies 1..=20 ms, written out of order
    let times: Vec<String> = (3..=19)
        .rev()
        .map(|ms| {
            if ms == 7 {
                // 11:30Z written with another offset
                "2030-01-01T13:30:00+02:00".to_string()
            } else {
                format!("2030-01-01T11:{ms:02}:00.25Z")
            }
        })
        .collect();
    let gate: Vec<Analysis<'_>> = (3..=19)
        .rev()
        .zip(&times)
        .map(|(ms, at)| {
            (
                "quality_gate",
                Some("pass"),
                f64::from(ms),
                at.as_str(),
                None,
            )
        })
        .collect();
    add_analyses(&mut conn, item, &gate).await;
    let mid = "2030-01-01T11:00:00Z";
    let (cpu, cuda) = (Some("CPUExecutionProvider"), Some("CUDAExecutionProvider"));
    add_analyses(
        &mut conn,
        item,
        &[
            // at `from` exactly: in
            ("quality_gate", Some("fail"), 20.0, FROM, None),
            // half a second after `from`: in (as text it sorts before "…10:00:00Z")
            (
                "quality_gate",
                Some("pass"),
                2.0,
                "2030-01-01T10:00:00.500Z",
                None,
            ),
            // a millisecond before `to`: in
            (
                "quality_gate",
                Some("pass"),
                1.0,
                "2030-01-01T11:59:59.999Z",
                None,
            ),
            // out: at `to`, a millisecond before `from`, and an unreadable file (no verdict)
            ("quality_gate", Some("pass"), 1000.0, TO, None),
            (
                "quality_gate",
                Some("pass"),
                1000.0,
                "2030-01-01T09:59:59.999Z",
                None,
            ),
            ("quality_gate", None, 0.5, mid, None),
            // category gate: 7 and 5 ms
            ("category_gate", Some("match"), 7.0, mid, cpu),
            ("category_gate", Some("irrelevant"), 5.0, mid, cpu),
            // OCR: 300, 100, 200 ms; a page read from its text layer is no OCR run; one run
            // before the window
            ("ocr", Some("ocr"), 300.0, mid, cpu),
            ("ocr", Some("ocr"), 100.0, mid, cuda),
            ("ocr", Some("ocr"), 200.0, mid, cpu),
            ("ocr", Some("text_layer"), 2.0, mid, None),
            (
                "ocr",
                Some("ocr"),
                5000.0,
                "2029-12-31T10:00:00Z",
                Some("Old"),
            ),
        ],
    )
    .await;

    let stats = store.step_latencies(&steps(), FROM, TO).await.unwrap();
    assert_eq!(
        stats,
        [
            // n = 20: p50 is the ⌈10⌉th = 10 ms, p95 the ⌈19⌉th = 19 ms
            row("quality_gate", 20, Some(10.0), Some(19.0)),
            // n = 2: ⌈1⌉st and ⌈1.9⌉ = 2nd
            row("category_gate", 2, Some(5.0), Some(7.0)),
            // n = 3: ⌈1.5⌉ = 2nd and ⌈2.85⌉ = 3rd
            row("ocr", 3, Some(200.0), Some(300.0)),
            row("pdf_intake", 0, None, None),
        ]
    );
    // one run: it is every percentile
    let one = store
        .step_latencies(&steps()[..1], FROM, "2030-01-01T10:00:00.001Z")
        .await
        .unwrap();
    assert_eq!(one, [row("quality_gate", 1, Some(20.0), Some(20.0))]);
    // an empty window
    let none = store.step_latencies(&steps()[1..3], TO, TO).await.unwrap();
    assert_eq!(
        none,
        [
            row("category_gate", 0, None, None),
            row("ocr", 0, None, None)
        ]
    );

    assert_eq!(
        store
            .analysis_providers(&["category_gate", "ocr"], FROM, TO)
            .await
            .unwrap(),
        ["CPUExecutionProvider", "CUDAExecutionProvider"]
    );
    assert!(store
        .analysis_providers(&["quality_gate"], FROM, TO)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn reviewer_pace_counts_active_time_between_standing_decisions_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "pace.jpg").await;
    let tasks = store
        .enqueue_tasks(&[0.5; 14].map(|c| task(item, "invoice", c, "[]")))
        .await
        .unwrap();
    let mut conn = connect(dir.path()).await;
    // (reviewer, task, action, decided at, duration ms), in chain order
    let decisions: [(&str, usize, &str, &str, i64); 17] = [
        // before the window: out, and ana's first decision in it still starts a run
        ("ana", 0, "approve", "2030-01-01T09:59:00Z", 30_000),
        ("ana", 1, "approve", "2030-01-01T10:00:00Z", 30_000), // first: its 30 s
        ("ana", 2, "correct", "2030-01-01T10:02:00Z", 40_000), // gap 120 s
        ("ana", 3, "reject", "2030-01-01T10:12:00Z", 50_000),  // gap 600 s: still work
        ("ana", 4, "approve", "2030-01-01T10:30:00Z", 20_000), // gap 18 min: a break; its 20 s
        ("ana", 5, "approve", "2030-01-01T10:31:00Z", 60_000), // undone below: out
        ("ana", 5, "undo", "2030-01-01T10:31:30Z", 0),
        ("ana", 6, "approve", "2030-01-01T10:33:00Z", 45_000), // gap 180 s since 10:30
        ("ana", 7, "approve", "2030-01-01T11:00:00Z", 900_000), // a break; 15 min capped: 600 s
        ("ana", 8, "approve", TO, 10_000),                     // at `to`: out
        ("bo", 9, "approve", "2030-01-01T11:00:00.500Z", 1_500), // first: 1.5 s
        ("bo", 10, "approve", "2030-01-01T12:05:00.250+01:00", 2_000), // gap 299.75 s
        ("bo", 5, "approve", "2030-01-01T11:06:00Z", 3_000),   // ana's undone task: gap 59.75 s
        ("bo", 11, "approve", "2030-01-01T11:10:00Z", 4_000),  // undone and left open: out
        ("bo", 11, "undo", "2030-01-01T11:11:00Z", 0),
        ("dee", 12, "approve", "2030-01-01T11:30:00Z", 0), // no time recorded at all
        ("carol", 13, "approve", "2029-12-31T23:00:00Z", 5_000), // outside the window
    ];
    for (n, (reviewer, t, action, at, ms)) in decisions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO review_decisions (task_id, reviewer, action, before_json, after_json, \
             decided_at, duration_ms, diff_json, versions, prev_hash, hash) \
             VALUES (?, ?, ?, '{}', '{}', ?, ?, '[]', '{}', 'p', ?)",
        )
        .bind(tasks[*t])
        .bind(reviewer)
        .bind(action)
        .bind(at)
        .bind(ms)
        .bind(format!("h{n}"))
        .execute(&mut conn)
        .await
        .unwrap();
    }

    let pace = store.reviewer_pace(FROM, TO).await.unwrap();
    // ana: 6 items in 30 + 120 + 600 + 20 + 180 + 600 = 1550 s; durations 20 30 40 45 50 900
    // bo: 3 items in 1.5 + 299.75 + 59.75 = 361 s; durations 1.5 2 3
    // dee: 1 item, no active time
    assert_eq!(
        pace,
        [
            ReviewerPaceRow {
                reviewer: "ana".into(),
                items: 6,
                active_seconds: 1550.0,
                items_per_hour: 6.0 * 3600.0 / 1550.0,
                median_seconds: 45.0,
            },
            ReviewerPaceRow {
                reviewer: "bo".into(),
                items: 3,
                active_seconds: 361.0,
                items_per_hour: 3.0 * 3600.0 / 361.0,
                median_seconds: 2.0,
            },
            ReviewerPaceRow {
                reviewer: "dee".into(),
                items: 1,
                active_seconds: 0.0,
                items_per_hour: 0.0,
                median_seconds: 0.0,
            },
        ]
    );
    assert!((pace[0].items_per_hour - 13.935_483_870_967_742).abs() < 1e-9);
    assert!((pace[1].items_per_hour - 29.916_897_506_925_21).abs() < 1e-9);

    // a window holding ana's 10:02 and 10:12 only: the first of them starts a run
    let narrow = store
        .reviewer_pace("2030-01-01T10:01:00Z", "2030-01-01T10:20:00Z")
        .await
        .unwrap();
    assert_eq!(
        narrow,
        [ReviewerPaceRow {
            reviewer: "ana".into(),
            items: 2,
            active_seconds: 640.0,
            items_per_hour: 2.0 * 3600.0 / 640.0,
            median_seconds: 50.0,
        }]
    );
    assert!(store.reviewer_pace(TO, TO).await.unwrap().is_empty());
}
