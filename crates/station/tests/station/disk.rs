//! A full disk and a disk that stops taking writes, for real: the data directory on a small
//! tmpfs that fills up, then remounted read-only. The test runs itself again inside its own
//! user and mount namespace (`unshare --user --map-root-user --mount`), where it may mount a
//! filesystem without privileges outside it and where the mount disappears with it.
//!
//! What must hold: the user is told the disk is full (or read-only) with a specific code, and
//! the disk is named (mount point, device, free space); what failed is reported (the file
//! listed as not imported, the decision refused) and not half-saved; nothing stored before is
//! damaged (integrity, audit chain, every earlier photo readable); and when space returns the
//! same station saves again, without a restart.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use protocol::{DecisionInput, ErrorCode, QueueQuery};
use station::{FileResult, Station};

/// Set in the namespace's run: the test's body runs there.
const INSIDE: &str = "STATION_TEST_INSIDE_NAMESPACE";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_or_read_only_disk_is_named_damages_nothing_and_space_returning_is_noticed() {
    if std::env::var_os(INSIDE).is_some() {
        return inside().await;
    }
    let output = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--propagation", "private", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "disk::a_full_or_read_only_disk_is_named_damages_nothing_and_space_returning_is_noticed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INSIDE, "1")
        .output()
        .expect("unshare runs (util-linux)");
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && out.contains("1 passed"),
        "the run in a namespace failed ({}):\n{out}\n{err}",
        output.status
    );
}

fn mount(args: &[&str], at: &Path) {
    let status = Command::new("mount").args(args).arg(at).status().unwrap();
    assert!(status.success(), "mount {args:?} {}", at.display());
}

/// Fills the filesystem at `dir` with one file until the OS says no space is left.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "filling: {e}"); // ENOSPC
                break;
            }
        }
    }
    // the last partial blocks too
    while file.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
    let _ = file.sync_all();
    path
}

