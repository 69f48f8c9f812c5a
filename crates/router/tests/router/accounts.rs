//! People's accounts over real HTTP: the first admin made by the router's own command, TOTP
//! enrolment from the otpauth URL the router shows, sign-in with a code or a recovery code,
//! sessions bound to their device, the throttle, and the admin API closed to other roles.
//! Just past 600 lines: each of the bad inputs is a case here, over one set-up.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::{error_of, setup, Options, Setup};

const PASSWORD: &str = "a long enough passphrase";

/// A signed-in person: the device key and the session token.
pub(crate) struct Signed {
    pub key: String,
    pub token: String,
    pub secret: Vec<u8>,
}

/// The secret in an `otpauth://` URL (what an authenticator app reads from the QR code).
pub(crate) fn secret_of(url: &str) -> Vec<u8> {
    totp_rs::Totp::from_url(url)
        .expect("an otpauth URL")
        .secret()
        .as_ref()
        .to_vec()
}

/// The code an authenticator shows `offset` seconds from now.
pub(crate) fn code(secret: &[u8], offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    router::accounts::totp::code_at(secret, now.saturating_add_signed(offset))
}

impl Setup {
    /// `review-router users add NAME --role ROLE`, the password on stdin.
    pub(crate) fn add_user(&self, name: &str, role: &str, password: &str) -> std::process::Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_review-router"))
            .arg("--config")
            .arg(&self.config_path)
            .args(["users", "add", name, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    }

    async fn auth(&self, key: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/station/v1/auth/{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in a new account of `role` from the device `key`, enrolling its authenticator.
    pub(crate) async fn enrol(&self, key: &str, name: &str, role: &str) -> (Signed, Vec<String>) {
        let added = self.add_user(name, role, PASSWORD);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let challenge: Value = self
            .auth(key, "login", &json!({"name": name, "password": PASSWORD}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(challenge["next"], "enrol_totp", "{challenge}");
        let secret = secret_of(challenge["otpauth_url"].as_str().unwrap());
        let signed = self
            .auth(
                key,
                "code",
                &json!({"challenge": challenge["challenge"], "code": code(&secret, 0)}),
            )
            .await;
        assert_eq!(signed.status(), 200);
        let signed: Value = signed.json().await.unwrap();
        let codes: Vec<String> = serde_json::from_value(signed["recovery_codes"].clone()).unwrap();
        (
            Signed {
                key: key.to_owned(),
                token: signed["token"].as_str().unwrap().to_owned(),
                secret,
            },
            codes,
        )
    }

    /// An admin signed in on the tests' client key.
    pub(crate) async fn admin(&self) -> Signed {
        self.enrol(&self.key, "root", "admin").await.0
    }

    pub(crate) fn get_as(&self, who: &Signed, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&who.key)
            .header("x-session-token", &who.token)
    }

    /// A second device key (`keys create`).
    fn another_key(&self) -> String {
        let created = Command::new(env!("CARGO_BIN_EXE_review-router"))
            .arg("--config")
            .arg(&self.config_path)
            .args(["keys", "create", "second-device"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&created.stdout).trim().to_owned()
    }

    async fn login(&self, key: &str, name: &str, password: &str) -> reqwest::Response {
        self.auth(key, "login", &json!({"name": name, "password": password}))
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_comes_from_the_command_enrols_totp_and_opens_the_dashboards() {
    let s = setup(Options::default()).await;
    // no default password: a weak one is refused by the command itself
    let weak = s.add_user("root", "admin", "short");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12 characters"));

    let (admin, codes) = s.enrol(&s.key, "root", "admin").await;
    assert_eq!(codes.len(), 10);
    let who: Value = s
        .get_as(&admin, "/station/v1/auth/session")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            who["account"]["name"].as_str(),
            who["account"]["role"].as_str()
        ),
        (Some("root"), Some("admin"))
    );
    let live = s.get_as(&admin, "/admin/v1/live").send().await.unwrap();
    assert_eq!(live.status(), 200);

    // the secret is sealed at rest, the password is argon2id, recovery codes are hashes
    let pool = s.ledger(0).await;
    let (sealed, hash): (String, String) =
        router::with_db!(&pool, pool => sqlx::query_as("SELECT totp_sealed, password_hash FROM accounts WHERE name = 'root'")
            .fetch_one(pool)
            .await)
            .unwrap();
    let base32 = totp_rs::Secret::from(admin.secret.clone()).to_base32();
    assert!(!sealed.contains(&base32) && sealed.len() > 40);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let stored: Vec<String> =
        router::with_db!(&pool, pool => sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(pool)
        .await)
        .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(codes.iter().all(|c| !stored.contains(c)));
    // every attempt is logged, and no secret is in the log
    let log: Vec<(String, String, String)> =
        router::with_db!(&pool, pool => sqlx::query_as("SELECT name, event, outcome FROM auth_events ORDER BY id")
            .fetch_all(pool)
            .await)
            .unwrap();
    assert!(
        log.contains(&("root".into(), "password".into(), "ok".into())),
        "{log:?}"
    );
    assert!(
        log.contains(&("root".into(), "enrol".into(), "ok".into())),
        "{log:?}"
    );
    // every logged word, whatever the engine: a secret in any of them fails
    let lines: Vec<(String, String, String, Option<String>)> =
        router::with_db!(&pool, pool => sqlx::query_as(
        "SELECT name, event, outcome, detail FROM auth_events",
    )
    .fetch_all(pool)
    .await)
        .unwrap();
    let everything: String = lines
        .iter()
        .map(|(n, e, o, d)| format!("{n} {e} {o} {}\n", d.as_deref().unwrap_or_default()))
        .collect();
    assert!(!everything.contains(PASSWORD) && !everything.contains(&admin.token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_cannot_open_the_admin_views_nor_call_the_admin_api() {
    let s = setup(Options::default()).await;
    let admin = s.admin().await;
    // the admin adds a reviewer through the API; the reviewer enrols on first sign-in
    let added = s
        .http
        .post(format!("{}/admin/v1/users", s.base))
        .bearer_auth(&admin.key)
        .header("x-session-token", &admin.token)
        .json(&json!({"name": "rita", "role": "reviewer", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let challenge: Value = s
        .login(&s.key, "rita", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let secret = secret_of(challenge["otpauth_url"].as_str().unwrap());
    let signed: Value = s
        .auth(
            &s.key,
            "code",
            &json!({"challenge": challenge["challenge"], "code": code(&secret, 0)}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rita = Signed {
        key: s.key.clone(),
        token: signed["token"].as_str().unwrap().into(),
        secret,
    };
    for path in [
        "/admin/v1/live",
        "/admin/v1/users",
        "/admin/v1/requests",
        "/admin/v1/usage",
    ] {
        let (status, _, body) = error_of(s.get_as(&rita, path).send().await.unwrap()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{path}: {body}"
        );
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("rita is signed in as a reviewer"));
    }
    let (status, _, body) = error_of(
        s.http
            .post(format!("{}/admin/v1/users", s.base))
            .bearer_auth(&rita.key)
            .header("x-session-token", &rita.token)
            .json(&json!({"name": "mallory", "role": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    // with no session at all: not signed in
    let (status, _, body) = error_of(
        s.http
            .get(format!("{}/admin/v1/live", s.base))
            .bearer_auth(&s.key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("not_signed_in"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_old_reused_and_skewed_codes_and_wrong_passwords_say_what_to_do_and_nothing_more() {
    let s = setup(Options::default()).await;
    let (ana, recovery) = s.enrol(&s.key, "ana", "auditor").await;
    let pool = s.ledger(0).await;
    let unlock = || async {
        router::with_db!(&pool, pool => sqlx::query(
            "UPDATE accounts SET failures = 0, failures_since_ms = NULL, locked_until_ms = NULL",
        )
        .execute(pool)
        .await.map(|done| done.rows_affected()))
        .unwrap();
    };

    // a wrong password and an unknown name answer the same
    let (status, _, wrong) = error_of(s.login(&s.key, "ana", "not the passphrase").await).await;
    let (_, _, unknown) = error_of(s.login(&s.key, "nobody", "not the passphrase").await).await;
    assert_eq!(
        (status, wrong["code"].as_str()),
        (401, Some("bad_credentials"))
    );
    assert_eq!(wrong, unknown);

    let challenge = |body: Value| body["challenge"].as_str().unwrap().to_owned();
    let next = challenge(s.login(&s.key, "ana", PASSWORD).await.json().await.unwrap());
    assert_ne!(next, "");
    // the enrolment's code again (its step is used), a wrong one, one from a clock 5 minutes behind
    for (typed, expected) in [
        (code(&ana.secret, 0), "wrong or was used already"),
        ("000000".to_owned(), "wrong or was used already"),
        (code(&ana.secret, -300), "minute(s) behind"),
    ] {
        let (status, _, body) = error_of(
            s.auth(&s.key, "code", &json!({"challenge": next, "code": typed}))
                .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("bad_code")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains(expected),
            "{body}"
        );
    }
    // the next step's code works once
    let signed = s
        .auth(
            &s.key,
            "code",
            &json!({"challenge": next, "code": code(&ana.secret, 30)}),
        )
        .await;
    assert_eq!(signed.status(), 200);
    let (status, _, body) = error_of(
        s.auth(
            &s.key,
            "code",
            &json!({"challenge": next, "code": code(&ana.secret, 30)}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_expired")),
        "a used challenge: {body}"
    );
    unlock().await;

    // a recovery code works once, typed loosely; a second use is refused
    let next = challenge(s.login(&s.key, "ana", PASSWORD).await.json().await.unwrap());
    let loose = recovery[3].to_lowercase().replace('-', " ");
    let signed: Value = s
        .auth(
            &s.key,
            "code",
            &json!({"challenge": next, "recovery_code": loose}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(signed["recovery_codes_left"], 9, "{signed}");
    let next = challenge(s.login(&s.key, "ana", PASSWORD).await.json().await.unwrap());
    let (status, _, body) = error_of(
        s.auth(
            &s.key,
            "code",
            &json!({"challenge": next, "recovery_code": recovery[3]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("bad_code")));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("recovery code is wrong or was used already"));

    // a challenge past its five minutes
    let next = challenge(s.login(&s.key, "ana", PASSWORD).await.json().await.unwrap());
    router::with_db!(&pool, pool => sqlx::query("UPDATE login_challenges SET expires_at_ms = 0")
        .execute(pool)
        .await.map(|done| done.rows_affected()))
    .unwrap();
    let (status, _, body) = error_of(
        s.auth(
            &s.key,
            "code",
            &json!({"challenge": next, "recovery_code": recovery[0]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_expired"))
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("start again with the password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_codes_lock_the_account_for_fifteen_minutes_even_for_the_right_password() {
    let s = setup(Options::default()).await;
    let (ana, _) = s.enrol(&s.key, "ana", "reviewer").await;
    let next: Value = s.login(&s.key, "ana", PASSWORD).await.json().await.unwrap();
    for attempt in 1..=5 {
        let (status, retry, body) = error_of(
            s.auth(
                &s.key,
                "code",
                &json!({"challenge": next["challenge"], "code": "123456"}),
            )
            .await,
        )
        .await;
        if attempt < 5 {
            assert_eq!(
                (status, body["code"].as_str()),
                (401, Some("bad_code")),
                "attempt {attempt}"
            );
        } else {
            assert_eq!(
                (status, body["code"].as_str()),
                (429, Some("account_locked")),
                "{body}"
            );
            let retry: u64 = retry.unwrap().parse().unwrap();
            assert!(
                (895..=900).contains(&retry),
                "locked for 15 minutes: {retry} s"
            );
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("locked until 20"),
                "{body}"
            );
        }
    }
    // locked: the right password and the right code are refused alike, without a check
    let (status, _, body) = error_of(s.login(&s.key, "ana", PASSWORD).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("account_locked"))
    );
    let (status, _, _) = error_of(
        s.auth(
            &s.key,
            "code",
            &json!({"challenge": next["challenge"], "code": code(&ana.secret, 30)}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 429);
    let pool = s.ledger(0).await;
    let locked: i64 =
        router::with_db!(&pool, pool => sqlx::query_scalar("SELECT count(*) FROM auth_events WHERE outcome = 'locked'")
            .fetch_one(pool)
            .await)
            .unwrap();
    assert_eq!(locked, 2, "refusals while locked are logged");
}

/// Wrong passwords sent all at once (a guesser in parallel, or at several replicas) each count:
/// a failure is added to the stored count, never written over one counted meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_at_the_same_moment_each_count_toward_the_lock() {
    let s = setup(Options::default()).await;
    let added = s.add_user("bo", "reviewer", PASSWORD);
    assert!(added.status.success());
    let words: Vec<String> = (0..8)
        .map(|i| format!("guess number {i} of eight"))
        .collect();
    let guesses = words.iter().map(|word| s.login(&s.key, "bo", word));
    let answers = futures_util::future::join_all(guesses).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let (status, _, body) = error_of(s.login(&s.key, "bo", PASSWORD).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("account_locked")),
        "8 failures at once lock the account ({statuses:?})"
    );
    let pool = s.ledger(0).await;
    let (failures, lockouts): (i64, i64) = router::with_db!(&pool, pool => sqlx::query_as(
        "SELECT failures, lockouts FROM accounts WHERE name = 'bo'",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    // the fifth locks and starts the count again; the others count before or after it
    let refused_locked = statuses.iter().filter(|s| **s == 429).count() as i64;
    assert_eq!(lockouts, 1);
    assert!(
        failures + 5 + refused_locked >= 8 && failures <= 3,
        "failures {failures}, {statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_when_it_expires_is_revoked_signed_out_or_used_from_another_device() {
    let s = setup(Options::default()).await;
    let admin = s.admin().await;
    let session = |who: &Signed| s.get_as(who, "/station/v1/auth/session").send();
    assert_eq!(session(&admin).await.unwrap().status(), 200);

    // the token alone, from another device, is refused
    let thief = Signed {
        key: s.another_key(),
        token: admin.token.clone(),
        secret: vec![],
    };
    let (status, _, body) = error_of(session(&thief).await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_expired"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("another device"),
        "{body}"
    );

    // expired
    let pool = s.ledger(0).await;
    router::with_db!(&pool, pool => sqlx::query("UPDATE sessions SET expires_at_ms = 1")
        .execute(pool)
        .await.map(|done| done.rows_affected()))
    .unwrap();
    let (status, _, body) = error_of(session(&admin).await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_expired"))
    );
    assert!(body["message"].as_str().unwrap().contains("expired"));
    router::with_db!(&pool, pool => sqlx::query("UPDATE sessions SET expires_at_ms = 99999999999999")
        .execute(pool)
        .await.map(|done| done.rows_affected()))
        .unwrap();
    assert_eq!(session(&admin).await.unwrap().status(), 200);

    // revoked by the operator's command
    let revoked = Command::new(env!("CARGO_BIN_EXE_review-router"))
        .arg("--config")
        .arg(&s.config_path)
        .args(["users", "revoke-sessions", "root"])
        .output()
        .unwrap();
    assert!(revoked.status.success());
    let (status, _, body) = error_of(session(&admin).await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("revoked by an admin"),
        "{body}"
    );

    // a fresh sign-in, then signing out
    let next: Value = s
        .login(&s.key, "root", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let signed: Value = s
        .auth(
            &s.key,
            "code",
            &json!({"challenge": next["challenge"], "code": code(&admin.secret, 30)}),
        )
        .await
        .json()
        .await
        .unwrap();
    let again = Signed {
        key: s.key.clone(),
        token: signed["token"].as_str().unwrap().into(),
        secret: vec![],
    };
    assert_eq!(session(&again).await.unwrap().status(), 200);
    let out = s
        .http
        .post(format!("{}/station/v1/auth/logout", s.base))
        .bearer_auth(&again.key)
        .header("x-session-token", &again.token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let (_, _, body) = error_of(session(&again).await.unwrap()).await;
    assert!(
        body["message"].as_str().unwrap().contains("signed out"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_recovery_codes_void_the_old_ones() {
    let s = setup(Options::default()).await;
    let (ana, old) = s.enrol(&s.key, "ana", "reviewer").await;
    let fresh: Value = s
        .http
        .post(format!("{}/station/v1/auth/recovery-codes", s.base))
        .bearer_auth(&ana.key)
        .header("x-session-token", &ana.token)
        .json(&json!({"code": code(&ana.secret, 30)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh: Vec<String> = serde_json::from_value(fresh["codes"].clone()).unwrap();
    assert_eq!(fresh.len(), 10);
    let next: Value = s.login(&s.key, "ana", PASSWORD).await.json().await.unwrap();
    let (status, _, _) = error_of(
        s.auth(
            &s.key,
            "code",
            &json!({"challenge": next["challenge"], "recovery_code": old[0]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "an old code is void");
    let ok = s
        .auth(
            &s.key,
            "code",
            &json!({"challenge": next["challenge"], "recovery_code": fresh[0]}),
        )
        .await;
    assert_eq!(ok.status(), 200);
}
