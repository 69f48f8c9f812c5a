//! The client against the real router over loopback HTTP: hello, enrolment under the station's
//! own key, resumable uploads, jobs submitted once, results by cursor, corrections counted once,
//! audit heads, a revoked key.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::station_api::{AuditHead, Correction, Corrections, JobKind, NewJob};
use protocol::ErrorCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use sync::retry::{Decision, RetryPolicy};
use sync::{BlobSource, RouterClient, SyncError, Uploaded};
use testbed::Router;
use tokio_util::sync::CancellationToken;

use crate::support;

const PHOTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/grocery/queries/Packages/Sour-Milk-Arla-Sour-Milk_002.jpg"
);

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_says_hello_and_enrols_under_a_key_it_made() {
    let router = Router::start().await;
    let client = RouterClient::new(&router.url, None).unwrap();
    let hello = client.hello().await.unwrap();
    assert_eq!(
        (hello.service.as_str(), hello.api),
        (protocol::station_api::ROUTER_SERVICE, 1)
    );
    assert!(hello.idempotency_retention_s >= 3600, "{hello:?}");

    // without a key, keyed calls are refused here, before any request
    assert!(matches!(
        client.results(0, Duration::ZERO, 10).await,
        Err(SyncError::NotEnrolled { .. })
    ));

    let (key, hash) = sync::new_device_key();
    let code = router.enrolment_code().await;
    let enrolled = client.enrol(&code, "elm-road", &key).await.unwrap();
    assert!(enrolled.device_id > 0);
    assert_eq!(
        enrolled.key, None,
        "the router never makes or shows the key"
    );
    // the answer lost on the way: the same enrolment again is answered as the first time
    let again = client.enrol(&code, "elm-road", &key).await.unwrap();
    assert_eq!(again.device_id, enrolled.device_id);
    // a used code with another key is refused with its code
    let (other, _) = sync::new_device_key();
    match client.enrol(&code, "elm-road", &other).await {
        Err(SyncError::Http { status, code, .. }) => {
            assert_eq!((status, code), (409, Some(ErrorCode::EnrolmentUsed)));
        }
        other => panic!("{other:?}"),
    }
    match client.enrol("enr-nonsense", "elm-road", &other).await {
        Err(SyncError::Http { status, code, .. }) => {
            assert_eq!((status, code), (401, Some(ErrorCode::EnrolmentInvalid)));
        }
        other => panic!("an unknown code is not a revoked key: {other:?}"),
    }
    // the station's key is the device's: the router took only its hash
    assert_eq!(hash, key.sha256_hex());
    let keyed = client.with_key(key);
    assert_eq!(keyed.results(0, Duration::ZERO, 10).await.unwrap(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_goes_on_from_the_routers_offset() {
    let router = Router::start().await;
    let (client, _, key) = support::enrolled(&router).await;
    // 2.5 MiB and a bit, not a multiple of the piece size, from a file on disk
    let blob: Vec<u8> = (0..2_700_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = sha256(&blob);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.bin");
    std::fs::write(&path, &blob).unwrap();
    assert_eq!(
        client.blob_state(&sha).await.unwrap(),
        None,
        "never started"
    );

    // another connection sent 300 000 bytes and was cut
    let first = router
        .http
        .patch(format!("{}/station/v1/blobs/{sha}", router.url))
        .bearer_auth(key.expose())
        .header("upload-offset", "0")
        .header("upload-length", blob.len().to_string())
        .body(blob[..300_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);

    // this upload is stopped after its first piece
    let cancel = CancellationToken::new();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&progress);
    let stop = cancel.clone();
    let stopped = client
        .upload_blob(
            &sha,
            BlobSource::File(&path),
            move |done, total| {
                heard.lock().unwrap().push((done, total));
                if done > 300_000 {
                    stop.cancel();
                }
            },
            &cancel,
        )
        .await;
    assert!(matches!(stopped, Err(SyncError::Cancelled)), "{stopped:?}");
    let total = blob.len() as u64;
    let piece = sync::transport::PIECE_BYTES;
    assert_eq!(
        *progress.lock().unwrap(),
        [(300_000, total), (300_000 + piece, total)],
        "from the router's offset, one piece"
    );
    let state = client.blob_state(&sha).await.unwrap().unwrap();
    assert_eq!((state.received, state.complete), (300_000 + piece, false));

    // and goes on from there: only the rest is sent
    let mut last = (0, 0);
    let done = client
        .upload_blob(
            &sha,
            BlobSource::File(&path),
            |d, t| last = (d, t),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        done,
        Uploaded {
            length: total,
            resumed_from: 300_000 + piece,
            sent: total - 300_000 - piece,
        }
    );
    assert_eq!(last, (total, total));
    let state = client.blob_state(&sha).await.unwrap().unwrap();
    assert!(state.complete && state.received == total, "{state:?}");
    // the router has exactly these bytes (they hashed to the name, or it would not be complete)
    let stored = router
        .http
        .get(format!("{}/station/v1/blobs/{sha}", router.url))
        .bearer_auth(key.expose())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(stored == blob, "the same bytes");

    // complete already: nothing is sent
    let again = client
        .upload_blob(
            &sha,
            BlobSource::Bytes(&blob),
            |_, _| {},
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!((again.sent, again.resumed_from), (0, total));
    // bytes that are not the blob of that name are refused by the router
    let mut wrong = blob.clone();
    wrong[5] ^= 1;
    let liar = client
        .upload_blob(
            &sha256(b"another blob of the same length? no"),
            BlobSource::Bytes(&wrong),
            |_, _| {},
            &CancellationToken::new(),
        )
        .await;
    match liar {
        Err(e @ SyncError::Http { .. }) => {
            assert!(
                matches!(e.failure(), sync::retry::Failure::Http { status: 422, .. }),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_submitted_once_and_its_result_comes_by_cursor() {
    let router = Router::start().await;
    let (client, device, _) = support::enrolled(&router).await;
    let photo = std::fs::read(PHOTO).unwrap();
    let sha = sha256(&photo);
    let job = |sha: &str| NewJob {
        kind: JobKind::ComplianceCheck,
        input: json!({"store_id": "main-street", "photo_sha256": sha,
            "rules": [{"id": "price_tags", "text": "Every product has a visible price tag"}]}),
    };
    // its photo is not up yet: refused for good, with the router's code
    let missing = client.submit_job("visit-1/photo-1", &job(&sha)).await;
    let Err(e @ SyncError::Http { .. }) = missing else {
        panic!("{missing:?}")
    };
    assert!(
        matches!(
            &e,
            SyncError::Http {
                status: 422,
                code: Some(ErrorCode::BlobMissing),
                ..
            }
        ),
        "{e}"
    );
    let now = time::OffsetDateTime::now_utc();
    assert!(matches!(
        RetryPolicy::default().decide(&e.failure(), 1, Duration::ZERO, 0.5, now),
        Decision::Park(_)
    ));

    client
        .upload_blob(
            &sha,
            BlobSource::Bytes(&photo),
            |_, _| {},
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let first = client
        .submit_job("visit-1/photo-1", &job(&sha))
        .await
        .unwrap();
    assert!(first.new);
    let repeat = client
        .submit_job("visit-1/photo-1", &job(&sha))
        .await
        .unwrap();
    assert_eq!(
        (repeat.job_id, repeat.new),
        (first.job_id, false),
        "one job"
    );

    let results = client
        .results(0, Duration::from_secs(20), 10)
        .await
        .unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    let result = &results[0];
    assert_eq!(
        (result.job_id, result.ok),
        (first.job_id, true),
        "{result:?}"
    );
    assert_eq!(result.prompt_version, "compliance_check.v1");
    // past the cursor there is nothing more
    let later = client
        .results(result.seq, Duration::from_secs(1), 10)
        .await
        .unwrap();
    assert_eq!(later, vec![]);

    // corrections: the same decision twice in a batch, and the batch again, count once
    let correction = Correction {
        decision_hash: "c".repeat(64),
        kind: "compliance".into(),
        rest: json!({"before": {"verdict": "fail"}, "after": {"verdict": "pass"}})
            .as_object()
            .cloned()
            .unwrap(),
    };
    let batch = Corrections {
        corrections: vec![correction.clone(), correction],
    };
    let received = client.send_corrections(&batch).await.unwrap();
    assert_eq!((received.received, received.new), (2, 1));
    let again = client.send_corrections(&batch).await.unwrap();
    assert_eq!((again.received, again.new), (2, 0));

    // audit heads: witnessed once, listed, and a rewritten history is refused with its code
    let head = AuditHead {
        decisions: 3,
        last_id: 3,
        last_hash: "d".repeat(64),
    };
    let witnessed = client.send_audit_head(&head).await.unwrap();
    assert_eq!(witnessed.head, head);
    assert_eq!(
        client.send_audit_head(&head).await.unwrap(),
        witnessed,
        "a repeat"
    );
    let rewritten = AuditHead {
        last_hash: "e".repeat(64),
        ..head.clone()
    };
    match client.send_audit_head(&rewritten).await {
        Err(SyncError::Http { status, code, .. }) => {
            assert_eq!((status, code), (409, Some(ErrorCode::AuditDiverged)));
        }
        other => panic!("{other:?}"),
    }
    let heads = client.audit_heads(0, 100).await.unwrap();
    assert_eq!(heads.first().map(|h| &h.head), Some(&head), "{heads:?}");

    // revoked: the station is told to enrol again, and the policy parks the job
    router.revoke(device).await;
    let revoked = client.results(0, Duration::ZERO, 10).await;
    let Err(e @ SyncError::Unauthorized { .. }) = revoked else {
        panic!("{revoked:?}")
    };
    assert!(
        e.to_string()
            .contains("reconnect with a new enrolment code"),
        "{e}"
    );
    assert!(matches!(
        RetryPolicy::default().decide(&e.failure(), 1, Duration::ZERO, 0.5, now),
        Decision::Park(_)
    ));
}
