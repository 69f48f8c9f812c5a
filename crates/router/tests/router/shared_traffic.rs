//! The traffic state replicas share, on a real redis-server (Debian's, on a loopback port): each
//! `SharedTraffic` below is its own connection, as each replica has.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use router::traffic::counters::Rates;
use router::traffic::health::OutReason;
use router::traffic::shared::{Renewal, SharedTraffic};
use testbed::Redis;

async fn replica(redis: &Redis, prefix: &str, slot_ttl: Duration) -> SharedTraffic {
    SharedTraffic::connect(&redis.url(), prefix, slot_ttl)
        .await
        .expect("connects to redis-server")
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
