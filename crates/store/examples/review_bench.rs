//! The review queue under load: fills a fresh database with `N` open tasks (default 100,000)
//! across kinds, stores and reasons, then works through `M` of them as a reviewer would —
//! claim the next (pre-loading the one after), decide, repeat — and prints p50 / p95 / max of
//! claiming the next task and of committing a decision, plus the queue count query. Claims
//! cycle through four views: lowest confidence first; one kind of one store; due time; one
//! reason, older than now, oldest first.
//!
//! `cargo run --release -p store --example review_bench -- [N] [M]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use store::{ItemStatus, NewDecision, NewItem, NewTask, QueueFilter, Recorded, Store};

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} p50 {:>7.3} ms   p95 {:>7.3} ms   max {:>7.3} ms   ({} runs)",
        pct(&ms, 0.5),
        pct(&ms, 0.95),
        ms.last().copied().unwrap_or(0.0),
        ms.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let m: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "cpu: {cpu}, {} threads",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let sha = store.blobs().put(b"bench").unwrap();
    let Recorded::New(item) = store
        .record_item(
            &NewItem {
                blob: Some(sha),
                media_type: Some("image/jpeg".into()),
                file_name: "bench.jpg".into(),
                source_path: "/bench.jpg".into(),
                byte_len: 5,
                status: ItemStatus::Analyzed,
                verdict: Some("pass".into()),
                error_code: None,
                error_message: None,
                format: Some("jpeg".into()),
                width: Some(1),
                height: Some(1),
                kind: "photo".into(),
                page_count: None,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!("fresh database")
    };
    let kinds = [
        protocol::ResultKind::Compliance,
        protocol::ResultKind::Invoice,
        protocol::ResultKind::Legal,
    ];
    let reasons = [
        "[\"low_confidence\"]",
        "[\"validation_failed\"]",
        "[\"gate_borderline\"]",
        "[\"qa_sample\"]",
    ];
    let payload = "{\"fields\":{\"total\":{\"value\":\"1234.50\",\"confidence\":0.41},\"date\":{\"value\":\"2026-11-21\",\"confidence\":0.93}}}";
    let started = Instant::now();
    for chunk in 0..n.div_ceil(10_000) {
        let tasks: Vec<NewTask> = (chunk * 10_000..((chunk + 1) * 10_000).min(n))
            .map(|i| NewTask {
                item_id: item,
                kind: kinds[i % 3],
                store_id: format!("store-{}", i % 20),
                confidence: ((i * 7919) % 10_000) as f64 / 10_000.0,
                reasons: reasons[i % 4].into(),
                due_at: Some(store::rfc3339_from_now(((i * 131) % 72) as i64 * 3600)),
                model_output: payload.into(),
                versions: "{\"engine\":\"bench\"}".into(),
            })
            .collect();
        store.enqueue_tasks(&tasks).await.unwrap();
    }
    println!(
        "{n} open tasks enqueued in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let any = QueueFilter::default();
    let invoices = QueueFilter {
        kind: Some(protocol::ResultKind::Invoice),
        store_id: Some("store-3".into()),
        ..Default::default()
    };
    let due = QueueFilter {
        order: store::QueueOrder::Due,
        ..Default::default()
    };
    let failed_and_old = QueueFilter {
        reason: Some(protocol::RoutingReason::ValidationFailed),
        created_before: Some(store::now_rfc3339()),
        order: store::QueueOrder::Oldest,
        ..Default::default()
    };
    let filters = [&any, &invoices, &due, &failed_and_old];
    let mut count_ms = Vec::new();
    for filter in filters {
        for _ in 0..20 {
            let t = Instant::now();
            store.queue_stats(filter).await.unwrap();
            count_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    summary("queue count + oldest", count_ms);

    let mut claim_ms = Vec::new();
    let mut decide_ms = Vec::new();
    let mut page_ms = Vec::new();
    let now = 1_000_000;
    let mut current = store
        .claim_next("ana", &any, now, 600_000, &[])
        .await
        .unwrap()
        .unwrap();
    for i in 0..m {
        let filter = filters[i % filters.len()];
        // the next item is claimed (pre-loaded) while the current one is on screen
        let t = Instant::now();
        let next = store
            .claim_next("ana", filter, now, 600_000, &[current.id])
            .await
            .unwrap()
            .unwrap();
        claim_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        store
            .decide_task(
                current.id,
                "ana",
                &NewDecision {
                    action: protocol::DecisionAction::Approve,
                    reason_code: None,
                    before_json: current.model_output.clone(),
                    after_json: current.model_output.clone(),
                    duration_ms: 1200,
                    diff_json: "[]".into(),
                    versions: current.versions.clone(),
                },
                now,
            )
            .await
            .unwrap();
        decide_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if i % 50 == 0 {
            let t = Instant::now();
            store
                .list_tasks(filter, (i * 37 % 5000) as u32, 100)
                .await
                .unwrap();
            page_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        current = next;
    }
    summary("claim next (pre-load)", claim_ms);
    summary("commit a decision (hash-chained)", decide_ms);
    summary("a page of 100 of the queue", page_ms);
    // what the metrics and charts cost: SQL aggregates over the standing decisions
    let t = Instant::now();
    let totals = store.decision_totals().await.unwrap();
    let fields = store.field_agreement().await.unwrap();
    let medians = store.median_seconds_per_reviewer().await.unwrap();
    let gates = store.gate_overrides_per_day().await.unwrap();
    println!(
        "review metrics (totals, field agreement, medians, gate overrides) over {} decisions: {:.1} ms ({} fields, {} reviewers, {} days)",
        totals.approved + totals.corrected + totals.rejected,
        t.elapsed().as_secs_f64() * 1000.0,
        fields.len(),
        medians.len(),
        gates.len()
    );
    let t = Instant::now();
    let thresholds: Vec<f64> = (0..=20).map(|s| f64::from(s) / 20.0).collect();
    store.threshold_simulation(&thresholds).await.unwrap();
    store.decisions_per_day().await.unwrap();
    println!(
        "review insights (21-step threshold simulator, volume per day): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let verified = store.verify_decisions().await.unwrap().unwrap();
    println!(
        "verify the audit chain: {verified} decisions in {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
