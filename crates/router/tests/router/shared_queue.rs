//! The team's shared review queue against the real router: tasks raised once, claims atomic
//! across stations (least sure first, a station's own leases first), leases renewed, released
//! and taken over, decisions recorded once and only from the lease's holder, and doubtful
//! compliance jobs raised by the router itself.

use std::collections::HashSet;

use serde_json::{json, Value};
use sha2::Digest;

use super::station_sync::PHOTO;
use super::{error_of, replayed, setup, Options};

fn task(key: &str, confidence: f64) -> Value {
    json!({"task_key": key, "item_sha256": hex::encode(sha2::Sha256::digest(key.as_bytes())),
        "blobs": [], "kind": "compliance", "store_id": "main-street", "confidence": confidence,
        "reasons": ["low_confidence"], "model_output": {"rules": []}, "versions": "compliance_check.v1"})
}

fn decision(hash: &str) -> Value {
    json!({"action": "approve", "decision_hash": hash, "before": {"passed": null},
        "after": {"passed": true}, "reviewer": "ana", "decided_at": "2026-05-01T10:00:00Z"})
}

fn ids(tasks: &Value) -> Vec<i64> {
    tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_raised_once_and_claimed_by_one_station_each_least_sure_first() {
    let s = setup(Options::default()).await;
    let (a, b, c) = (
        s.device("a").await,
        s.device("b").await,
        s.device("c").await,
    );
    let photo = s.upload(&a, &std::fs::read(PHOTO).unwrap()).await;
    let mut with_photo = task("photo-task", 0.5);
    with_photo["blobs"] = json!([photo]);
    let raised = s.ok(&a, "/station/v1/tasks", &with_photo, 201).await;
    let again = s.ok(&a, "/station/v1/tasks", &with_photo, 200).await;
    assert_eq!(again["id"], raised["id"], "a repeat is the same task");
    assert_eq!(raised["blobs"], json!([photo]));
    assert_eq!(raised["lease_expires_at"], Value::Null);
    // the same key from another station is its own task
    let theirs = s.ok(&b, "/station/v1/tasks", &with_photo, 201).await;
    assert_ne!(theirs["id"], raised["id"]);
    let mut unuploaded = task("no-photo", 0.5);
    unuploaded["blobs"] = json!(["e".repeat(64)]);
    let (status, _, body) = error_of(s.send(&a, "/station/v1/tasks", &unuploaded).await).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("blob_missing")));
    let mut bad = task("bad-kind", 0.5);
    bad["kind"] = json!("poetry");
    assert_eq!(s.send(&a, "/station/v1/tasks", &bad).await.status(), 400);

    for i in 0..38 {
        s.ok(
            &a,
            "/station/v1/tasks",
            &task(&format!("t{i}"), f64::from(i % 10) / 10.0),
            201,
        )
        .await;
    }
    // three stations claim at once, more than there are: no task goes to two of them
    let claim = json!({"max": 15, "lease_s": 60});
    let (ta, tb, tc) = tokio::join!(
        s.ok(&a, "/station/v1/tasks/claim", &claim, 200),
        s.ok(&b, "/station/v1/tasks/claim", &claim, 200),
        s.ok(&c, "/station/v1/tasks/claim", &claim, 200),
    );
    let mut all = HashSet::new();
    for claimed in [&ta, &tb, &tc] {
        for id in ids(claimed) {
            assert!(all.insert(id), "task {id} was leased twice: {ta} {tb} {tc}");
        }
        let confidences: Vec<f64> = claimed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["confidence"].as_f64().unwrap())
            .collect();
        assert!(
            confidences.windows(2).all(|w| w[0] <= w[1]),
            "least sure first: {confidences:?}"
        );
        assert!(claimed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["lease_expires_at"].is_string()));
    }
    assert_eq!(all.len(), 40, "every task leased once");
    // nothing is left for a fourth
    let d = s.device("d").await;
    assert_eq!(
        s.ok(&d, "/station/v1/tasks/claim", &claim, 200).await,
        json!([])
    );
    let (status, _, _) = error_of(
        s.send(
            &d,
            "/station/v1/tasks/claim",
            &json!({"max": 201, "lease_s": 60}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = error_of(
        s.send(
            &d,
            "/station/v1/tasks/claim",
            &json!({"max": 5, "lease_s": 10}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
}

/// Many small claims at once, several rounds: on PostgreSQL each claim picks from its own
/// snapshot, so this is where a pick that is not locked leases a task twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_stations_claiming_at_once_never_share_a_task() {
    let s = setup(Options::default()).await;
    let mut stations = Vec::new();
    for name in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        stations.push(s.device(name).await);
    }
    for i in 0..120 {
        s.ok(
            &stations[0],
            "/station/v1/tasks",
            &task(&format!("t{i}"), f64::from(i % 7) / 7.0),
            201,
        )
        .await;
    }
    let claim = json!({"max": 3, "lease_s": 60});
    for round in 0..6 {
        let claims = stations
            .iter()
            .map(|station| s.ok(station, "/station/v1/tasks/claim", &claim, 200));
        let answers = futures_util::future::join_all(claims).await;
        let mut leased = HashSet::new();
        for (station, answer) in answers.iter().enumerate() {
            let got = ids(answer);
            assert_eq!(got.len(), 3, "round {round}: station {station} got {got:?}");
            for id in got {
                assert!(
                    leased.insert(id),
                    "round {round}: task {id} leased twice: {answers:?}"
                );
            }
        }
        // everyone gives its tasks back, so the next round races over the same rows again
        for (station, answer) in stations.iter().zip(&answers) {
            let released = s
                .ok(
                    station,
                    "/station/v1/tasks/release",
                    &json!({ "ids": ids(answer) }),
                    200,
                )
                .await;
            assert_eq!(released["released"].as_array().map(Vec::len), Some(3));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_are_renewed_and_released_by_their_holder_only() {
    let s = setup(Options::default()).await;
    let (a, b) = (s.device("a").await, s.device("b").await);
    let t1 = s.ok(&a, "/station/v1/tasks", &task("t1", 0.1), 201).await["id"]
        .as_i64()
        .unwrap();
    let t2 = s.ok(&a, "/station/v1/tasks", &task("t2", 0.2), 201).await["id"]
        .as_i64()
        .unwrap();
    let t3 = s.ok(&a, "/station/v1/tasks", &task("t3", 0.3), 201).await["id"]
        .as_i64()
        .unwrap();

    // a claim repeated under its Idempotency-Key is answered as the first time, not claimed again
    let claim_once = || {
        s.http
            .post(format!("{}/station/v1/tasks/claim", s.base))
            .bearer_auth(&a)
            .header("idempotency-key", "claim-1")
            .json(&json!({"max": 2, "lease_s": 30}))
            .send()
    };
    let first = claim_once().await.unwrap();
    assert!(!replayed(&first));
    let first: Value = first.json().await.unwrap();
    assert_eq!(ids(&first), vec![t1, t2]);
    let again = claim_once().await.unwrap();
    assert!(replayed(&again));
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let renewed = s
        .ok(
            &a,
            "/station/v1/tasks/renew",
            &json!({"ids": [t1, t2, t3, 424242], "lease_s": 600}),
            200,
        )
        .await;
    assert_eq!(renewed["renewed"], json!([t1, t2]));
    assert_eq!(
        renewed["lost"],
        json!([t3, 424242]),
        "not its own: t3 is unclaimed, 424242 unknown"
    );
    assert!(
        renewed["lease_expires_at"].as_str().unwrap()
            > first[0]["lease_expires_at"].as_str().unwrap(),
        "{renewed} {first}"
    );
    let pool = s.open_db().await;
    let until: i64 = router::with_db!(&pool, pool => sqlx::query_scalar("SELECT lease_until_ms FROM shared_tasks WHERE id = $1")
        .bind(t1)
        .fetch_one(pool)
        .await)
        .unwrap();
    let now_ms =
        i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap();
    assert!(until > now_ms + 500_000, "renewed for 600 s");

    // b gets only what is free
    assert_eq!(
        ids(&s
            .ok(
                &b,
                "/station/v1/tasks/claim",
                &json!({"max": 5, "lease_s": 60}),
                200
            )
            .await),
        vec![t3]
    );
    // a gives back t1; t3 is not its to give
    let released = s
        .ok(
            &a,
            "/station/v1/tasks/release",
            &json!({"ids": [t1, t3]}),
            200,
        )
        .await;
    assert_eq!(released["released"], json!([t1]));
    let lost = s
        .ok(
            &a,
            "/station/v1/tasks/renew",
            &json!({"ids": [t1], "lease_s": 60}),
            200,
        )
        .await;
    assert_eq!(
        (lost["renewed"].clone(), lost["lost"].clone()),
        (json!([]), json!([t1]))
    );
    // b's next claim: what it holds first (t3), then the least sure free one (t1)
    let claimed = s
        .ok(
            &b,
            "/station/v1/tasks/claim",
            &json!({"max": 5, "lease_s": 60}),
            200,
        )
        .await;
    assert_eq!(ids(&claimed), vec![t3, t1]);
    let renew_b = s
        .ok(
            &b,
            "/station/v1/tasks/renew",
            &json!({"ids": [t1, t2], "lease_s": 60}),
            200,
        )
        .await;
    assert_eq!(
        (renew_b["renewed"].clone(), renew_b["lost"].clone()),
        (json!([t1]), json!([t2]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_counts_once_and_only_from_the_lease_holder() {
    let s = setup(Options::default()).await;
    let (a, b) = (s.device("a").await, s.device("b").await);
    let t = s.ok(&a, "/station/v1/tasks", &task("t", 0.1), 201).await["id"]
        .as_i64()
        .unwrap();
    let u = s.ok(&a, "/station/v1/tasks", &task("u", 0.2), 201).await["id"]
        .as_i64()
        .unwrap();
    let v = s.ok(&a, "/station/v1/tasks", &task("v", 0.3), 201).await["id"]
        .as_i64()
        .unwrap();
    let pool = s.open_db().await;
    let corrections = |hash: String| {
        let pool = pool.clone();
        async move {
            router::with_db!(&pool, pool => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM corrections WHERE decision_hash = $1")
                .bind(hash)
                .fetch_one(pool)
                .await)
                .unwrap()
        }
    };
    let decided_by = |id: i64| {
        let pool = pool.clone();
        async move {
            router::with_db!(&pool, pool => sqlx::query_scalar::<_, Option<i64>>("SELECT decided_by FROM shared_tasks WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await)
                .unwrap()
        }
    };
    let expire = |id: i64| {
        let pool = pool.clone();
        async move {
            router::with_db!(&pool, pool => sqlx::query("UPDATE shared_tasks SET lease_until_ms = 0 WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await.map(|done| done.rows_affected()))
                .unwrap();
        }
    };
    let path = |id: i64| format!("/station/v1/tasks/{id}/decision");

    // not claimed: nobody's to decide
    let (status, _, body) = error_of(s.send(&a, &path(t), &decision(&"1".repeat(64))).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("lease_lost")),
        "{body}"
    );
    assert_eq!(
        ids(&s
            .ok(
                &a,
                "/station/v1/tasks/claim",
                &json!({"max": 1, "lease_s": 30}),
                200
            )
            .await),
        vec![t]
    );

    // recorded once, into the evaluation store too; a repeat is answered again
    let h1 = "1".repeat(64);
    let recorded = s.ok(&a, &path(t), &decision(&h1), 200).await;
    assert_eq!(
        recorded,
        json!({"task_id": t, "decision_hash": h1, "new": true})
    );
    let repeat = s.ok(&a, &path(t), &decision(&h1), 200).await;
    assert_eq!(repeat["new"], false);
    assert_eq!(corrections(h1.clone()).await, 1);
    let body: String = router::with_db!(&pool, pool => sqlx::query_scalar("SELECT body FROM corrections WHERE decision_hash = $1")
        .bind(&h1)
        .fetch_one(pool)
        .await)
        .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            body["task_id"].as_i64(),
            body["kind"].as_str(),
            body["action"].as_str()
        ),
        (Some(t), Some("compliance"), Some("approve"))
    );
    assert_eq!(body["after"], json!({"passed": true}));
    // the same station decides anew (its reviewer undid the first): the task takes the latest,
    // the evaluation store keeps both, each once
    let h2 = "2".repeat(64);
    let again = s.ok(&a, &path(t), &decision(&h2), 200).await;
    assert_eq!(again["new"], true);
    let standing: String =
        router::with_db!(&pool, pool => sqlx::query_scalar("SELECT decision_hash FROM shared_tasks WHERE id = $1")
            .bind(t)
            .fetch_one(pool)
            .await)
            .unwrap();
    assert_eq!(standing, h2);
    assert_eq!(corrections(h2.clone()).await, 1);
    assert_eq!(corrections(h1.clone()).await, 1);
    let repeat = s.ok(&a, &path(t), &decision(&h2), 200).await;
    assert_eq!(
        repeat["new"], false,
        "a repeat of the latest is answered again"
    );

    // b claims the rest; a's decision on one of them is not recorded
    assert_eq!(
        ids(&s
            .ok(
                &b,
                "/station/v1/tasks/claim",
                &json!({"max": 5, "lease_s": 30}),
                200
            )
            .await),
        vec![u, v]
    );
    let h3 = "3".repeat(64);
    let (status, _, body) = error_of(s.send(&a, &path(u), &decision(&h3)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("lease_lost")),
        "{body}"
    );
    assert_eq!(
        body["message"],
        format!("task {u} was taken over by another station: the decision was not recorded")
    );
    assert_eq!(
        (decided_by(u).await, corrections(h3.clone()).await),
        (None, 0)
    );

    // b's lease on u runs out and a takes it over: b's decision is now the one refused
    expire(u).await;
    assert_eq!(
        ids(&s
            .ok(
                &a,
                "/station/v1/tasks/claim",
                &json!({"max": 5, "lease_s": 30}),
                200
            )
            .await),
        vec![u]
    );
    let h4 = "4".repeat(64);
    let (status, _, body) = error_of(s.send(&b, &path(u), &decision(&h4)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("lease_lost")),
        "{body}"
    );
    assert_eq!((decided_by(u).await, corrections(h4).await), (None, 0));
    s.ok(&a, &path(u), &decision(&h3), 200).await;
    assert_eq!(corrections(h3).await, 1);

    // a lease that ran out with nobody claiming since still counts
    expire(v).await;
    s.ok(&b, &path(v), &decision(&"5".repeat(64)), 200).await;
    let b_id: i64 = router::with_db!(&pool, pool => sqlx::query_scalar("SELECT id FROM clients WHERE name = 'b'")
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!(decided_by(v).await, Some(b_id));

    let (status, _, body) =
        error_of(s.send(&a, &path(999_999), &decision(&"6".repeat(64))).await).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let mut undo = decision(&"7".repeat(64));
    undo["action"] = json!("undo");
    assert_eq!(s.send(&a, &path(t), &undo).await.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubtful_compliance_job_raises_a_shared_task() {
    let s = setup(Options::default()).await;
    let photo = std::fs::read(PHOTO).unwrap();
    let sha = s.upload(&s.key, &photo).await;
    // the fake's answers are fixed by the input: over eight stores some come back doubtful
    // (a rule undecided or under 0.6) and some sure
    let mut jobs = Vec::new();
    for i in 0..8 {
        let job = json!({"kind": "compliance_check", "input": {"store_id": format!("store-{i}"), "photo_sha256": sha,
            "rules": [{"id": "price_tags", "text": "Every product has a visible price tag"}]}});
        let accepted = s
            .http
            .post(format!("{}/station/v1/jobs", s.base))
            .bearer_auth(&s.key)
            .header("idempotency-key", format!("job-{i}"))
            .json(&job)
            .send()
            .await
            .unwrap();
        assert_eq!(accepted.status(), 202);
        jobs.push(
            accepted.json::<Value>().await.unwrap()["job_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut results = Vec::new();
    while results.len() < jobs.len() {
        let after = results
            .last()
            .map_or(0, |r: &Value| r["seq"].as_i64().unwrap());
        let more = s
            .get_json(
                &s.key,
                &format!("/station/v1/results?after={after}&wait=20"),
            )
            .await;
        assert!(!more.as_array().unwrap().is_empty(), "the jobs finish");
        results.extend(more.as_array().unwrap().iter().cloned());
    }
    let doubtful = |result: &Value| {
        result["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["passed"].is_null() || r["confidence"].as_f64().unwrap() < 0.6)
    };
    // another station sees them in the shared queue
    let reviewer = s.device("reviewer").await;
    let queued = s
        .ok(
            &reviewer,
            "/station/v1/tasks/claim",
            &json!({"max": 200, "lease_s": 60, "kind": "compliance"}),
            200,
        )
        .await;
    let queued = queued.as_array().unwrap();
    let origin: i64 = router::with_db!(&s.open_db().await, pool => sqlx::query_scalar("SELECT id FROM clients WHERE name = 'station-1'")
        .fetch_one(pool)
        .await)
        .unwrap();
    let (mut raised, mut sure) = (0, 0);
    for result in &results {
        assert_eq!(result["ok"], true, "{result}");
        let job = result["job_id"].as_i64().unwrap();
        let answer = &result["result"];
        let task = queued
            .iter()
            .find(|t| t["task_key"] == format!("job:{job}"));
        if !doubtful(answer) {
            assert!(task.is_none(), "a sure answer raises nothing: {answer}");
            sure += 1;
            continue;
        }
        raised += 1;
        let task =
            task.unwrap_or_else(|| panic!("job {job} was doubtful and raised no task: {answer}"));
        assert_eq!(task["origin_device"], origin);
        assert_eq!(
            (task["kind"].as_str(), task["versions"].as_str()),
            (Some("compliance"), Some("compliance_check.v1"))
        );
        assert_eq!(
            (task["item_sha256"].as_str(), task["blobs"].clone()),
            (Some(sha.as_str()), json!([sha]))
        );
        assert_eq!(task["model_output"]["result"], *answer);
        let store = task["model_output"]["input"]["store_id"].clone();
        assert_eq!(task["store_id"], store);
        let least = answer["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["confidence"].as_f64().unwrap())
            .fold(1.0, f64::min);
        assert!(
            (task["confidence"].as_f64().unwrap() - least).abs() < 1e-9,
            "{task}"
        );
        assert!(!task["reasons"].as_array().unwrap().is_empty());
    }
    assert_eq!(queued.len(), raised, "only doubtful jobs are raised");
    assert!(
        raised > 0 && sure > 0,
        "both kinds of answer were seen: {raised} doubtful, {sure} sure"
    );
}
