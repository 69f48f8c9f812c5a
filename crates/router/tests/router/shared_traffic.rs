//! The traffic state replicas share, on a real redis-server (Debian's, on a loopback port): each
//! `SharedTraffic` below is its own connection, as each replica has. Then whole replicas (the
//! router's binary, several on one ledger): caps, rates, rotation, idempotency, jobs and blobs
//! across them, and what a killed one leaves.
//!
//! Past 600 lines: the replica scenarios share one harness (`Replica`, the gauges, the result
//! polls), and each is a separate claim of the issue.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use router::traffic::counters::Rates;
use router::traffic::health::OutReason;
use router::traffic::shared::{Renewal, SharedTraffic};
use serde_json::Value;
use testbed::Redis;

use super::{chat, script, setup, spawn_router, Options, Setup};

async fn replica(redis: &Redis, prefix: &str, slot_ttl: Duration) -> SharedTraffic {
    let shared = SharedTraffic::open(&redis.url(), prefix, slot_ttl).expect("a redis URL");
    shared.ping().await.expect("redis-server answers");
    shared
}

#[tokio::test]
async fn slots_hold_the_cap_across_replicas_and_lapse_unless_renewed() {
    let redis = Redis::start();
    let ttl = Duration::from_millis(600);
    let (a, b) = (
        replica(&redis, "slots", ttl).await,
        replica(&redis, "slots", ttl).await,
    );
    assert!(a.try_acquire("gemini", 3, "a1").await.unwrap());
    assert!(a.try_acquire("gemini", 3, "a2").await.unwrap());
    assert!(b.try_acquire("gemini", 3, "b1").await.unwrap());
    assert!(
        !b.try_acquire("gemini", 3, "b2").await.unwrap(),
        "a 4th slot of 3"
    );
    assert!(!a.try_acquire("gemini", 3, "a3").await.unwrap());
    // another backend has its own cap
    assert!(b.try_acquire("bedrock", 1, "b2").await.unwrap());
    assert_eq!(a.in_flight("gemini").await.unwrap(), 3);
    assert_eq!(b.in_flight("gemini").await.unwrap(), 3);
    a.release("gemini", "a2").await.unwrap();
    assert!(b.try_acquire("gemini", 3, "b2").await.unwrap());
    // a1 is renewed while its call runs; b1 and b2 belong to a replica that died
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(a.renew("gemini", "a1").await.unwrap(), Renewal::Renewed);
    }
    assert_eq!(
        a.in_flight("gemini").await.unwrap(),
        1,
        "dead slots came back"
    );
    assert_eq!(b.renew("gemini", "b1").await.unwrap(), Renewal::Lapsed);
    assert!(a.try_acquire("gemini", 3, "a4").await.unwrap());
    assert!(a.try_acquire("gemini", 3, "a5").await.unwrap());
    assert!(!a.try_acquire("gemini", 3, "a6").await.unwrap());
}

