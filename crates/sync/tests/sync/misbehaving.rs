//! The client against what is not a working router: nothing listening, no such host, a web
//! server, another API version, a clock far off, garbage and endless bodies, scripted refusals
//! and a moved upload offset, a certificate nobody trusts. Each is its own error.

use std::time::Duration;

use protocol::station_api::{JobKind, NewJob};
use protocol::ErrorCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use sync::retry::{Decision, Failure, RetryPolicy};
use sync::{BlobSource, ConnectFailure, RouterClient, SyncError};
use tokio_util::sync::CancellationToken;

use crate::support::{answer, canned, hello, json_answer, now_rfc3339};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_where_nothing_listens_is_a_connect_error_naming_the_host() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let client = RouterClient::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let error = client.hello().await.unwrap_err();
    assert!(
        matches!(&error, SyncError::Connect { host, why: ConnectFailure::Refused } if host == "127.0.0.1"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("cannot reach the router at 127.0.0.1"),
        "{error}"
    );
    assert!(matches!(error.failure(), Failure::Network(_)));
    // a host name that cannot exist (RFC 6761: .invalid never resolves)
    let nowhere = RouterClient::new("https://router.invalid", None).unwrap();
    let error = nowhere.hello().await.unwrap_err();
    let SyncError::Connect {
        why: ConnectFailure::UnknownHost(words),
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert!(!words.is_empty(), "the system's words: {error}");
    // plain http to another computer is refused before any connection
    assert!(matches!(
        RouterClient::new("http://10.1.2.3:8080", None),
        Err(SyncError::BadUrl { reason, .. }) if reason.contains("only to this computer")
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_a_router_is_told_apart() {
    let client = |url: &str| RouterClient::new(url, None).unwrap();
    let html = canned(vec![answer(
        "200 OK",
        &[("content-type", "text/html")],
        b"<!doctype html><html><body>Welcome to nginx!</body></html>",
    )])
    .await;
    let error = client(&html.url).hello().await.unwrap_err();
    let SyncError::NotARouter { reason, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(
        reason.contains("not JSON") && reason.contains("Welcome to nginx"),
        "{reason}"
    );
    assert!(matches!(error.failure(), Failure::Final(_)));
    assert_eq!(html.seen()[0].path, "/station/v1/hello");

    let other_json = canned(vec![json_answer(
        "200 OK",
        &json!({"service": "grafana", "api": 1, "version": "9", "now": now_rfc3339(), "idempotency_retention_s": 1}),
    )])
    .await;
    let error = client(&other_json.url).hello().await.unwrap_err();
    assert!(
        matches!(&error, SyncError::NotARouter { reason, .. } if reason.contains("\"grafana\"")),
        "{error:?}"
    );
    let missing = canned(vec![answer("404 Not Found", &[], b"")]).await;
    assert!(matches!(
        client(&missing.url).hello().await,
        Err(SyncError::NotARouter { .. })
    ));
    let newer = canned(vec![hello(2, &now_rfc3339())]).await;
    let error = client(&newer.url).hello().await.unwrap_err();
    assert!(
        matches!(
            error,
            SyncError::ApiVersion {
                router: 2,
                station: 1
            }
        ),
        "{error:?}"
    );
    let slow_clock = canned(vec![hello(1, "2020-01-01T00:00:00Z")]).await;
    let error = client(&slow_clock.url).hello().await.unwrap_err();
    assert!(
        matches!(error, SyncError::ClockSkew { ahead: true, .. }),
        "{error:?}"
    );
    let fine = canned(vec![hello(1, &now_rfc3339())]).await;
    assert_eq!(
        client(&fine.url).hello().await.unwrap().service,
        "review-router"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_huge_bodies_and_refusals_are_each_their_own_error() {
    let keyed = |url: &str| {
        RouterClient::new(url, Some(sync::Secret::new("rd-test-key-0123456789"))).unwrap()
    };
    // JSON, but not a page of results; the excerpt never shows the key even when echoed
    let garbage = canned(vec![json_answer(
        "200 OK",
        &json!({"echo": "Bearer rd-test-key-0123456789", "results": "none"}),
    )])
    .await;
    let error = keyed(&garbage.url)
        .results(0, Duration::ZERO, 10)
        .await
        .unwrap_err();
    let SyncError::Garbage { excerpt, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(
        excerpt.contains("[device key]") && !excerpt.contains("0123456789"),
        "{excerpt}"
    );
    assert_eq!(
        garbage.seen()[0].header("authorization"),
        Some("Bearer rd-test-key-0123456789"),
        "the key goes as a bearer token"
    );

    // larger than any answer could be: by its declared length, and as it streams without one
    let huge = vec![b' '; 2 << 20];
    let declared = canned(vec![answer("200 OK", &[], &huge)]).await;
    assert!(matches!(
        keyed(&declared.url).hello().await,
        Err(SyncError::TooLarge { limit, .. }) if limit == sync::transport::BODY_LIMIT
    ));
    let mut endless = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
    endless.extend_from_slice(&huge);
    let streamed = canned(vec![endless]).await;
    assert!(matches!(
        keyed(&streamed.url)
            .submit_job(
                "k",
                &NewJob {
                    kind: JobKind::LegalSummary,
                    input: json!({})
                }
            )
            .await,
        Err(SyncError::TooLarge { .. })
    ));

    // a refusal with its code and Retry-After, which the retry policy honours
    let busy = canned(vec![answer(
        "503 Service Unavailable",
        &[("content-type", "application/json"), ("retry-after", "7")],
        br#"{"code":"unavailable","message":"no backend has room","error":{"message":"no backend has room","type":"api_error","code":"unavailable"}}"#,
    )])
    .await;
    let error = keyed(&busy.url)
        .results(0, Duration::ZERO, 10)
        .await
        .unwrap_err();
    let SyncError::Http {
        status,
        code,
        message,
        retry_after,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        (*status, *code, message.as_str(), retry_after.as_deref()),
        (
            503,
            Some(ErrorCode::Unavailable),
            "no backend has room",
            Some("7")
        )
    );
    assert_eq!(
        RetryPolicy::default().decide(
            &error.failure(),
            1,
            Duration::ZERO,
            0.0,
            time::OffsetDateTime::now_utc()
        ),
        Decision::RetryIn(Duration::from_secs(7))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_lost_its_place_asks_the_router_again() {
    let blob = vec![7u8; 1000];
    let sha = hex::encode(Sha256::digest(&blob));
    let state = |offset: u64| {
        answer(
            "200 OK",
            &[
                ("upload-offset", &offset.to_string()),
                ("upload-length", "1000"),
                ("blob-complete", "false"),
            ],
            b"",
        )
    };
    // the router has 100 bytes; by the time the piece arrives another connection has sent 600
    let server = canned(vec![
        state(100),
        json_answer(
            "409 Conflict",
            &json!({"code": "offset_mismatch", "message": "the router has 600 bytes, not 100"}),
        ),
        state(600),
        json_answer(
            "200 OK",
            &json!({"length": 1000, "received": 1000, "complete": true}),
        ),
    ])
    .await;
    let client = RouterClient::new(&server.url, Some(sync::Secret::new("rd-k"))).unwrap();
    let done = client
        .upload_blob(
            &sha,
            BlobSource::Bytes(&blob),
            |_, _| {},
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        done.sent, 400,
        "only the rest, from the router's new offset"
    );
    let seen = server.seen();
    let patches: Vec<(Option<&str>, usize)> = seen
        .iter()
        .filter(|s| s.method == "PATCH")
        .map(|s| (s.header("upload-offset"), s.body.len()))
        .collect();
    assert_eq!(patches, [(Some("100"), 900), (Some("600"), 400)]);
    assert_eq!(
        seen.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["HEAD", "PATCH", "HEAD", "PATCH"]
    );
    assert_eq!(
        seen[1].header("content-type"),
        Some("application/offset+octet-stream")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_this_computer_does_not_trust_is_named_as_such() {
    let server = crate::tls::SelfSigned::start();
    let client = RouterClient::new(&server.url, None).unwrap();
    let error = client.hello().await.unwrap_err();
    assert!(
        matches!(&error, SyncError::Certificate { detail, .. } if detail.contains("authority this computer does not know")),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("certificate this computer does not trust"),
        "{error}"
    );
    assert!(matches!(error.failure(), Failure::Final(_)));
}
