//! The audit trail's verification and seal at the station's level: `--verify-audit`'s check
//! opens the database read-only and changes nothing it checks; a database from a newer version
//! is refused plainly; the audit key lives in the OS keyring (made at the first open that has
//! one, loaded after), and without a running keyring none is started and the check says so.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use station::Station;
use store::Store;
use testbed::GnomeKeyring;

/// Every file under `dir`: its bytes' hash and its modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (String, std::time::SystemTime)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                let bytes = std::fs::read(entry.path()).unwrap();
                files.insert(
                    entry.path().display().to_string(),
                    (
                        hex::encode(Sha256::digest(&bytes)),
                        meta.modified().unwrap(),
                    ),
                );
            }
        }
    }
    files
}

/// `tasks` open tasks, `n` of them approved by "ana" through the store (no station, so no
/// audit key).
async fn decided(dir: &Path, tasks: usize, n: usize) {
    let store = Store::open(dir).await.unwrap();
    let sha = store.blobs().put(b"a receipt").unwrap();
    let item = match store
        .record_item(
            &store::NewItem {
                blob: Some(sha),
                media_type: Some("image/jpeg".into()),
                file_name: "r.jpg".into(),
                source_path: "/photos/r.jpg".into(),
                byte_len: 9,
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
    let tasks: Vec<_> = (0..tasks)
        .map(|_| store::NewTask {
            item_id: item,
            kind: protocol::ResultKind::Invoice,
            store_id: "s1".into(),
            confidence: 0.5,
            reasons: "[]".into(),
            due_at: None,
            model_output: "{}".into(),
            versions: "{}".into(),
        })
        .collect();
    store.enqueue_tasks(&tasks).await.unwrap();
    let any = store::QueueFilter::default();
    for _ in 0..n {
        let task = store
            .claim_next("ana", &any, 0, 60_000, &[])
            .await
            .unwrap()
            .unwrap();
        let approve = store::NewDecision {
            action: protocol::DecisionAction::Approve,
            reason_code: None,
            before_json: "{}".into(),
            after_json: "{}".into(),
            duration_ms: 900,
            diff_json: "[]".into(),
            versions: "{}".into(),
        };
        store
            .decide_task(task.id, "ana", &approve, 0)
            .await
            .unwrap();
    }
    store.close().await;
    // the last connection's checkpoint removes the log; wait for it, so what the tests compare
    // is the closed directory, not one still settling
    let wal = dir.join(format!("{}-wal", store::DATABASE_FILE));
    for _ in 0..100 {
        if !wal.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!wal.exists(), "the store did not close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_reads_only_changes_nothing_and_still_finds_a_change() {
    let data = tempfile::tempdir().unwrap();
    decided(data.path(), 3, 3).await;
    let before = snapshot(data.path());
    let check = station::verify_audit_read_only(data.path()).await.unwrap();
    assert!(check.intact, "{check:?}");
    assert_eq!(check.decisions, 3);
    assert_eq!(
        snapshot(data.path()),
        before,
        "a verification changed the data directory"
    );
    // no configuration written, no migration run: the station's own open would have done both
    assert!(!data.path().join("gate.toml").exists());

    // a change made behind the triggers' back is found read-only too
    let db = data.path().join(store::DATABASE_FILE);
    let edit = |sql: &'static str| {
        let db = db.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        }
    };
    edit("DROP TRIGGER review_decisions_append_only_update").await;
    edit("UPDATE review_decisions SET reviewer = 'eve' WHERE id = 2").await;
    let before = snapshot(data.path());
    let check = station::verify_audit_read_only(data.path()).await.unwrap();
    assert!(!check.intact);
    assert_eq!(check.broken_at, Some(2));
    assert_eq!(snapshot(data.path()), before);

    // an empty folder is not a station's
    let empty = tempfile::tempdir().unwrap();
    let err = station::verify_audit_read_only(empty.path())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no station database"), "{err}");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_version_is_refused_plainly_and_left_alone() {
    let data = tempfile::tempdir().unwrap();
    decided(data.path(), 1, 1).await;
    let db = data.path().join(store::DATABASE_FILE);
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (990001, 'from the future', 1, x'00', 1)",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let before = snapshot(data.path());
    for err in [
        Station::open(data.path())
            .await
            .map(|_| ())
            .unwrap_err()
            .to_string(),
        station::verify_audit_read_only(data.path())
            .await
            .map(|_| ())
            .unwrap_err()
            .to_string(),
    ] {
        assert!(
            err.contains("newer Review Station") && err.contains("990001"),
            "{err}"
        );
    }
    assert_eq!(snapshot(data.path()), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_key_is_made_once_in_the_keyring_and_seals_what_comes_after() {
    let data = tempfile::tempdir().unwrap();
    // two decisions made before the station ever had a keyring
    decided(data.path(), 4, 2).await;
    let _keyring = GnomeKeyring::start();
    let station = Station::open(data.path()).await.unwrap();
    let check = station.verify_audit().await.unwrap();
    assert!(check.intact, "{check:?}");
    assert_eq!(
        check.seal.as_deref(),
        Some("sealed with this station's audit key from decision 3: no decision since")
    );
    station.session().sign_in("bo").unwrap();
    let any = protocol::QueueQuery::default();
    for _ in 0..2 {
        let task = station
            .review()
            .claim_next(&any, &[])
            .await
            .unwrap()
            .unwrap();
        station
            .review()
            .decide(task.id, protocol::DecisionInput::Approve, 700)
            .await
            .unwrap();
    }
    drop(station);
    // the key is loaded again (not made anew) and checks what it sealed
    let station = Station::open(data.path()).await.unwrap();
    let check = station.verify_audit().await.unwrap();
    assert_eq!(check.decisions, 4);
    assert_eq!(
        check.seal.as_deref(),
        Some("sealed with this station's audit key from decision 3: 2 seals and the head checked"),
        "{check:?}"
    );
    drop(station);
    let read_only = station::verify_audit_read_only(data.path()).await.unwrap();
    assert!(read_only.intact);
    assert!(read_only.seal.unwrap().contains("2 seals"));
}
