//! The station's sync against the real router (in this process, over loopback HTTP, in front of
//! the fake LLM) with the device key in a real Secret Service: a visit's cloud checks wait
//! offline, go out once the station is connected, and come back into the visit and the review
//! queue; a reviewer's decision reaches the router's evaluation store once; the router witnesses
//! the audit chain's head; disconnecting takes the key out of the keyring.
//!
//! Past 600 lines: three end-to-end scenarios over one router, each long because it follows one
//! record from station to router and back.

use std::time::Duration;

use station::{Station, SyncJobState, KEYRING_SERVICE};
use testbed::{GnomeKeyring, Router};

use super::{fixture_dir, visit_config};

async fn until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Signs a new account of `role` in on `station`, enrolling its authenticator as a person does
/// (the code computed from the otpauth URL the router showed); answers its recovery codes.
pub(crate) async fn sign_in_account(
    router: &Router,
    station: &Station,
    name: &str,
    role: &str,
) -> Vec<String> {
    router.add_account(name, role).await;
    let challenge = station
        .account()
        .login_password(name, testbed::PASSWORD)
        .await
        .unwrap();
    assert_eq!(challenge.next, protocol::account::NextStep::EnrolTotp);
    let url = challenge.otpauth_url.expect("an otpauth URL to enrol");
    station
        .account()
        .login_code(
            &challenge.challenge,
            Some(&testbed::totp_code(&url, 0)),
            None,
        )
        .await
        .unwrap()
        .recovery_codes
}

