//! Router accounts on the station, against the real router (in this process, over loopback
//! HTTP) and a real Secret Service: a station never connected works under a local name, marked
//! local; once connected only an account signed in on it decides, under its own name; the
//! session token lives in the keyring; offline, a valid session keeps working and the admin
//! views answer the last snapshot with its age; a session the router ended ends here too.

use protocol::account::{NextStep, Role};
use protocol::ErrorCode;
use station::account::AccountMode;
use station::{Station, KEYRING_SERVICE};
use testbed::{GnomeKeyring, Router};

use super::sync::sign_in_account;

async fn connect(router: &Router, station: &Station) {
    let code = router.enrolment_code().await;
    station
        .sync()
        .connect(&router.url, &code, "elm-road")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_station_works_only_under_a_signed_in_account() {
    let _keyring = GnomeKeyring::start();
    let data = tempfile::tempdir().unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let account = station.account();

    // never connected: the local name, marked local
    station.session().sign_in("Ana").unwrap();
    let local = account.status().await.unwrap();
    assert_eq!(local.mode, AccountMode::Local);
    assert_eq!(local.local_reviewer.as_deref(), Some("Ana"));
    assert!(!local.sign_in_required);

    let router = Router::start().await;
    connect(&router, &station).await;
    let status = account.status().await.unwrap();
    assert_eq!(status.mode, AccountMode::Router);
    assert!(status.sign_in_required && status.account.is_none());
    // the typed name no longer works, nor does a decision without an account
    let refused = station.session().sign_in("Ana").unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotSignedIn);
    assert!(station.session().info().reviewer.is_none());

    // a wrong password: the router's words
    router.add_account("rita", "reviewer").await;
    let wrong = account
        .login_password("rita", "not the passphrase")
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), ErrorCode::BadCredentials);
    assert_eq!(wrong.to_string(), "The name or password is wrong.");
    // an enrolment: the otpauth URL, then the first code; 10 recovery codes shown once
    let challenge = account
        .login_password("rita", testbed::PASSWORD)
        .await
        .unwrap();
    assert_eq!(challenge.next, NextStep::EnrolTotp);
    let url = challenge.otpauth_url.clone().unwrap();
    assert!(url.starts_with("otpauth://totp/"));
    let bad = account
        .login_code(&challenge.challenge, Some("000000"), None)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::BadCode);
    let signed = account
        .login_code(
            &challenge.challenge,
            Some(&testbed::totp_code(&url, 0)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(signed.recovery_codes.len(), 10);
    let who = signed.status.account.clone().unwrap();
    assert_eq!((who.name.as_str(), who.role), ("rita", Role::Reviewer));
    assert!(!signed.status.sign_in_required);
    assert_eq!(station.session().info().reviewer.as_deref(), Some("rita"));

    // the token is in the keyring (never the database)
    let entry = format!("{} {} session", router.url, data.path().display());
    let token = ::sync::DeviceKeys::new(KEYRING_SERVICE)
        .load(&entry)
        .await
        .unwrap()
        .expect("the session token in the keyring");
    let token = token.expose().to_owned();
    assert_eq!(token.len(), 64);
    let db = std::fs::read(data.path().join(station::DATABASE_FILE)).unwrap();
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "no token in the DB"
    );

    // a reviewer cannot open the admin views; the router says so
    let forbidden = account.live().await.unwrap_err();
    assert_eq!(forbidden.code(), ErrorCode::Forbidden);

    // an auditor may not decide reviews, and runs visits under the account's name
    account.logout().await.unwrap();
    assert!(account.status().await.unwrap().sign_in_required);
    sign_in_account(&router, &station, "otto", "auditor").await;
    let err = station
        .review()
        .claim_next(&protocol::QueueQuery::default(), &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert!(
        err.to_string().contains("otto is signed in as an auditor"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_a_valid_session_keeps_working_and_the_admin_views_show_the_snapshot_and_its_age() {
    let _keyring = GnomeKeyring::start();
    let data = tempfile::tempdir().unwrap();
    let router = Router::start().await;
    {
        let station = Station::open(data.path()).await.unwrap();
        connect(&router, &station).await;
        sign_in_account(&router, &station, "root", "admin").await;
        let live = station.account().live().await.unwrap();
        assert!(live.freshness.fresh && live.freshness.offline_reason.is_none());
        assert_eq!(live.live.backends.len(), 2);
    }
    drop(router); // the router goes away

    // a restart offline: the admin is still signed in while the session lasts
    let station = Station::open(data.path()).await.unwrap();
    let status = station.account().status().await.unwrap();
    assert_eq!(status.account.map(|a| a.name).as_deref(), Some("root"));
    assert_eq!(station.session().info().reviewer.as_deref(), Some("root"));
    let live = station.account().live().await.unwrap();
    assert!(!live.freshness.fresh, "a snapshot: {:?}", live.freshness);
    assert!(
        live.freshness
            .offline_reason
            .as_deref()
            .is_some_and(|r| r.contains("cannot reach the router")),
        "{:?}",
        live.freshness
    );
    assert_eq!(live.live.backends.len(), 2, "the snapshot as synced");
    // a view never synced has no snapshot: said so, nothing invented
    let none = station
        .account()
        .requests(&protocol::admin::DashboardQuery::default(), None)
        .await
        .unwrap_err();
    assert!(
        none.to_string()
            .contains("no snapshot of this view was synced yet"),
        "{none}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_router_ended_ends_on_the_station_and_says_why() {
    let _keyring = GnomeKeyring::start();
    let data = tempfile::tempdir().unwrap();
    let router = Router::start().await;
    let station = Station::open(data.path()).await.unwrap();
    connect(&router, &station).await;
    sign_in_account(&router, &station, "root", "admin").await;
    assert!(station.account().live().await.is_ok());

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", router.db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET revoked_at = 'now', revoked_reason = 'revoked'")
        .execute(&pool)
        .await
        .unwrap();
    let ended = station.account().live().await.unwrap_err();
    assert_eq!(ended.code(), ErrorCode::SessionExpired);
    let status = station.account().status().await.unwrap();
    assert!(status.sign_in_required, "{status:?}");
    assert!(
        status
            .ended_reason
            .as_deref()
            .is_some_and(|r| r.contains("revoked by an admin")),
        "{status:?}"
    );
    let refused = station
        .review()
        .claim_next(&protocol::QueueQuery::default(), &[])
        .await;
    assert!(matches!(refused, Err(e) if e.code() == ErrorCode::NotSignedIn));
}
