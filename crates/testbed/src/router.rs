//! The router as `review-router` runs it (its state, its routes, its ledger in a temp folder),
//! in the test process so no binary of another crate is needed.

use std::path::PathBuf;
use std::sync::Arc;

use fake_llm::{FakeConfig, FakeServer, Provider, Script};
use serde_json::{json, Value};

pub const ADMIN_KEY: &str = "admin-key-of-the-tests";
/// The key sealing TOTP secrets in the tests' router (set on the state, as the admin key is).
pub const SECRET_KEY: &str = "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e";
/// The password of every account [`Router::add_account`] makes.
pub const PASSWORD: &str = "a long enough passphrase";

/// The router, stopped when dropped.
#[allow(missing_debug_implementations)] // a handle on running processes: nothing to print
pub struct Router {
    pub url: String,
    pub http: reqwest::Client,
    /// The router's SQLite ledger (jobs, corrections, audit heads).
    pub db: PathBuf,
    state: Arc<router::AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _fakes: [FakeServer; 2],
    _dir: tempfile::TempDir,
}

impl Drop for Router {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

impl Router {
    /// Starts one on a free loopback port. The admin key is set on the state rather than
    /// through `REVIEW_ROUTER_ADMIN_KEY`: setting the environment of a test process whose other
    /// tests run on other threads is a data race.
    pub async fn start() -> Self {
        let fake = |provider, model: &str| {
            fake_llm::spawn(
                FakeConfig {
                    models: vec![model.into()],
                    ..FakeConfig::new(provider)
                }
                .with_script(Script::from_json(r#"{"latency":{"fixed_ms":5}}"#).expect("a script")),
            )
        };
        let gemini = fake(Provider::Gemini, "gemini-2.5-flash")
            .await
            .expect("gemini fake");
        let bedrock = fake(Provider::OpenAi, "qwen3-32b")
            .await
            .expect("bedrock fake");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            r#"database = "router.db"
[admission]
per_key_rps = 100
per_key_burst = 1000
[routing]
primary = "gemini"
secondary = "bedrock"
spill_rpm = 100000
spill_rps10 = 100000
spill_share = 0.5
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "{g}"
max_in_flight = 8
timeout_ms = 5000
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "{b}"
max_in_flight = 8
timeout_ms = 5000
[[models]]
name = "reasoning"
[models.serve.gemini]
model = "gemini-2.5-flash"
prices = [{{ from = "2026-01-01", input = 0.30, output = 2.50 }}]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{{ from = "2026-01-01", input = 0.15, output = 0.60 }}]
"#,
            g = gemini.base_url(),
            b = bedrock.base_url(),
        );
        let path = dir.path().join("router.toml");
        std::fs::write(&path, config).expect("write the config");
        let config = router::RouterConfig::load(&path).expect("a valid config");
        let mut state = router::AppState::new(config)
            .await
            .expect("the router starts");
        {
            let unshared =
                Arc::get_mut(&mut state).expect("the state is not shared before it is served");
            unshared.admin_key = Some(ADMIN_KEY.into());
            unshared.accounts = router::accounts::Accounts::new(
                unshared.ledger.db().clone(),
                Some(router::accounts::Sealer::from_hex(SECRET_KEY).expect("a valid key")),
            );
        }
        let app = router::api::router(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            url: format!("http://{address}"),
            http: reqwest::Client::new(),
            db: dir.path().join("router.db"),
            state,
            shutdown: Some(shutdown),
            _fakes: [gemini, bedrock],
            _dir: dir,
        }
    }

    /// An account with [`PASSWORD`], as `review-router users add` makes it; its id.
    pub async fn add_account(&self, name: &str, role: &str) -> i64 {
        let role = role.parse().expect("a role");
        self.state
            .accounts
            .create(name, role, PASSWORD)
            .await
            .expect("the account is created")
            .id
    }

    /// A one-time enrolment code, as an admin makes it.
    pub async fn enrolment_code(&self) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/admin/v1/enrolment-codes", self.url))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"note": "tests"}))
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON");
        answer["code"].as_str().expect("a code").to_owned()
    }

    /// Revokes a device's key, as an admin does.
    pub async fn revoke(&self, device: i64) {
        let status = self
            .http
            .post(format!("{}/admin/v1/devices/{device}/revoke", self.url))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .expect("an answer")
            .status();
        assert_eq!(status, 200, "revoked");
    }
}

/// The code an authenticator app shows, `offset_s` seconds from now, for the secret in an
/// `otpauth://` URL (what it reads from the QR code).
pub fn totp_code(otpauth_url: &str, offset_s: i64) -> String {
    let totp = totp_rs::Totp::from_url(otpauth_url).expect("an otpauth URL");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    totp.generate(now.saturating_add_signed(offset_s))
        .to_string()
}
