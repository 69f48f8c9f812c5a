//! Backups taken while a reviewer works, and restores that check before they replace anything.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use station::backup::{check_backup, restore, MANIFEST_FILE};
use station::Station;
use store::Store;

use super::photos_with_tasks;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_a_review_shift_restores_whole_and_checked() {
    const TASKS: usize = 120;
    let data = tempfile::tempdir().unwrap();
    photos_with_tasks(data.path(), TASKS).await;
    std::fs::write(data.path().join("stores.toml"), "# the stores\n").unwrap();
    let station = Station::open(data.path()).await.unwrap();
    station.session().sign_in("ana").unwrap();

    // the shift: claim and approve every task, an undo now and then, while the backup runs
    let decided = Arc::new(AtomicU64::new(0));
    let shift = tokio::spawn({
        let station = Arc::clone(&station);
        let decided = Arc::clone(&decided);
        async move {
            let any = protocol::QueueQuery::default();
            let mut n = 0;
            while let Some(task) = station.review().claim_next(&any, &[]).await.unwrap() {
                station
                    .review()
                    .decide(task.id, protocol::DecisionInput::Approve, 600)
                    .await
                    .unwrap();
                n += 1;
                if n % 10 == 0 {
                    station.review().undo_decision(task.id).await.unwrap();
                    station
                        .review()
                        .decide(task.id, protocol::DecisionInput::Approve, 600)
                        .await
                        .unwrap();
                }
                decided.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // let the shift get going, then back up in the middle of it
    while decided.load(Ordering::Relaxed) < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("backup-1");
    let steps = AtomicU64::new(0);
    let progress = |done: u64, total: u64| {
        assert!(done <= total);
        steps.fetch_add(1, Ordering::Relaxed);
    };
    let manifest = station
        .back_up(&dest, &progress, &CancellationToken::new())
        .await
        .unwrap();
    let during = decided.load(Ordering::Relaxed);
    shift.await.unwrap();
    let after = station.verify_audit().await.unwrap();
    assert!(after.intact);
    // a snapshot of one instant inside the shift: some decisions, not all
    assert!(
        manifest.decisions > 0 && manifest.decisions < after.decisions,
        "{manifest:?} / {after:?} (decided {during} when it ended)"
    );
    assert_eq!(manifest.blobs, TASKS as u64);
    assert_eq!(
        steps.load(Ordering::Relaxed),
        TASKS as u64,
        "progress after every photo"
    );
    assert!(
        manifest.config.contains(&"stores.toml".to_owned()),
        "{:?}",
        manifest.config
    );
    assert!(!out.path().read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("partial")));
    drop(station);

    // the backup checks out, and restores into a fresh directory whole
    check_backup(&dest, data.path()).await.unwrap();
    let restored = out.path().join("restored");
    let (again, aside) = restore(&dest, &restored).await.unwrap();
    assert_eq!((again, aside), (manifest.clone(), None));
    let store = Store::open(&restored).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), Ok(()));
    assert_eq!(
        store.verify_decisions().await.unwrap(),
        Ok(manifest.decisions)
    );
    for blob in store.blob_refs().await.unwrap() {
        store::backup::verify_blob(&store.blobs().path_of(&blob.sha), &blob).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(restored.join("stores.toml")).unwrap(),
        "# the stores\n"
    );
    store.close().await;
    // the same folder again is refused: a backup goes to a new folder
    let station = Station::open(data.path()).await.unwrap();
    let err = station
        .back_up(&dest, &|_, _| {}, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    // a cancelled backup leaves nothing behind
    let cancel = CancellationToken::new();
    cancel.cancel();
    let cancelled = out.path().join("backup-cancelled");
    let err = station
        .back_up(&cancelled, &|_, _| {}, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.code(), protocol::ErrorCode::Cancelled);
    assert!(!cancelled.exists());
    assert_eq!(
        out.path().read_dir().unwrap().count(),
        2,
        "backup-1 and restored only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_is_refused_before_anything_is_replaced() {
    let data = tempfile::tempdir().unwrap();
    photos_with_tasks(data.path(), 5).await;
    let out = tempfile::tempdir().unwrap();
    let good = out.path().join("good");
    station::backup::back_up_dir(data.path(), &good, &|_, _| {})
        .await
        .unwrap();
    let copy = |name: &str| {
        let to = out.path().join(name);
        copy_dir(&good, &to);
        to
    };
    // a photo whose bytes changed
    let blob_changed = copy("blob-changed");
    let blob = walk(&blob_changed.join("blobs")).pop().unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    // a photo missing
    let blob_missing = copy("blob-missing");
    std::fs::remove_file(walk(&blob_missing.join("blobs")).pop().unwrap()).unwrap();
    // the database changed after the backup was made
    let db_changed = copy("db-changed");
    let db = db_changed.join(store::DATABASE_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    // not a backup at all
    let not_one = out.path().join("not-one");
    std::fs::create_dir(&not_one).unwrap();

    let target = tempfile::tempdir().unwrap();
    photos_with_tasks(target.path(), 1).await;
    let before = walk(target.path());
    for (backup, says) in [
        (&blob_changed, "is damaged"),
        (&blob_missing, "reading"),
        (&db_changed, "its database hashes to"),
        (&not_one, "is not a Review Station backup"),
    ] {
        let err = restore(backup, target.path()).await.unwrap_err();
        assert!(
            err.to_string().contains(says),
            "{}: {err}",
            backup.display()
        );
        assert_eq!(walk(target.path()), before, "nothing replaced");
    }
    // the good one replaces it, and the old directory is kept aside
    let (_, aside) = restore(&good, target.path()).await.unwrap();
    let aside = aside.unwrap();
    assert!(aside.join(store::DATABASE_FILE).is_file());
    assert!(!target.path().join(MANIFEST_FILE).exists());
    let _ = std::fs::remove_dir_all(aside);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !name.ends_with("-wal") && !name.ends_with("-shm") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for file in walk(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}
