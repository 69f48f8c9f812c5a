//! `review-router` with its ledger on PostgreSQL (Debian's, on a loopback port): keys, chat
//! completions recorded with their rollups, idempotent replays, quota rotation, an admin's
//! enrolment (accounts, TOTP, sessions) and the dashboards and request pages read back.

use serde_json::Value;

use super::{chat, replayed, script, setup, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_serves_and_records_on_postgresql() {
    let s = setup(Options {
        postgres: true,
        ..Options::default()
    })
    .await;
    for i in 0..3 {
        assert_eq!(
            s.post(&chat(&format!("on postgres {i}"))).await.status(),
            200
        );
    }
    // one key, one call: the repeat is the stored answer
    let once = || {
        s.http
            .post(format!("{}/v1/chat/completions", s.base))
            .bearer_auth(&s.key)
            .header("idempotency-key", "pg-once")
            .json(&chat("once on postgres"))
            .send()
    };
    let first = once().await.expect("an answer");
    assert_eq!(first.status(), 200);
    let again = once().await.expect("an answer");
    assert!(replayed(&again), "the repeat is replayed");
    // a spent quota moves traffic to the other backend
    s.gemini.set_script(script(
        r#"{"latency":{"fixed_ms":5},"faults":[{"kind":"quota"}]}"#,
    ));
    assert_eq!(s.post(&chat("rescued")).await.status(), 200);
    assert_eq!(s.post(&chat("after")).await.status(), 200);
    let (g, b) = (s.gemini.stats().requests, s.bedrock.stats().requests);
    assert_eq!(g + b, 3 + 1 + 2 + 1, "every call once: {g} + {b}");

    // an admin (accounts, TOTP, session) reads the dashboards and pages the requests back
    let admin = s.admin().await;
    let dashboard: Value = s
        .get_as(&admin, "/admin/v1/dashboard")
        .send()
        .await
        .expect("the dashboard")
        .json()
        .await
        .expect("a dashboard");
    let calls: u64 = dashboard["usage"]
        .as_array()
        .expect("usage points")
        .iter()
        .map(|p| p["attempts"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(calls, g + b, "the rollups count every call: {dashboard}");
    let mut seen = 0;
    let mut path = "/admin/v1/requests?limit=2".to_owned();
    for _ in 0..10 {
        let page: Value = s
            .get_as(&admin, &path)
            .send()
            .await
            .expect("a page")
            .json()
            .await
            .expect("a request page");
        seen += page["requests"].as_array().map_or(0, Vec::len);
        match page["next_before"].as_str() {
            Some(next) => {
                path = format!(
                    "/admin/v1/requests?limit=2&before={}",
                    next.replace('+', "%2B").replace(':', "%3A")
                );
            }
            None => break,
        }
    }
    assert_eq!(seen, 6, "the six requests that ran, paged two at a time");
    let ready: Value = s
        .http
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("a body");
    assert_eq!(ready["ledger"], Value::Bool(true));
    assert!(
        !s.db.exists(),
        "no SQLite file was made: the ledger is on PostgreSQL"
    );
}