async fn router_rows(router: &Router, sql: &str) -> i64 {
    let url = format!("sqlite://{}?mode=ro", router.db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_visits_cloud_checks_go_out_once_connected_and_come_back_into_the_work() {
    let _keyring = GnomeKeyring::start();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("stores.toml"),
        visit_config(&fixture_dir("grocery/references")),
    )
    .unwrap();
    let station = Station::open(data.path()).await.unwrap();
    station.session().sign_in("Ana").unwrap();

    // offline (never connected): the photo is judged locally, its rule waits in the outbox
    let visit = station
        .visits()
        .start_visit("s1", "Ana", None)
        .await
        .unwrap();
    let card = tempfile::tempdir().unwrap();
    let photo = card.path().join("IMG_0001.jpg");
    std::fs::copy(
        fixture_dir("grocery/queries/Fruit/Passion-Fruit-Passion-Fruit_002.jpg"),
        &photo,
    )
    .unwrap();
    let added = station
        .visits()
        .add_visit_photo(visit.id, &photo)
        .await
        .unwrap();
    assert_eq!(added.pending_rules, 1, "{added:#?}");
    let item = added.item_id.unwrap();
    let status = station.sync().status().await.unwrap();
    assert!(status.connection.is_none() && !status.online);
    let page = station
        .sync()
        .jobs(Some(SyncJobState::Queued), 0, 10)
        .await
        .unwrap();
    assert_eq!(page.total, status.counts.queued);
    let checks: Vec<_> = page
        .jobs
        .iter()
        .filter(|j| j.kind == "compliance_check")
        .collect();
    assert_eq!(checks.len(), 1, "{page:#?}");
    assert_eq!(checks[0].item_id, Some(item));
    // the photo's compliance task, if the policy raised one, waits to go to the team's queue
    assert!(
        page.jobs
            .iter()
            .all(|j| j.kind == "compliance_check" || j.kind == "raise_task"),
        "{page:#?}"
    );
    let pending = station.documents().compliance(item).await.unwrap();
    let cloud = pending
        .rules
        .iter()
        .find(|r| r.id.starts_with("cloud:"))
        .unwrap();
    assert_eq!(cloud.state, extract::compliance::RuleState::Pending);

    // a doubtful invoice, offline: its task and the job asking the router's LLM for a second
    // opinion (its page rendered and kept as a blob) are written together
    let policies = data.path().join(station::POLICIES_DIR);
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("default.toml"),
        "qa_sample = 0.0\n[invoice]\ndefault = 0.5\n",
    )
    .unwrap();
    let invoice = station
        .imports()
        .import_one(&fixture_dir("documents/bad-arithmetic.pdf"))
        .await
        .item_id()
        .unwrap();
    let (job, _) = station.new_job();
    station
        .documents()
        .extract_document(job, invoice, None, &station::NoProgress)
        .await
        .unwrap();
    let queued = station
        .sync()
        .jobs(Some(SyncJobState::Queued), 0, 10)
        .await
        .unwrap();
    assert!(
        queued
            .jobs
            .iter()
            .any(|j| j.kind == "invoice_fields" && j.item_id == Some(invoice)),
        "{queued:#?}"
    );

    // a wrong enrolment code: a clear refusal, nothing kept
    let router = Router::start().await;
    let refused = station
        .sync()
        .connect(&router.url, "not-a-code", "elm-road")
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        protocol::ErrorCode::EnrolmentInvalid,
        "{refused}"
    );
    assert!(station.sync().status().await.unwrap().connection.is_none());

    // connected: the key is in the keyring, the check goes out and comes back
    let code = router.enrolment_code().await;
    let connected = station
        .sync()
        .connect(&router.url, &code, "elm-road")
        .await
        .unwrap();
    let device = connected.connection.as_ref().unwrap().device_id;
    let keys = sync::DeviceKeys::new(KEYRING_SERVICE);
    assert!(keys
        .load(&station.sync().keyring_entry(&router.url))
        .await
        .unwrap()
        .is_some());
    let db = std::fs::read(data.path().join("station.db")).unwrap();
    let key = keys
        .load(&station.sync().keyring_entry(&router.url))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !db.windows(key.expose().len())
            .any(|w| w == key.expose().as_bytes()),
        "the device key is never in the database"
    );
    until("the cloud check's and the invoice's results", || async {
        let c = station.sync().status().await.unwrap().counts;
        (c.done >= 2 && c.queued + c.uploading + c.waiting + c.retrying == 0).then_some(())
    })
    .await;
    assert_eq!(
        station.sync().status().await.unwrap().counts.parked,
        0,
        "{:#?}",
        station.sync().jobs(None, 0, 10).await.unwrap()
    );
    // the invoice's task shows the LLM's reading beside the local one
    let invoices = station
        .review()
        .queue(
            &protocol::QueueQuery {
                kind: Some(protocol::ResultKind::Invoice),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    let task = invoices
        .tasks
        .iter()
        .find(|t| t.item_id == invoice)
        .unwrap();
    let second = &task.model_output["second_opinion"];
    assert_eq!(second["prompt_version"], "invoice_fields.v1", "{second:#}");
    assert!(
        second["result"].is_object() && second["differ"].is_array(),
        "{second:#}"
    );
    assert!(station.sync().status().await.unwrap().online);
    let judged = station.documents().compliance(item).await.unwrap();
    let cloud = judged
        .rules
        .iter()
        .find(|r| r.id.starts_with("cloud:"))
        .unwrap();
    assert_ne!(
        cloud.state,
        extract::compliance::RuleState::Pending,
        "{cloud:#?}"
    );
    assert!(!cloud.evidence.contains("pending"), "{cloud:#?}");
    let state = station.visits().visit_state(visit.id, 0, 10).await.unwrap();
    assert_eq!(
        state.pending_cloud, 0,
        "the visit no longer waits for the cloud"
    );
    let shown = state
        .photos
        .iter()
        .find(|p| p.item_id == Some(item))
        .unwrap();
    assert_eq!(shown.pending_rules, 0);
    assert_eq!(shown.cloud_rules.len(), 1);
    assert_eq!(shown.cloud_rules[0].rule, "price tags are visible");
    assert_ne!(shown.cloud_rules[0].state, "pending");
    // and so does its report
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("visit.csv");
    station
        .visits()
        .export_visit_report(
            station.new_job().0,
            visit.id,
            &csv_path,
            station::ReportFormat::Csv,
            &super::NoReportProgress,
        )
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.contains(&format!(
            "price tags are visible: {}",
            shown.cloud_rules[0].state
        )),
        "{csv}"
    );
    assert_eq!(
        router_rows(&router, "SELECT COUNT(*) FROM jobs").await,
        2,
        "one job each on the router"
    );
    // a failed or unclear rule is routed to review by the store's policy
    let open = station
        .review()
        .queue(
            &protocol::QueueQuery {
                kind: Some(protocol::ResultKind::Compliance),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    if cloud.state != extract::compliance::RuleState::Passed {
        assert!(
            open.tasks.iter().any(|t| t.item_id == item),
            "a photo whose cloud rule is {:?} is in the review queue",
            cloud.state
        );
    }

    // a reviewer's decision reaches the router's evaluation store, once (a connected station
    // works under a router account)
    sign_in_account(&router, &station, "Ana", "reviewer").await;
    let task = station
        .review()
        .claim_next(&protocol::QueueQuery::default(), &[])
        .await
        .unwrap()
        .expect("a task to review (the photo's compliance is reviewed or QA-sampled)");
    let decided = station
        .review()
        .decide(task.id, protocol::DecisionInput::Approve, 800)
        .await
        .unwrap();
    until("the correction on the router", || async {
        let n = router_rows(
            &router,
            &format!(
                "SELECT COUNT(*) FROM corrections WHERE decision_hash = '{}'",
                decided.hash
            ),
        )
        .await;
        (n == 1).then_some(())
    })
    .await;
    // and the router has witnessed the chain's head with it
    until("the audit head on the router", || async {
        let n = router_rows(
            &router,
            &format!(
                "SELECT COUNT(*) FROM audit_heads WHERE device_id = {device} AND last_hash = '{}'",
                decided.hash
            ),
        )
        .await;
        (n == 1).then_some(())
    })
    .await;

    // verified against the router's witness: intact, then a history rewritten after the head
    // was sent (every decision and the chain's head removed, which the local chain alone
    // cannot tell from a station that never decided anything) is found
    let audit = station.verify_audit().await.unwrap();
    assert!(audit.intact, "{audit:?}");
    assert!(
        audit
            .witnessed
            .as_deref()
            .unwrap_or("")
            .starts_with("matches all"),
        "{audit:?}"
    );
    let url = format!("sqlite://{}", data.path().join("station.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    // someone with the database file in hand: the append-only trigger is only a speed bump
    for sql in [
        "DROP TRIGGER review_decisions_append_only_delete",
        "DELETE FROM review_decisions",
        "UPDATE review_chain_head SET decisions = 0, last_id = 0, \
         last_hash = '0000000000000000000000000000000000000000000000000000000000000000'",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let local = station.review().verify_audit().await.unwrap();
    assert!(
        local.intact,
        "alone, an emptied chain looks intact: {local:?}"
    );
    let audit = station.verify_audit().await.unwrap();
    assert!(!audit.intact, "{audit:?}");
    assert!(
        audit
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("rewritten after the router witnessed"),
        "{audit:?}"
    );

    // disconnecting takes the key out of the keyring and keeps the outbox
    let before = station.sync().status().await.unwrap().counts;
    let after = station.sync().disconnect().await.unwrap();
    assert!(after.connection.is_none());
    assert!(keys
        .load(&station.sync().keyring_entry(&router.url))
        .await
        .unwrap()
        .is_none());
    assert_eq!(after.counts.done, before.done);
}

/// A station with the invoice policy of the tests (no QA sampling; fields under 0.5 or with
/// failed checks are reviewed), connected to `router`.
async fn connected_station(
    router: &Router,
    name: &str,
) -> (tempfile::TempDir, std::sync::Arc<Station>) {
    let data = tempfile::tempdir().unwrap();
    let policies = data.path().join(station::POLICIES_DIR);
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("default.toml"),
        "qa_sample = 0.0\n[invoice]\ndefault = 0.5\n",
    )
    .unwrap();
    let station = Station::open(data.path()).await.unwrap();
    station.session().sign_in(name).unwrap();
    let code = router.enrolment_code().await;
    station
        .sync()
        .connect(&router.url, &code, name)
        .await
        .unwrap();
    sign_in_account(router, &station, name, "reviewer").await;
    (data, station)
}

async fn router_value(router: &Router, sql: &str) -> Option<i64> {
    let url = format!("sqlite://{}?mode=ro", router.db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let v: Option<i64> = sqlx::query_scalar(sql)
        .fetch_optional(&pool)
        .await
        .unwrap()
        .flatten();
    pool.close().await;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stations_share_one_queue_and_a_taken_over_task_is_decided_once() {
    let _keyring = GnomeKeyring::start();
    let router = Router::start().await;
    let (_a_dir, a) = connected_station(&router, "ana").await;
    let (_b_dir, b) = connected_station(&router, "bo").await;
    let b_device = b
        .sync()
        .status()
        .await
        .unwrap()
        .connection
        .unwrap()
        .device_id;

    // station A raises a doubtful invoice's task on the team's queue, holding it
    let invoice = a
        .imports()
        .import_one(&fixture_dir("documents/bad-arithmetic.pdf"))
        .await
        .item_id()
        .unwrap();
    let (job, _) = a.new_job();
    a.documents()
        .extract_document(job, invoice, None, &station::NoProgress)
        .await
        .unwrap();
    let shared = until("the task on the router", || async {
        router_value(
            &router,
            "SELECT id FROM shared_tasks WHERE task_key LIKE 'task-%'",
        )
        .await
    })
    .await;
    let holder = router_value(
        &router,
        &format!("SELECT lease_device FROM shared_tasks WHERE id = {shared}"),
    )
    .await;
    let a_device = a
        .sync()
        .status()
        .await
        .unwrap()
        .connection
        .unwrap()
        .device_id;
    assert_eq!(holder, Some(a_device), "the raiser holds its new task");

    // station B's window does not get it while A holds it
    b.sync().retry_now(None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let any = protocol::QueueQuery::default();
    assert!(b.review().claim_next(&any, &[]).await.unwrap().is_none());

    // A's lease runs out on the router (A is offline, say); B claims the task and brings its
    // file in, and its reviewer decides it
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", router.db.display()))
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE shared_tasks SET lease_until_ms = 0 WHERE id = {shared}"
    ))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    b.sync().retry_now(None).await.unwrap();
    let b_task = until("the task in B's queue", || async {
        b.review().claim_next(&any, &[]).await.unwrap()
    })
    .await;
    assert_eq!(b_task.kind, protocol::ResultKind::Invoice);
    let b_decided = b
        .review()
        .decide(b_task.id, protocol::DecisionInput::Approve, 700)
        .await
        .unwrap();
    until("B's decision on the router", || async {
        router_value(
            &router,
            &format!(
                "SELECT 1 FROM shared_tasks WHERE id = {shared} AND decision_hash = '{}'",
                b_decided.hash
            ),
        )
        .await
    })
    .await;

    // A, still thinking it holds the task, decides it too: the router refuses, and A's panel
    // shows the decision as not recorded — kept, never dropped
    let a_task = a
        .review()
        .claim_next(&any, &[])
        .await
        .unwrap()
        .expect("A's own task");
    let a_decided = a
        .review()
        .decide(a_task.id, protocol::DecisionInput::Approve, 900)
        .await
        .unwrap();
    a.sync().retry_now(None).await.unwrap();
    let parked = until("A's refused decision", || async {
        let page = a
            .sync()
            .jobs(Some(SyncJobState::Parked), 0, 10)
            .await
            .unwrap();
        page.jobs.into_iter().find(|j| j.kind == "shared_decision")
    })
    .await;
    assert!(
        parked
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("not recorded"),
        "{parked:#?}"
    );
    // a station that disconnects gives its window back at once
    let b_invoice = b
        .imports()
        .import_one(&fixture_dir("documents/bad-arithmetic.pdf"))
        .await
        .item_id()
        .unwrap();
    let (job, _) = b.new_job();
    b.documents()
        .extract_document(job, b_invoice, None, &station::NoProgress)
        .await
        .unwrap();
    b.sync().retry_now(None).await.unwrap();
    let b_raised = until("B's own task on the router, held by B", || async {
        router_value(
            &router,
            &format!(
                "SELECT id FROM shared_tasks WHERE origin_device = {b_device} AND task_key LIKE 'task-%' \
                 AND decided_by IS NULL AND lease_device = {b_device}"
            ),
        )
        .await
    })
    .await;
    b.sync().disconnect().await.unwrap();
    assert_eq!(
        router_value(
            &router,
            &format!("SELECT lease_device FROM shared_tasks WHERE id = {b_raised}")
        )
        .await,
        None,
        "given back"
    );
    assert_eq!(
        router_value(
            &router,
            &format!("SELECT decided_by FROM shared_tasks WHERE id = {shared}")
        )
        .await,
        Some(b_device),
        "decided once, by the station that held it"
    );
    assert_eq!(
        router_value(
            &router,
            &format!(
                "SELECT COUNT(*) FROM corrections WHERE decision_hash = '{}'",
                a_decided.hash
            )
        )
        .await,
        Some(1),
        "A's decision still reaches the evaluation store as A's correction"
    );
}

/// A server answering every request with a web page, as a wrong address would.
async fn not_a_router() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let page = "<html><body>It works!</body></html>";
            let _ = socket
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                        page.len()
                    )
                    .as_bytes(),
                )
                .await;
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_and_a_revoked_key_are_said_plainly_and_the_outbox_keeps_everything() {
    let _keyring = GnomeKeyring::start();
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let sync = station.sync();

    // a wrong address: nothing listens, or another web server answers
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let refused = sync.connect(&closed, "code", "elm-road").await.unwrap_err();
    assert!(
        refused.to_string().contains("cannot reach the router"),
        "{refused}"
    );
    let page = not_a_router().await;
    let wrong = sync.connect(&page, "code", "elm-road").await.unwrap_err();
    assert!(
        wrong.to_string().contains("is not a Review Station router"),
        "{wrong}"
    );
    let plain = sync
        .connect("http://router.example.com", "code", "elm-road")
        .await
        .unwrap_err();
    assert!(plain.to_string().contains("cannot be used"), "{plain}");
    assert!(sync.status().await.unwrap().connection.is_none());

    // connected, then an admin revokes the key: the panel says so, the station goes on
    // offline, and what it decides meanwhile waits in the outbox
    let router = Router::start().await;
    let code = router.enrolment_code().await;
    let status = sync.connect(&router.url, &code, "elm-road").await.unwrap();
    let device = status.connection.unwrap().device_id;
    until("online", || async {
        sync.status().await.unwrap().online.then_some(())
    })
    .await;
    router.revoke(device).await;
    let item = station
        .imports()
        .import_one(&fixture_dir("documents/bad-arithmetic.pdf"))
        .await
        .item_id()
        .unwrap();
    let (job, _) = station.new_job();
    station
        .documents()
        .extract_document(job, item, None, &station::NoProgress)
        .await
        .unwrap();
    sync.retry_now(None).await.unwrap();
    let status = until("the revoked key in the panel", || async {
        let s = sync.status().await.unwrap();
        s.problem
            .as_deref()
            .is_some_and(|p| p.contains("revoked"))
            .then_some(s)
    })
    .await;
    assert!(!status.online, "{status:#?}");
    let page = sync.jobs(None, 0, 50).await.unwrap();
    assert!(!page.jobs.is_empty());
    assert!(
        page.jobs.iter().all(|j| j.state != SyncJobState::Done),
        "nothing went out, nothing was dropped: {page:#?}"
    );
}