#[tokio::test]
async fn concurrent_callers_on_three_replicas_never_pass_the_cap() {
    let redis = Redis::start();
    let cap = 4;
    let holding = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    let held = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for r in 0..3 {
        let shared = replica(&redis, "race", Duration::from_secs(5)).await;
        for t in 0..20 {
            let (shared, holding, most, held) =
                (shared.clone(), holding.clone(), most.clone(), held.clone());
            tasks.push(tokio::spawn(async move {
                let holder = format!("r{r}-t{t}");
                for _ in 0..5 {
                    if shared.try_acquire("gemini", cap, &holder).await.unwrap() {
                        let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        held.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(3)).await;
                        holding.fetch_sub(1, Ordering::SeqCst);
                        shared.release("gemini", &holder).await.unwrap();
                    } else {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let most = most.load(Ordering::SeqCst);
    assert!(most <= cap, "{most} held at once, cap {cap}");
    assert_eq!(most, cap, "60 callers should fill the cap at some point");
    assert!(held.load(Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn counters_and_admission_count_every_replica() {
    let redis = Redis::start();
    let (a, b) = (
        replica(&redis, "rates", Duration::from_secs(5)).await,
        replica(&redis, "rates", Duration::from_secs(5)).await,
    );
    for _ in 0..3 {
        a.record().await.unwrap();
    }
    b.record().await.unwrap();
    assert_eq!(b.record().await.unwrap(), Rates { rpm: 5, rps10: 5 });
    assert_eq!(a.rates().await.unwrap(), Rates { rpm: 5, rps10: 5 });

    // one bucket per client key: 1 per second, bursts of 3, wherever the requests land
    assert_eq!(a.admit(7, 1, 3).await.unwrap(), Ok(()));
    assert_eq!(b.admit(7, 1, 3).await.unwrap(), Ok(()));
    assert_eq!(a.admit(7, 1, 3).await.unwrap(), Ok(()));
    let wait = b.admit(7, 1, 3).await.unwrap().err();
    assert!(
        wait.is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(1)),
        "{wait:?}"
    );
    assert_eq!(b.admit(8, 1, 3).await.unwrap(), Ok(()), "another key");
    tokio::time::sleep(wait.unwrap_or_default()).await;
    assert_eq!(a.admit(7, 1, 3).await.unwrap(), Ok(()), "after the wait");
}

#[tokio::test]
async fn a_backend_one_replica_takes_out_is_out_for_all() {
    let redis = Redis::start();
    let (a, b) = (
        replica(&redis, "out", Duration::from_secs(5)).await,
        replica(&redis, "out", Duration::from_secs(5)).await,
    );
    assert_eq!(b.out_for("gemini").await.unwrap(), None);
    let out = a
        .take_out("gemini", Duration::from_secs(60), OutReason::Quota)
        .await
        .unwrap();
    assert!(out > Duration::from_secs(59), "{out:?}");
    let seen = b.out_for("gemini").await.unwrap();
    assert!(
        seen.is_some_and(|(left, reason)| left > Duration::from_secs(58)
            && left <= Duration::from_secs(60)
            && reason == OutReason::Quota),
        "{seen:?}"
    );
    // a shorter end set later keeps the longer one; the other backend stays in
    let kept = b
        .take_out("gemini", Duration::from_secs(1), OutReason::DailyLimit)
        .await
        .unwrap();
    assert!(kept > Duration::from_secs(58), "{kept:?}");
    assert_eq!(a.out_for("bedrock").await.unwrap(), None);
    // a short one lapses for everyone
    a.take_out("bedrock", Duration::from_millis(200), OutReason::Quota)
        .await
        .unwrap();
    assert!(b.out_for("bedrock").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.out_for("bedrock").await.unwrap(), None);
    // the day's errors are one count
    assert_eq!(a.count_error("gemini", "2026-12-03").await.unwrap(), 1);
    assert_eq!(b.count_error("gemini", "2026-12-03").await.unwrap(), 2);
    assert_eq!(a.errors_on("gemini", "2026-12-03").await.unwrap(), 2);
    assert_eq!(a.errors_on("gemini", "2026-12-04").await.unwrap(), 0);
}

#[tokio::test]
async fn a_stopped_redis_is_an_error_never_a_local_answer() {
    let redis = Redis::start();
    let shared = replica(&redis, "gone", Duration::from_secs(5)).await;
    shared.ping().await.unwrap();
    drop(redis);
    assert!(shared.ping().await.is_err());
    assert!(shared.try_acquire("gemini", 3, "h").await.is_err());
    assert!(shared.record().await.is_err());
}

/// Another `review-router` on the same config (ledger and Redis) as `s`, killed when dropped.
struct Replica {
    child: std::process::Child,
    base: String,
}

impl Replica {
    fn start(s: &Setup) -> Self {
        let (child, address) = spawn_router(&s.config_path, s.redis.as_deref());
        Self {
            child,
            base: format!("http://{address}"),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post_to(s: &Setup, base: &str, text: &str) -> reqwest::Response {
    s.http
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(&s.key)
        .json(&chat(text))
        .send()
        .await
        .expect("a response")
}

async fn post_once(s: &Setup, base: &str, text: &str, key: &str) -> reqwest::Response {
    s.http
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(&s.key)
        .header("idempotency-key", key)
        .json(&chat(text))
        .send()
        .await
        .expect("a response")
}

/// One gauge of a replica's `/metrics` (`name{backend="gemini"}` or a bare name).
async fn gauge(s: &Setup, base: &str, series: &str) -> String {
    let text = s
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ').map(str::to_owned))
        .unwrap_or_else(|| panic!("no {series} in {text}"))
}

async fn ready(s: &Setup, base: &str) -> (u16, Value) {
    let response = s
        .http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("readyz body"))
}

/// Three replicas on one ledger and one Redis, in front of the fake backends: the fakes' own
/// maximum in flight proves the caps are the deployment's, not each process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_caps_rates_rotation_and_a_killed_ones_slots_come_back() {
    let redis = Redis::start();
    let s = setup(Options {
        caps: (2, 3),
        queue_wait_ms: 8000,
        redis: Some(redis.url()),
        slot_ttl_ms: 1500,
        ..Options::default()
    })
    .await;
    let mut replicas = vec![Replica::start(&s), Replica::start(&s)];
    let bases: Vec<String> = std::iter::once(s.base.clone())
        .chain(replicas.iter().map(|r| r.base.clone()))
        .collect();
    assert_eq!(ready(&s, &bases[2]).await.1["shared"], Value::Bool(true));

    // caps: 30 requests at once, ten on each replica; one process's cap would let 6 through
    for fake in [&s.gemini, &s.bedrock] {
        fake.set_script(script(r#"{"latency":{"fixed_ms":150}}"#));
    }
    let texts: Vec<String> = (0..30).map(|i| format!("q{i}")).collect();
    let sends = texts
        .iter()
        .enumerate()
        .map(|(i, text)| post_to(&s, &bases[i % 3], text));
    let answers = futures_util::future::join_all(sends).await;
    assert!(answers.iter().all(|r| r.status() == 200));
    let (g, b) = (s.gemini.stats(), s.bedrock.stats());
    assert_eq!(g.requests + b.requests, 30);
    assert_eq!(
        g.max_in_flight, 2,
        "the primary's cap of 2 across 3 replicas"
    );
    assert!(b.max_in_flight <= 3, "secondary: {}", b.max_in_flight);
    // the counters are every replica's
    assert_eq!(
        gauge(&s, &bases[1], "router_requests_last_minute").await,
        "30"
    );
    // their rows are written off the request path: the victim below must have written its ten
    // before it is killed (what a SIGKILL loses is the queue in its memory, not what it wrote)
    drop(s.ledger(30).await);

    // a replica killed mid-call: its two slots come back within the slot TTL
    for fake in [&s.gemini, &s.bedrock] {
        fake.set_script(script(r#"{"latency":{"fixed_ms":4000}}"#));
    }
    let victim = replicas.remove(1);
    let (base, http, key) = (victim.base.clone(), s.http.clone(), s.key.clone());
    {
        let (base, http, key) = (base.clone(), http.clone(), key.clone());
        tokio::spawn(async move {
            let _ = http
                .post(format!("{base}/v1/chat/completions"))
                .bearer_auth(key)
                .header("idempotency-key", "key-of-the-killed")
                .json(&chat("cut once"))
                .send()
                .await;
        });
    }
    for i in 0..2 {
        let (base, http, key) = (base.clone(), http.clone(), key.clone());
        tokio::spawn(async move {
            let _ = http
                .post(format!("{base}/v1/chat/completions"))
                .bearer_auth(key)
                .json(&chat(&format!("cut {i}")))
                .send()
                .await;
        });
    }
    let held_by = |v: String| v == "2";
    let started = std::time::Instant::now();
    while !held_by(gauge(&s, &bases[0], "router_in_flight{backend=\"gemini\"}").await) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the calls never held the slots"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // the same key at another replica while the first runs: 409, never a second run
    let second = post_once(&s, &bases[0], "cut once", "key-of-the-killed").await;
    assert_eq!(second.status(), 409);
    let body: Value = second.json().await.expect("an error body");
    assert_eq!(body["code"], "idempotency_in_progress");
    let calls_before_kill = s.gemini.stats().requests + s.bedrock.stats().requests;
    drop(victim); // SIGKILL
    let killed = std::time::Instant::now();
    while gauge(&s, &bases[0], "router_in_flight{backend=\"gemini\"}").await != "0" {
        assert!(
            killed.elapsed() < Duration::from_millis(1500 + 700),
            "the killed replica's slots are still held after {:?}",
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back_after = killed.elapsed();
    assert!(
        back_after > Duration::from_millis(300),
        "slots came back before any TTL could lapse ({back_after:?}): not by the TTL"
    );

    for fake in [&s.gemini, &s.bedrock] {
        fake.set_script(script(r#"{"latency":{"fixed_ms":5}}"#));
    }
    // the killed replica's idempotency key is free again within the mark's TTL (the same as
    // the slots'), not after the ledger's 10-minute abandonment; it then runs once
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        calls_before_kill
    );
    let retried = post_once(&s, &bases[0], "cut once", "key-of-the-killed").await;
    assert_eq!(retried.status(), 200);
    let replayed = post_once(&s, &bases[1], "cut once", "key-of-the-killed").await;
    assert_eq!(replayed.status(), 200);
    assert_eq!(
        replayed
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        calls_before_kill + 1,
        "the retry ran once; its replay reached no backend"
    );

    // one key sent to two replicas at the same moment runs once: the other answer is a 409
    // (still running) or the first one's replay
    let before = s.gemini.stats().requests + s.bedrock.stats().requests;
    let (a, b) = tokio::join!(
        post_once(&s, &bases[0], "both at once", "key-at-two-replicas"),
        post_once(&s, &bases[1], "both at once", "key-at-two-replicas"),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    let replayed = [&a, &b]
        .iter()
        .filter(|r| r.headers().contains_key("idempotent-replayed"))
        .count();
    assert!(
        statuses == [200, 409] || (statuses == [200, 200] && replayed == 1),
        "{statuses:?}, {replayed} replayed"
    );
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        before + 1,
        "one call for the key"
    );

    // a quota error seen by one replica takes the backend out for all
    s.gemini.set_script(script(
        r#"{"latency":{"fixed_ms":5},"faults":[{"kind":"quota"}]}"#,
    ));
    let before = s.gemini.stats().requests;
    assert_eq!(post_to(&s, &bases[0], "quota").await.status(), 200);
    assert_eq!(s.gemini.stats().requests, before + 1);
    assert_eq!(post_to(&s, &bases[1], "after").await.status(), 200);
    assert_eq!(
        s.gemini.stats().requests,
        before + 1,
        "the other replica did not try the backend another one found spent"
    );
    let (status, body) = ready(&s, &bases[1]).await;
    assert_eq!(status, 200);
    assert_eq!(body["backends_in_rotation"], serde_json::json!(["bedrock"]));

    // Redis gone: refused with a wait, never routed on per-process counts
    drop(redis);
    let refused = post_to(&s, &bases[1], "no redis").await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.expect("an error body");
    assert_eq!(body["code"], "unavailable");
    let (status, body) = ready(&s, &bases[0]).await;
    assert_eq!((status, &body["shared"]), (503, &Value::Bool(false)));

    // the ledger the replicas share reconciles with the backends' own counts: every call is a
    // row once, but the two the killed replica had running (the provider saw them; the replica
    // died before it could record them, and their callers got no answer)
    let ledger = s.ledger(30 + 1 + 1 + 2).await;
    let calls: Vec<(String, i64)> = router::with_db!(&ledger, pool => sqlx::query_as(
        "SELECT backend, count(*) FROM attempts WHERE outcome <> 'queue_timeout'
         GROUP BY backend ORDER BY backend",
    )
    .fetch_all(pool)
    .await)
    .expect("attempts by backend");
    let calls = |name: &str| {
        calls
            .iter()
            .find(|(b, _)| b == name)
            .map_or(0, |(_, n)| *n as u64)
    };
    assert_eq!(calls("gemini") + 2, s.gemini.stats().requests, "gemini");
    assert_eq!(calls("bedrock"), s.bedrock.stats().requests, "bedrock");
    let duplicates: i64 = router::with_db!(&ledger, pool => sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT id FROM requests GROUP BY id HAVING count(*) > 1) AS repeated",
    )
    .fetch_one(pool)
    .await)
    .expect("duplicates");
    assert_eq!(duplicates, 0);
}

/// Spillover past a rate the replicas reach only together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spillover_counts_the_traffic_of_every_replica() {
    let redis = Redis::start();
    let s = setup(Options {
        // past 20 requests a minute part of the traffic spills; no replica alone sees 20 below
        spill_rpm: 20,
        redis: Some(redis.url()),
        ..Options::default()
    })
    .await;
    let replicas = [Replica::start(&s), Replica::start(&s)];
    let bases: Vec<String> = std::iter::once(s.base.clone())
        .chain(replicas.iter().map(|r| r.base.clone()))
        .collect();
    for i in 0..30 {
        assert_eq!(
            post_to(&s, &bases[i % 3], &format!("s{i}")).await.status(),
            200
        );
    }
    let ledger = s.ledger(30).await;
    let decisions: Vec<(String, i64)> = router::with_db!(&ledger, pool => sqlx::query_as(
        "SELECT decision, count(*) FROM requests GROUP BY decision ORDER BY decision",
    )
    .fetch_all(pool)
    .await)
    .expect("decisions");
    let spilled = decisions
        .iter()
        .find(|(d, _)| d == "spillover")
        .map_or(0, |(_, n)| *n);
    // the 21st to 30th requests are past the threshold; each replica alternates its share
    assert!(
        (3..=10).contains(&spilled),
        "spilled {spilled} of the 10 past the shared threshold: {decisions:?}"
    );
    assert_eq!(s.bedrock.stats().requests, spilled as u64);
}

/// The results a station has read so far (after cursor 0), waiting up to `wait_s` for more.
async fn results(s: &Setup, station: &str, wait_s: u32) -> Vec<Value> {
    let answer: Value = s
        .http
        .get(format!(
            "{}/station/v1/results?after=0&wait={wait_s}",
            s.base
        ))
        .bearer_auth(station)
        .send()
        .await
        .expect("results")
        .json()
        .await
        .expect("results body");
    answer.as_array().cloned().unwrap_or_default()
}

async fn calls_reach(s: &Setup, n: u64, within: Duration) -> Duration {
    let began = std::time::Instant::now();
    while s.gemini.stats().requests + s.bedrock.stats().requests < n {
        assert!(
            began.elapsed() < within,
            "{n} calls not reached in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    began.elapsed()
}

/// A job is held by the replica running it (a lease it renews): a replica that starts meanwhile
/// leaves it alone; when its replica is killed mid-call, one other replica takes it over once
/// the lease lapses, and the station reads its result once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_is_taken_over_only_when_its_replica_is_gone() {
    let redis = Redis::start();
    let s = setup(Options {
        redis: Some(redis.url()),
        slot_ttl_ms: 1000,
        ..Options::default()
    })
    .await;
    let station = s.device("station").await;
    let photo = s
        .upload(
            &station,
            &std::fs::read(super::station_sync::PHOTO).expect("the photo"),
        )
        .await;
    let job = serde_json::json!({"kind": "compliance_check", "input": {"store_id": "main-street",
        "photo_sha256": photo, "rules": [{"id": "price_tags", "text": "Every product has a visible price tag"}]}});
    let submit = |base: String, key: &'static str| {
        let (http, station, job) = (s.http.clone(), station.clone(), job.clone());
        async move {
            http.post(format!("{base}/station/v1/jobs"))
                .bearer_auth(station)
                .header("idempotency-key", key)
                .json(&job)
                .send()
                .await
                .expect("a response")
                .status()
                .as_u16()
        }
    };
    for fake in [&s.gemini, &s.bedrock] {
        // under the router's 3 s call timeout, over two leases: an unrenewed lease would lapse
        fake.set_script(script(r#"{"latency":{"fixed_ms":2500}}"#));
    }

    // a replica that starts while another runs a job leaves it alone
    assert_eq!(submit(s.base.clone(), "job-1").await, 202);
    calls_reach(&s, 1, Duration::from_secs(5)).await;
    let late = Replica::start(&s);
    tokio::time::sleep(Duration::from_millis(2200)).await; // past a lease and a look
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        1,
        "a job whose replica renews its lease is not run twice"
    );

    // a replica killed mid-call: its job is taken over after the lease, by one replica
    let victim = Replica::start(&s);
    assert_eq!(submit(victim.base.clone(), "job-2").await, 202);
    calls_reach(&s, 2, Duration::from_secs(5)).await;
    drop(victim); // SIGKILL
    let taken_over_after = calls_reach(&s, 3, Duration::from_millis(1000 + 500 + 2000)).await;
    assert!(
        taken_over_after > Duration::from_millis(300),
        "taken over before the lease could lapse ({taken_over_after:?})"
    );
    let mut read = Vec::new();
    let began = std::time::Instant::now();
    while read.len() < 2 && began.elapsed() < Duration::from_secs(15) {
        read = results(&s, &station, 5).await;
    }
    let mut jobs: Vec<i64> = read.iter().filter_map(|r| r["job_id"].as_i64()).collect();
    jobs.sort_unstable();
    jobs.dedup();
    assert_eq!(
        (read.len(), jobs.len()),
        (2, 2),
        "two jobs, each result once: {read:?}"
    );
    assert!(
        read.iter().all(|r| r["ok"] == Value::Bool(true)),
        "{read:?}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        s.gemini.stats().requests + s.bedrock.stats().requests,
        3,
        "one replica took the job over, once"
    );

    // a result finished at one replica reaches a station waiting at another
    for fake in [&s.gemini, &s.bedrock] {
        fake.set_script(script(r#"{"latency":{"fixed_ms":200}}"#));
    }
    let last = read
        .iter()
        .filter_map(|r| r["seq"].as_i64())
        .max()
        .unwrap_or(0);
    let waiting = {
        let (http, station, base) = (s.http.clone(), station.clone(), s.base.clone());
        tokio::spawn(async move {
            let began = std::time::Instant::now();
            let answer: Value = http
                .get(format!("{base}/station/v1/results?after={last}&wait=20"))
                .bearer_auth(station)
                .send()
                .await
                .expect("results")
                .json()
                .await
                .expect("results body");
            (answer, began.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(submit(late.base.clone(), "job-3").await, 202);
    let (answer, waited) = waiting.await.expect("the wait");
    assert_eq!(answer[0]["idempotency_key"], "job-3", "{answer}");
    assert!(
        waited < Duration::from_secs(4),
        "the waiting station heard of it after {waited:?}"
    );
    drop(late);
}

/// Replicas share the blob folder: a piece one replica is writing makes the blob busy at the
/// others (a file lock, not a lock in one process), and a replica killed mid-piece frees it at
/// once; the upload then resumes elsewhere from what arrived and hashes to its name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_being_written_at_one_replica_is_busy_at_the_others_until_it_dies() {
    use sha2::Digest;
    use tokio::io::AsyncWriteExt;
    let s = setup(Options::default()).await;
    let photo = std::fs::read(super::station_sync::PHOTO).expect("the photo");
    let sha = hex::encode(sha2::Sha256::digest(&photo));
    let patch = |offset: usize| {
        s.http
            .patch(format!("{}/station/v1/blobs/{sha}", s.base))
            .bearer_auth(&s.key)
            .header("upload-offset", offset.to_string())
            .header("upload-length", photo.len().to_string())
            .body(photo[offset..].to_vec())
            .send()
    };
    let third = photo.len() / 3;
    let first = s
        .http
        .patch(format!("{}/station/v1/blobs/{sha}", s.base))
        .bearer_auth(&s.key)
        .header("upload-offset", "0")
        .header("upload-length", photo.len().to_string())
        .body(photo[..third].to_vec())
        .send()
        .await
        .expect("a response");
    assert_eq!(first.status(), 200);

    // the next piece stalls half-way at another replica
    let victim = Replica::start(&s);
    let address = victim.base.trim_start_matches("http://").to_owned();
    let mut raw = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let sent = (photo.len() - third) / 2;
    let head = format!(
        "PATCH /station/v1/blobs/{sha} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\nupload-offset: {third}\r\ncontent-length: {}\r\n\r\n",
        s.key,
        photo.len() - third
    );
    raw.write_all(head.as_bytes()).await.expect("write");
    raw.write_all(&photo[third..third + sent])
        .await
        .expect("write");
    raw.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let busy = patch(third).await.expect("a response");
    assert_eq!(
        busy.status(),
        409,
        "the piece at the other replica holds it"
    );
    assert!(busy.headers().contains_key("retry-after"));

    drop(victim); // SIGKILL: no piece finished, the lock goes with the process
    let mut offset = third;
    let mut done = None;
    for _ in 0..5 {
        let answer = patch(offset).await.expect("a response");
        let status = answer.status().as_u16();
        let have = answer
            .headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if status == 200 {
            done = have;
            break;
        }
        assert_eq!(status, 409, "{:?}", answer.text().await);
        // what the station does on a mismatch: ask what arrived
        let head = s
            .http
            .head(format!("{}/station/v1/blobs/{sha}", s.base))
            .bearer_auth(&s.key)
            .send()
            .await
            .expect("a response");
        offset = head
            .headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .expect("HEAD says what arrived");
    }
    assert_eq!(
        done,
        Some(photo.len()),
        "resumed from what the killed replica wrote"
    );
    assert!(
        offset == third + sent || offset == third,
        "resumed at {offset}"
    );
    let stored = s
        .http
        .get(format!("{}/station/v1/blobs/{sha}", s.base))
        .bearer_auth(&s.key)
        .send()
        .await
        .expect("a response")
        .bytes()
        .await
        .expect("the blob");
    assert_eq!(hex::encode(sha2::Sha256::digest(&stored)), sha);
    drop(raw);
}
