//! The sync outbox: rows written in the change's own transaction, moved by the sync client,
//! results applied once.

use store::{NewOutbox, OutboxState, RuleAnswer, Store, CORRECTION, RESULTS_CURSOR};

use super::{an_item, approve, task};

fn check_job(item_id: i64, key: &str) -> NewOutbox {
    NewOutbox {
        kind: "compliance_check".into(),
        item_id: Some(item_id),
        idempotency_key: key.into(),
        input_json: r#"{"rules":[]}"#.into(),
        blobs: vec!["ab".repeat(32)],
    }
}

#[tokio::test]
async fn a_cloud_check_and_its_outbox_row_are_one_write_and_its_answer_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let visit = store
        .start_visit("s1", "Main Street", "Ana", None)
        .await
        .unwrap();
    let item = an_item(&store, "shelf.jpg").await;
    let rules = vec![
        "price tags visible".to_string(),
        "no empty facings".to_string(),
    ];
    store
        .queue_cloud_check(visit.id, item, &rules, &check_job(item, "k-1"))
        .await
        .unwrap();
    // queued twice (a photo judged again): one of each
    store
        .queue_cloud_check(visit.id, item, &rules, &check_job(item, "k-1"))
        .await
        .unwrap();
    assert_eq!(store.count_pending_cloud(visit.id).await.unwrap(), 2);
    let due = store.due_outbox(0, false, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].idempotency_key, "k-1");
    assert_eq!(due[0].blobs_json, format!("[\"{}\"]", "ab".repeat(32)));

    // a failed attempt: retrying later, not due before its time
    let retrying = OutboxState {
        state: "retrying".into(),
        failures: 1,
        next_at_ms: Some(5_000),
        reason: Some("503 unavailable".into()),
        ..OutboxState::default()
    };
    assert!(store
        .set_outbox_state(due[0].id, &retrying, 1_000)
        .await
        .unwrap());
    assert!(store.due_outbox(4_999, false, 10).await.unwrap().is_empty());
    assert_eq!(store.due_outbox(5_000, false, 10).await.unwrap().len(), 1);
    assert_eq!(store.next_retry_at().await.unwrap(), Some(5_000));
    let waiting = OutboxState {
        state: "waiting".into(),
        job_id: Some(77),
        failures: 1,
        ..OutboxState::default()
    };
    assert!(store
        .set_outbox_state(due[0].id, &waiting, 6_000)
        .await
        .unwrap());
    let row = store.outbox_by_job(77).await.unwrap().unwrap();
    assert_eq!(
        row.first_attempt_ms,
        Some(1_000),
        "the window counts from the first attempt"
    );

    let answers = [
        RuleAnswer {
            rule: rules[0].clone(),
            passed: Some(true),
            confidence: 0.9,
            reason: "tags on every shelf".into(),
        },
        RuleAnswer {
            rule: rules[1].clone(),
            passed: Some(false),
            confidence: 0.8,
            reason: "two empty facings".into(),
        },
    ];
    assert!(store
        .apply_cloud_check(row.id, item, &answers, 3)
        .await
        .unwrap());
    assert_eq!(store.count_pending_cloud(visit.id).await.unwrap(), 0);
    // the same result again (a repeat after a crash before the cursor was kept): nothing changes
    let changed = RuleAnswer {
        passed: Some(true),
        ..answers[1].clone()
    };
    assert!(!store
        .apply_cloud_check(row.id, item, &[changed], 4)
        .await
        .unwrap());
    let checks = store.cloud_checks(item).await.unwrap();
    assert_eq!(
        checks
            .iter()
            .map(|c| (c.state.as_str(), c.passed))
            .collect::<Vec<_>>(),
        [("passed", Some(true)), ("failed", Some(false))]
    );
    assert_eq!(
        store.sync_value(RESULTS_CURSOR).await.unwrap().as_deref(),
        Some("4")
    );
    assert!(
        !store
            .set_outbox_state(row.id, &retrying, 7_000)
            .await
            .unwrap(),
        "a done row never moves again"
    );
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.done, counts.queued), (1, 0));
}

#[tokio::test]
async fn every_decision_and_undo_writes_its_correction_in_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "r.jpg").await;
    let ids = store
        .enqueue_tasks(&[task(item, "invoice", 0.4, "[\"low_confidence\"]")])
        .await
        .unwrap();
    let decision = store
        .decide_task(ids[0], "ana", &approve(900), 0)
        .await
        .unwrap();
    let undo = store.undo_decision(ids[0], "ana", 0, 60_000).await.unwrap();
    let corrections = store.due_outbox(0, true, 10).await.unwrap();
    assert_eq!(corrections.len(), 2);
    assert!(corrections.iter().all(|c| c.kind == CORRECTION));
    assert_eq!(corrections[0].idempotency_key, decision.hash);
    assert_eq!(corrections[1].idempotency_key, undo.hash);
    let body: serde_json::Value = serde_json::from_str(&corrections[0].input_json).unwrap();
    assert_eq!(body["decision_hash"], decision.hash.as_str());
    assert_eq!(body["kind"], "invoice");
    assert_eq!(body["action"], "approve");
    assert_eq!(body["model_output"]["total"], "9.00");
    assert_eq!(body["after"]["total"], "9.00");
    // apart from the corrections: the task's raise on the team's queue (written with the task)
    // and the decision for it there (an undo stays local)
    let others = store.due_outbox(0, false, 10).await.unwrap();
    assert_eq!(
        others
            .iter()
            .map(|r| (r.kind.as_str(), r.idempotency_key.clone()))
            .collect::<Vec<_>>(),
        [
            (store::RAISE_TASK, format!("raise/task-{}", ids[0])),
            (
                store::SHARED_DECISION,
                format!("decision/{}", decision.hash)
            ),
        ],
        "corrections are asked for apart from the rest"
    );
    store
        .outbox_done(&corrections.iter().map(|c| c.id).collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(store.due_outbox(0, true, 10).await.unwrap().is_empty());

    // a decision that cannot be saved leaves no correction behind
    let refused = store.decide_task(ids[0], "bob", &approve(1), 10).await;
    assert!(refused.is_err());
    assert_eq!(store.outbox_counts().await.unwrap().done, 2);
    assert_eq!(store.list_outbox(None, 10, 0).await.unwrap().len(), 4);
}
