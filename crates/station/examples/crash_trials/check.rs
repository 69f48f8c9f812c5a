//! After every kill, before anything opens the data again: what the issue promises, read from
//! the files themselves. The audit check is the app's own `--verify-audit` (read-only, with
//! the key from the keyring); the rest is SQL on a read-only connection and the blob files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// What the app or a worker said it saved, over all its lives.
#[derive(Debug, Default)]
pub struct Acks {
    /// Import: file → the item it became.
    pub imported: BTreeMap<String, i64>,
    /// Visit photos: item → file names (a photo added again after a kill says so again).
    pub photos: BTreeMap<i64, BTreeSet<String>>,
    pub decisions: BTreeSet<String>,
    pub undos: BTreeSet<String>,
    pub exports: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub error_examples: BTreeMap<String, String>,
}

impl Acks {
    /// A worker's stdout line.
    pub fn take_line(&mut self, line: &str) -> bool {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("READY") => return true,
            Some("DECIDED") => {
                if let Some(hash) = words.nth(2) {
                    self.decisions.insert(hash.to_owned());
                }
            }
            Some("UNDONE") => {
                if let Some(hash) = words.nth(1) {
                    self.undos.insert(hash.to_owned());
                }
            }
            Some("PHOTO") => {
                let item = words.next().and_then(|w| w.parse().ok());
                let name = words.nth(1);
                if let (Some(item), Some(name)) = (item, name) {
                    self.photos.entry(item).or_default().insert(name.to_owned());
                }
            }
            Some("EXPORTED") => {
                if let Some(kind) = words.next() {
                    *self.exports.entry(kind.to_owned()).or_default() += 1;
                }
            }
            Some("ERROR") => {
                let what = words.next().unwrap_or("?").trim_end_matches(':').to_owned();
                *self.errors.entry(what.clone()).or_default() += 1;
                self.error_examples
                    .entry(what)
                    .or_insert_with(|| line.chars().take(240).collect());
            }
            _ => {}
        }
        false
    }
}

/// Blobs already read whole and found to hash to their names (they never change after).
#[derive(Debug, Default)]
pub struct Verified {
    pub blobs: HashSet<String>,
    pub files: HashSet<String>,
}

/// One check's findings and what it looked at.
#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<String>,
    pub items: u64,
    pub decisions: u64,
    pub leftover_temp_files: u64,
}

fn sha_file(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}

async fn open(db: &Path) -> Result<SqlitePool, String> {
    SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .map_err(|e| format!("the database does not open read-only: {e}"))
}

pub async fn after_kill(data_dir: &Path, acks: &Acks, verified: &mut Verified) -> Checked {
    let mut out = Checked::default();
    match station::verify_audit_read_only(data_dir).await {
        Ok(check) if check.intact => out.decisions = check.decisions,
        Ok(check) => out.findings.push(format!(
            "the audit chain is broken: {}",
            check.problem.unwrap_or_default()
        )),
        Err(error) => out
            .findings
            .push(format!("the audit check could not run: {error}")),
    }
    let pool = match open(&data_dir.join(station::DATABASE_FILE)).await {
        Ok(pool) => pool,
        Err(why) => {
            out.findings.push(why);
            return out;
        }
    };
    if let Err(why) = sql_checks(&pool, data_dir, acks, verified, &mut out).await {
        out.findings.push(format!("a check's query failed: {why}"));
    }
    pool.close().await;
    out.leftover_temp_files = std::fs::read_dir(data_dir.join("blobs/tmp"))
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    out
}

