//! The audit chain's seal against someone who holds the database file and knows the (public)
//! hash algorithm: an appended row with a correct hash, a head rewritten after removing the
//! last rows, and the whole chain recomputed after a change all verify without the key — and
//! none does with it.

use sha2::{Digest, Sha256};
use store::{AuditSeal, DecisionRow, Store};

use super::{an_item, approve_all, sqlx_edit, task};

const KEY: [u8; 32] = [0x5a; 32];

/// The chain's hash as anyone can recompute it (the algorithm is in the open).
fn rehash(prev: &str, row: &DecisionRow) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &row.id.to_string(),
        &row.task_id.to_string(),
        &row.reviewer,
        &row.action,
        row.reason_code.as_deref().unwrap_or("\u{0}"),
        &row.before_json,
        &row.after_json,
        &row.decided_at,
        &row.duration_ms.to_string(),
        &row.diff_json,
        &row.versions,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Five decisions: two before the station had its key, three sealed.
async fn sealed_chain() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let item = an_item(&store, "a.jpg").await;
    let tasks: Vec<_> = (0..5).map(|_| task(item, "invoice", 0.5, "[]")).collect();
    store.enqueue_tasks(&tasks).await.unwrap();
    approve_all(&store, 2, 5).await;
    store.set_audit_seal(AuditSeal::new(KEY, 3));
    approve_all(&store, 3, 5).await;
    let rows = store.decisions(0, 10).await.unwrap();
    assert!(rows[..2].iter().all(|r| r.seal.is_none()));
    assert!(rows[2..].iter().all(|r| r.seal.is_some()));
    assert_eq!(store.verify_decisions().await.unwrap(), Ok(5));
    assert_eq!(store.seal_census().await.unwrap(), (3, 5));
    (dir, store)
}

/// The same file, checked by whoever does not hold the key.
async fn keyless(dir: &std::path::Path) -> Store {
    Store::open(dir).await.unwrap()
}

async fn drop_guards(db: &std::path::Path) {
    for trigger in [
        "review_decisions_append_only_update",
        "review_decisions_append_only_delete",
    ] {
        sqlx_edit(db, &format!("DROP TRIGGER {trigger}"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_appended_row_with_a_correct_hash_lacks_the_seal() {
    let (dir, store) = sealed_chain().await;
    let db = dir.path().join(store::DATABASE_FILE);
    drop_guards(&db).await;
    let last = store.decisions(4, 1).await.unwrap().remove(0);
    let mut forged = last.clone();
    forged.id = 6;
    forged.reviewer = "mallory".into();
    forged.prev_hash = last.hash.clone();
    forged.hash = rehash(&forged.prev_hash, &forged);
    sqlx_edit(
        &db,
        &format!(
            "INSERT INTO review_decisions (id, task_id, reviewer, action, reason_code, before_json, after_json, decided_at, duration_ms, diff_json, versions, prev_hash, hash) \
             SELECT 6, task_id, 'mallory', action, reason_code, before_json, after_json, decided_at, duration_ms, diff_json, versions, '{}', '{}' FROM review_decisions WHERE id = 5",
            forged.prev_hash, forged.hash
        ),
    )
    .await
    .unwrap();
    // the head moved with its trigger, as for any insert: the plain chain sees nothing wrong
    assert_eq!(
        keyless(dir.path()).await.verify_decisions().await.unwrap(),
        Ok(6)
    );
    let broken = store.verify_decisions().await.unwrap().unwrap_err();
    assert_eq!(broken.decision_id, 6);
    assert!(broken.problem.contains("no seal"), "{}", broken.problem);
}

#[tokio::test]
async fn a_head_rewritten_after_removing_the_last_rows_lacks_the_seal() {
    let (dir, store) = sealed_chain().await;
    let db = dir.path().join(store::DATABASE_FILE);
    drop_guards(&db).await;
    let fourth = store.decisions(3, 1).await.unwrap().remove(0);
    sqlx_edit(&db, "DELETE FROM review_decisions WHERE id = 5")
        .await
        .unwrap();
    sqlx_edit(
        &db,
        &format!(
            "UPDATE review_chain_head SET decisions = 4, last_id = 4, last_hash = '{}'",
            fourth.hash
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        keyless(dir.path()).await.verify_decisions().await.unwrap(),
        Ok(4)
    );
    let broken = store.verify_decisions().await.unwrap().unwrap_err();
    assert_eq!(broken.decision_id, 4);
    assert!(broken.problem.contains("head"), "{}", broken.problem);
    // nor does an old head's seal fit the new head
    sqlx_edit(
        &db,
        "UPDATE review_chain_head SET seal = (SELECT seal FROM review_decisions WHERE id = 4)",
    )
    .await
    .unwrap();
    assert!(store.verify_decisions().await.unwrap().is_err());
}

#[tokio::test]
async fn a_fully_recomputed_chain_lacks_the_seals() {
    let (dir, store) = sealed_chain().await;
    let db = dir.path().join(store::DATABASE_FILE);
    drop_guards(&db).await;
    // decision 3 is said to be someone else's; every hash from there on is recomputed
    sqlx_edit(
        &db,
        "UPDATE review_decisions SET reviewer = 'mallory' WHERE id = 3",
    )
    .await
    .unwrap();
    let mut prev = store.decisions(1, 1).await.unwrap().remove(0).hash;
    for row in store.decisions(2, 10).await.unwrap() {
        let hash = rehash(&prev, &row);
        sqlx_edit(
            &db,
            &format!(
                "UPDATE review_decisions SET prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
                row.id
            ),
        )
        .await
        .unwrap();
        prev = hash;
    }
    sqlx_edit(
        &db,
        &format!("UPDATE review_chain_head SET last_hash = '{prev}'"),
    )
    .await
    .unwrap();
    assert_eq!(
        keyless(dir.path()).await.verify_decisions().await.unwrap(),
        Ok(5)
    );
    let broken = store.verify_decisions().await.unwrap().unwrap_err();
    assert_eq!(broken.decision_id, 3);
    assert!(
        broken.problem.contains("seal does not match"),
        "{}",
        broken.problem
    );
    // and another key does not verify the honest part either
    let other = keyless(dir.path()).await;
    other.set_audit_seal(AuditSeal::new([1; 32], 3));
    assert!(other.verify_decisions().await.unwrap().is_err());
}

#[tokio::test]
async fn undos_are_sealed_too_and_the_honest_chain_verifies() {
    let (_dir, store) = sealed_chain().await;
    let rows = store.decisions(0, 10).await.unwrap();
    let undone = store
        .undo_decision(rows[4].task_id, "ana", 0, 60_000)
        .await
        .unwrap();
    assert!(undone.seal.is_some());
    assert_eq!(store.verify_decisions().await.unwrap(), Ok(6));
}