/// A photo of its own (new bytes after the JPEG's end: decodes as the fixture does).
fn photo(dir: &Path, name: &str, salt: u32) -> PathBuf {
    let mut bytes = std::fs::read(super::fixture_dir("sharp.jpg")).unwrap();
    bytes.extend(salt.to_le_bytes());
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn integrity(data: &Path) -> String {
    use sqlx::Connection;
    let url = format!(
        "sqlite://{}?mode=ro",
        data.join(station::DATABASE_FILE).display()
    );
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    ok
}

async fn decisions(station: &Arc<Station>) -> u64 {
    station.review().verify_audit().await.unwrap().decisions
}

async fn inside() {
    let disk = tempfile::tempdir().unwrap();
    mount(&["-t", "tmpfs", "-o", "size=8m", "tmpfs"], disk.path());
    let data = disk.path().join("data");
    let sources = tempfile::tempdir().unwrap(); // the user's photos: on another disk
    super::photos_with_tasks(&data, 150).await;
    let station = Station::open(&data).await.unwrap();
    station.session().sign_in("ana").unwrap();
    let before = super::import_one(&station, photo(sources.path(), "before.jpg", 1)).await;

    // the disk fills up (another program, a sync folder…)
    let filler = fill(disk.path());
    let status = station.disk_status();
    assert_eq!(status.mount_point, disk.path().display().to_string());
    assert_eq!(status.device.as_deref(), Some("tmpfs"));
    assert!(
        status.free_bytes.is_some_and(|f| f < 64 * 1024),
        "{status:?}"
    );
    assert!(status.writable && !status.ok());

    // an import is refused by name, the file left where it was
    let new = photo(sources.path(), "while-full.jpg", 2);
    let outcome = station.imports().import_one(&new).await;
    match &outcome.result {
        FileResult::Failed { code, message, .. } => {
            assert_eq!(*code, ErrorCode::DiskFull, "{message}");
            assert!(message.contains("is full"), "{message}");
        }
        other => panic!("imported on a full disk? {other:?}"),
    }
    assert!(new.is_file());

    // decisions go on until the database's log needs a new page; the one refused is not kept
    let review = station.review();
    let mut saved = 0u64;
    let refused = loop {
        let task = review
            .claim_next(&QueueQuery::default(), &[])
            .await
            .unwrap()
            .expect("a task");
        match review.decide(task.id, DecisionInput::Approve, 900).await {
            Ok(_) => saved += 1,
            Err(error) => break (task.id, error),
        }
        assert!(saved < 140, "140 decisions fitted on a full disk");
    };
    assert_eq!(refused.1.code(), ErrorCode::DiskFull, "{}", refused.1);
    assert!(refused.1.to_string().contains("not saved"), "{}", refused.1);
    assert_eq!(decisions(&station).await, saved);
    assert_eq!(integrity(&data).await, "ok");

    // what was stored before is whole and readable
    let item = station.imports().get_item(before).await.unwrap();
    assert_eq!(item.item.id, before);
    let audit = station.review().verify_audit().await.unwrap();
    assert!(audit.intact, "{audit:?}");

    // space returns: the same station saves again, no restart
    std::fs::remove_file(&filler).unwrap();
    assert!(station.disk_status().ok());
    let again = station.imports().import_one(&new).await;
    assert!(
        matches!(again.result, FileResult::Imported { .. }),
        "{again:?}"
    );
    review
        .decide(refused.0, DecisionInput::Approve, 900)
        .await
        .unwrap();
    assert_eq!(decisions(&station).await, saved + 1);

    assert_eq!(integrity(&data).await, "ok");

    // the station closed, the disk comes back read-only (a card's lock switch, a failing disk
    // remounted by the OS): the station opens to be read (read-only mode), refuses each save
    // with its own code, and the data can still be verified and backed up elsewhere
    drop(station);
    let mut remounted = false;
    for _ in 0..100 {
        // the database's connections close in the background
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(disk.path())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        if status.success() {
            remounted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(remounted, "the tmpfs could not be remounted read-only");
    let status = station::disk::disk_status(&data);
    assert!(!status.writable && !status.ok(), "{status:?}");
    let station = Station::open(&data).await.unwrap();
    assert_eq!(
        station.imports().get_item(before).await.unwrap().item.id,
        before
    );
    assert_eq!(decisions(&station).await, saved + 1);
    let review = station.review();
    let code = match review.claim_next(&QueueQuery::default(), &[]).await {
        Err(error) => error.code(),
        Ok(task) => review
            .decide(task.expect("a task").id, DecisionInput::Approve, 900)
            .await
            .map(|_| ())
            .expect_err("a decision saved on a read-only disk")
            .code(),
    };
    assert_eq!(code, ErrorCode::DataReadOnly);
    let refused = station
        .imports()
        .import_one(&photo(sources.path(), "ro.jpg", 3))
        .await;
    match &refused.result {
        FileResult::Failed { code, message, .. } => {
            assert_eq!(*code, ErrorCode::DataReadOnly, "{message}");
            assert!(message.contains("cannot be written"), "{message}");
        }
        other => panic!("imported onto a read-only disk? {other:?}"),
    }
    drop(station);
    let audit = station::verify_audit_read_only(&data).await.unwrap();
    assert!(audit.intact && audit.decisions == saved + 1, "{audit:?}");
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("backup");
    station::backup::back_up_dir(&data, &copy, &|_, _| {})
        .await
        .unwrap();
    mount(&["-o", "remount,rw"], disk.path());
    Command::new("umount").arg(disk.path()).status().unwrap();
}

/// Stored files damaged while the station was closed (one deleted, one cut short, one with a
/// byte changed): the start finds the first two by name with what to do, the third is refused
/// when read, and importing the originals again repairs all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_damaged_stored_file_is_found_at_start_and_its_original_repairs_it() {
    let data = tempfile::tempdir().unwrap();
    let sources = tempfile::tempdir().unwrap();
    let originals: Vec<PathBuf> = ["gone.jpg", "short.jpg", "flipped.jpg"]
        .iter()
        .zip(10..)
        .map(|(name, salt)| photo(sources.path(), name, salt))
        .collect();
    let station = Station::open(data.path()).await.unwrap();
    let mut blobs = Vec::new();
    for original in &originals {
        let id = super::import_one(&station, original.clone()).await;
        let sha = station
            .imports()
            .get_item(id)
            .await
            .unwrap()
            .item
            .blob_sha256
            .unwrap();
        blobs.push(store::Sha256Hex::parse(&sha).unwrap());
    }
    let clean = station.check_data().await.unwrap();
    assert_eq!((clean.files, clean.faults), (3, 0));
    drop(station);

    let store = store::BlobStore::existing(&data.path().join("blobs"));
    std::fs::remove_file(store.path_of(&blobs[0])).unwrap();
    let short = std::fs::read(store.path_of(&blobs[1])).unwrap();
    std::fs::write(store.path_of(&blobs[1]), &short[..short.len() / 2]).unwrap();
    let mut flipped = std::fs::read(store.path_of(&blobs[2])).unwrap();
    flipped[1000] ^= 0x40;
    std::fs::write(store.path_of(&blobs[2]), &flipped).unwrap();

    let station = Station::open(data.path()).await.unwrap();
    let check = station.check_data().await.unwrap();
    assert_eq!((check.files, check.faults), (3, 2), "{check:?}");
    assert!(
        check
            .examples
            .contains(&"gone.jpg: its file is missing".to_owned()),
        "{check:?}"
    );
    assert!(
        check
            .examples
            .iter()
            .any(|e| e.starts_with("short.jpg: its file has another size")),
        "{check:?}"
    );
    assert!(
        check
            .advice
            .as_deref()
            .is_some_and(|a| a.contains("--restore")),
        "{check:?}"
    );
    let damaged = store.read(&blobs[2]).unwrap_err().to_string();
    assert!(damaged.contains("is damaged"), "{damaged}");

    for original in &originals {
        let again = station.imports().import_one(original).await;
        assert!(
            matches!(again.result, FileResult::Duplicate { .. }),
            "{again:?}"
        );
    }
    let repaired = station.check_data().await.unwrap();
    assert_eq!((repaired.files, repaired.faults), (3, 0), "{repaired:?}");
    for sha in &blobs {
        store.read(sha).unwrap();
    }
}