async fn sql_checks(
    pool: &SqlitePool,
    data_dir: &Path,
    acks: &Acks,
    verified: &mut Verified,
    out: &mut Checked,
) -> Result<(), sqlx::Error> {
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await?;
    if integrity != ["ok"] {
        out.findings.push(format!(
            "integrity_check: {}",
            integrity.join("; ").chars().take(300).collect::<String>()
        ));
    }
    // items: one per content, each blob whole under its name
    let items: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, blob_sha256 FROM items ORDER BY id")
            .fetch_all(pool)
            .await?;
    out.items = items.len() as u64;
    let mut by_blob: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (id, blob) in &items {
        if let Some(blob) = blob {
            by_blob.entry(blob).or_default().push(*id);
        }
    }
    for (blob, ids) in &by_blob {
        if ids.len() > 1 {
            out.findings
                .push(format!("content {blob} is {} items: {ids:?}", ids.len()));
        }
        if verified.blobs.contains(*blob) {
            continue;
        }
        let path = data_dir.join("blobs").join(&blob[..2]).join(blob);
        match sha_file(&path) {
            Ok(sha) if sha == *blob => {
                verified.blobs.insert((*blob).to_owned());
            }
            Ok(sha) => out
                .findings
                .push(format!("blob {blob} holds other bytes (sha256 {sha})")),
            Err(e) => out
                .findings
                .push(format!("blob {blob} cannot be read: {e}")),
        }
    }
    let item_blob: BTreeMap<i64, Option<&String>> =
        items.iter().map(|(id, b)| (*id, b.as_ref())).collect();
    // the import: every file the app said saved is its item, with the file's bytes
    for (file, item) in &acks.imported {
        match item_blob.get(item) {
            None => out.findings.push(format!(
                "{file} was shown imported as item {item}, which is gone"
            )),
            Some(blob) if !verified.files.contains(file) => {
                let want = sha_file(Path::new(file)).ok();
                if blob.map(String::as_str) != want.as_deref() {
                    out.findings.push(format!(
                        "item {item} does not hold the bytes of {file} it was shown for"
                    ));
                } else {
                    verified.files.insert(file.clone());
                }
            }
            Some(_) => {}
        }
    }
    // visit photos: each said added is in the visit once
    let photos: Vec<(i64, i64)> =
        sqlx::query_as("SELECT item_id, COUNT(*) FROM visit_photos GROUP BY item_id")
            .fetch_all(pool)
            .await?;
    let photos: BTreeMap<i64, i64> = photos.into_iter().collect();
    for (item, times) in &photos {
        if *times > 1 {
            out.findings
                .push(format!("photo item {item} is in visits {times} times"));
        }
    }
    for item in acks.photos.keys() {
        if !photos.contains_key(item) {
            out.findings.push(format!(
                "photo item {item} was shown added to the visit and is not there"
            ));
        }
    }
    // decisions: each shown as saved there once; per task, decisions and undos alternate
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT task_id, action, hash FROM review_decisions ORDER BY id")
            .fetch_all(pool)
            .await?;
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    let mut last: BTreeMap<i64, &str> = BTreeMap::new();
    for (task, action, hash) in &rows {
        *seen.entry(hash).or_default() += 1;
        let before = last.insert(*task, action);
        let undo = action == "undo";
        let was_undo = before.is_none_or(|a| a == "undo");
        if undo == was_undo {
            out.findings.push(format!(
                "task {task}: {action} after {}",
                before.unwrap_or("nothing")
            ));
        }
    }
    for hash in acks.decisions.iter().chain(&acks.undos) {
        match seen.get(hash.as_str()) {
            Some(1) => {}
            Some(n) => out
                .findings
                .push(format!("decision {hash} is recorded {n} times")),
            None => out
                .findings
                .push(format!("decision {hash} was shown saved and is gone")),
        }
    }
    let states: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, state FROM review_tasks WHERE id IN (SELECT task_id FROM review_decisions)",
    )
    .fetch_all(pool)
    .await?;
    for (task, state) in states {
        let decided = last.get(&task).is_some_and(|a| *a != "undo");
        if decided != (state == "decided") {
            out.findings.push(format!(
                "task {task} is {state} after its last decision {:?}",
                last.get(&task)
            ));
        }
    }
    Ok(())
}

/// An export under its chosen name is whole: a PDF to its end marker, a CSV's rows as wide as
/// its header, each JSONL line an object. (A `.part` beside it is not the export.)
pub fn exports_whole(dir: &Path) -> Vec<String> {
    let mut findings = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return findings;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".part") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            findings.push(format!("{name} cannot be read"));
            continue;
        };
        let whole = if name.ends_with(".pdf") {
            bytes.starts_with(b"%PDF-") && bytes.windows(5).rev().take(64).any(|w| w == b"%%EOF")
        } else if name.ends_with(".csv") {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(&bytes[..]);
            bytes.ends_with(b"\n") && reader.records().all(|r| r.is_ok())
        } else if name.ends_with(".jsonl") {
            bytes.is_empty()
                || (bytes.ends_with(b"\n")
                    && bytes
                        .split(|b| *b == b'\n')
                        .filter(|l| !l.is_empty())
                        .all(|l| {
                            serde_json::from_slice::<serde_json::Value>(l)
                                .is_ok_and(|v| v.is_object())
                        }))
        } else {
            true
        };
        if !whole {
            findings.push(format!("{name} is not whole ({} bytes)", bytes.len()));
        }
    }
    findings
}
