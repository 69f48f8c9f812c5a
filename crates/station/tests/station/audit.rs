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
type Files = BTreeMap<String, (String, std::time::SystemTime)>;

fn snapshot(dir: &Path) -> Files {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            // the log and its index go when the last connection closes, which may be now
            let transient = name.ends_with("-wal") || name.ends_with("-shm");
            let meta = match entry.metadata() {
                Err(e) if transient && e.kind() == std::io::ErrorKind::NotFound => continue,
                meta => meta.unwrap(),
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                let bytes = match std::fs::read(entry.path()) {
                    Err(e) if transient && e.kind() == std::io::ErrorKind::NotFound => continue,
                    bytes => bytes.unwrap(),
                };
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
    decided_by(dir, tasks, n, "ana", None).await;
}

/// As [`decided`], by `reviewer`, rejecting with `reason` when given (as stored text: what a
/// database edited by hand or written by an older version may hold).
async fn decided_by(dir: &Path, tasks: usize, n: usize, reviewer: &str, reason: Option<&str>) {
    super::photos_with_tasks(dir, tasks).await;
    let store = Store::open(dir).await.unwrap();
    let any = store::QueueFilter::default();
    for _ in 0..n {
        let task = store
            .claim_next(reviewer, &any, 0, 60_000, &[])
            .await
            .unwrap()
            .unwrap();
        let approve = store::NewDecision {
            action: if reason.is_some() {
                protocol::DecisionAction::Reject
            } else {
                protocol::DecisionAction::Approve
            },
            reason_code: reason.map(str::to_owned),
            before_json: "{}".into(),
            after_json: "{}".into(),
            duration_ms: 900,
            diff_json: "[]".into(),
            versions: "{}".into(),
        };
        store
            .decide_task(task.id, reviewer, &approve, 0)
            .await
            .unwrap();
    }
    store.close().await;
    // everything in the database file itself, whatever connection closes last
    let db = dir.join(store::DATABASE_FILE);
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
}

/// Nothing written by a check: no file added, no file's bytes or time changed; the database's
/// log and shared-memory index may go (a connection closing last removes them), the index may be
/// read-marked (readers write there) and an empty log truncated again, never the data.
fn assert_unchanged(before: &Files, after: &Files) {
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    for (path, seen) in after {
        match before.get(path) {
            None => panic!("a check added {path}"),
            Some(_) if path.ends_with("-shm") => {}
            // an empty log truncated again: its time moves, no byte does
            Some(was)
                if path.ends_with("-wal") && was.0 == EMPTY_SHA256 && seen.0 == EMPTY_SHA256 => {}
            Some(was) => assert_eq!(was, seen, "a check changed {path}"),
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        assert!(
            path.ends_with("-wal") || path.ends_with("-shm"),
            "a check removed {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_reads_only_changes_nothing_and_still_finds_a_change() {
    let data = tempfile::tempdir().unwrap();
    decided(data.path(), 3, 3).await;
    let before = snapshot(data.path());
    let check = station::verify_audit_read_only(data.path()).await.unwrap();
    assert!(check.intact, "{check:?}");
    assert_eq!(check.decisions, 3);
    assert_unchanged(&before, &snapshot(data.path()));
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
    assert_unchanged(&before, &snapshot(data.path()));

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
    assert_unchanged(&before, &snapshot(data.path()));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_that_does_not_fit_its_schema_is_refused_and_nothing_is_written() {
    let data = tempfile::tempdir().unwrap();
    decided(data.path(), 1, 0).await;
    let station = Station::open(data.path()).await.unwrap();
    station.session().sign_in("ana").unwrap();
    let any = protocol::QueueQuery::default();
    let task = station
        .review()
        .claim_next(&any, &[])
        .await
        .unwrap()
        .unwrap();
    for (after, says) in [
        (serde_json::json!("a string"), "not of type \"object\""),
        (
            serde_json::json!({"total": "=HYPERLINK(\"x\")"}),
            "is a required property",
        ),
        (serde_json::json!([1, 2]), "not of type \"object\""),
    ] {
        let err = station
            .review()
            .decide(task.id, protocol::DecisionInput::Correct { after }, 800)
            .await
            .unwrap_err();
        assert_eq!(err.code(), protocol::ErrorCode::InvalidRequest, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("the correction is not saved") && message.contains("invoice"),
            "{message}"
        );
        assert!(message.contains(says), "{message}");
    }
    // nothing reached the trail, the outbox or the evaluation set; the task is still held
    let check = station.verify_audit().await.unwrap();
    assert_eq!(check.decisions, 0);
    station
        .review()
        .decide(task.id, protocol::DecisionInput::Approve, 800)
        .await
        .unwrap();
    assert_eq!(station.verify_audit().await.unwrap().decisions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evaluation_csv_defuses_every_cell_a_spreadsheet_would_run() {
    let data = tempfile::tempdir().unwrap();
    decided_by(
        data.path(),
        1,
        1,
        "=HYPERLINK(\"http://x\",\"y\")",
        Some("@SUM(A1)"),
    )
    .await;
    let station = Station::open(data.path()).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("eval.csv");
    station
        .insights()
        .export_evaluation(&csv_path, station::EvaluationFormat::Csv)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let at = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(at("reviewer"), "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(at("reason_code"), "'@SUM(A1)");
    for cell in row.iter() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell a spreadsheet would run: {cell:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_named_as_such_and_left_as_it_is() {
    let data = tempfile::tempdir().unwrap();
    let garbage = vec![0x5au8; 64 * 1024];
    std::fs::write(data.path().join(store::DATABASE_FILE), &garbage).unwrap();
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
            err.contains("is damaged or is not a station database"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read(data.path().join(store::DATABASE_FILE)).unwrap(),
        garbage
    );
    let names: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [store::DATABASE_FILE]);
}
