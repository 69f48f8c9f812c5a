//! The station's sync against the real router: who answers (hello), the heads of a station's
//! decision chain witnessed once and a rewritten history refused, blobs downloaded as
//! uploaded. The helpers here (a station enrolled, a POST expecting its status) serve the shared
//! queue's scenarios too (`shared_queue.rs`).

use serde_json::{json, Value};
use sha2::Digest;

use super::{error_of, setup, Options, Setup, ADMIN_KEY};

pub(crate) const PHOTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/grocery/queries/Packages/Sour-Milk-Arla-Sour-Milk_002.jpg"
);

impl Setup {
    /// A station enrolled with a one-time code: its device key.
    pub(crate) async fn device(&self, name: &str) -> String {
        let code: Value = self
            .http
            .post(format!("{}/admin/v1/enrolment-codes", self.base))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"note": name}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let enrolled: Value = self
            .http
            .post(format!("{}/station/v1/enrol", self.base))
            .json(&json!({"code": code["code"], "name": name}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        enrolled["key"]
            .as_str()
            .unwrap_or_else(|| panic!("a device key for {name}: {enrolled} (code: {code})"))
            .to_owned()
    }

    pub(crate) async fn send(&self, key: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// POST, expecting `status`: the JSON answer.
    pub(crate) async fn ok(&self, key: &str, path: &str, body: &Value, status: u16) -> Value {
        let response = self.send(key, path, body).await;
        let got = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "POST {path} {body}: {answer}");
        answer
    }

    pub(crate) async fn get_json(&self, key: &str, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Uploads `bytes` in one piece: their sha256 name.
    pub(crate) async fn upload(&self, key: &str, bytes: &[u8]) -> String {
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        let response = self
            .http
            .patch(format!("{}/station/v1/blobs/{sha}", self.base))
            .bearer_auth(key)
            .header("upload-offset", "0")
            .header("upload-length", bytes.len().to_string())
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        sha
    }

    /// The router's database, for what the API does not show (corrections) and for moving a
    /// lease's end into the past (a lease is at least 30 s: the test does not wait it out).
    pub(crate) async fn open_db(&self) -> router::db::Db {
        router::db::Db::open(&self.location, 2)
            .await
            .expect("open the router's database")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_says_who_answers_without_a_key() {
    let s = setup(Options::default()).await;
    let response = s
        .http
        .get(format!("{}/station/v1/hello", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let hello: Value = response.json().await.unwrap();
    assert_eq!(hello["service"], "review-router");
    assert_eq!(hello["api"], 1);
    assert_eq!(hello["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(hello["idempotency_retention_s"], 24 * 3600);
    let now = time::OffsetDateTime::parse(
        hello["now"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let skew = (time::OffsetDateTime::now_utc() - now).abs();
    assert!(skew < time::Duration::seconds(30), "{hello}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_heads_are_kept_once_and_a_rewritten_history_is_refused() {
    let s = setup(Options::default()).await;
    let (a, b) = (s.device("elm-road").await, s.device("main-street").await);
    let head = |n: u64, hash: char| json!({"decisions": n, "last_id": n, "last_hash": hash.to_string().repeat(64)});
    let first = s
        .ok(&a, "/station/v1/audit-heads", &head(3, 'a'), 201)
        .await;
    let again = s
        .ok(&a, "/station/v1/audit-heads", &head(3, 'a'), 200)
        .await;
    assert_eq!(again, first, "a repeat is the head as first received");
    s.ok(&a, "/station/v1/audit-heads", &head(5, 'b'), 201)
        .await;
    let heads = s.get_json(&a, "/station/v1/audit-heads").await;
    assert_eq!(heads.as_array().unwrap().len(), 2, "stored once: {heads}");
    assert_eq!(heads[0], first, "oldest first");
    assert_eq!(heads[1]["decisions"], 5);

    // the same count with another hash: the history was rewritten
    let (status, _, body) =
        error_of(s.send(&a, "/station/v1/audit-heads", &head(5, 'c')).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("audit_diverged")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the station's decision history differs from what it showed this router on "
        ),
        "{message}"
    );
    assert!(
        message.contains(heads[1]["received_at"].as_str().unwrap()),
        "{message}"
    );
    // fewer decisions than a head witnessed before
    let (status, _, body) =
        error_of(s.send(&a, "/station/v1/audit-heads", &head(4, 'd')).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("audit_diverged")),
        "{body}"
    );

    // both kept all the same (they are evidence), and paged oldest first
    let heads = s.get_json(&a, "/station/v1/audit-heads").await;
    let counts: Vec<i64> = heads
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["decisions"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, vec![3, 5, 5, 4]);
    let page = s
        .get_json(&a, "/station/v1/audit-heads?after=1&limit=2")
        .await;
    assert_eq!(
        page.as_array().unwrap()[..],
        heads.as_array().unwrap()[1..3]
    );

    // each station has its own history
    assert_eq!(s.get_json(&b, "/station/v1/audit-heads").await, json!([]));
    s.ok(&b, "/station/v1/audit-heads", &head(1, 'e'), 201)
        .await;
    let bad = s
        .send(
            &b,
            "/station/v1/audit-heads",
            &json!({"decisions": 1, "last_id": 1, "last_hash": "xyz"}),
        )
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_downloads_as_it_was_uploaded() {
    let s = setup(Options::default()).await;
    let (a, b) = (s.device("elm-road").await, s.device("main-street").await);
    let photo = std::fs::read(PHOTO).unwrap();
    let sha = s.upload(&a, &photo).await;
    // another station downloads it, whole
    let response = s
        .http
        .get(format!("{}/station/v1/blobs/{sha}", s.base))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(header("content-length"), Some(photo.len().to_string()));
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        &photo[..],
        "the bytes as uploaded"
    );

    // half an upload is not a blob yet; nor is a name never uploaded
    let other = b"a second photo, uploaded in part".to_vec();
    let other_sha = hex::encode(sha2::Sha256::digest(&other));
    let part = s
        .http
        .patch(format!("{}/station/v1/blobs/{other_sha}", s.base))
        .bearer_auth(&a)
        .header("upload-offset", "0")
        .header("upload-length", other.len().to_string())
        .body(other[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 200);
    for name in [other_sha, "f".repeat(64)] {
        let missing = s
            .http
            .get(format!("{}/station/v1/blobs/{name}", s.base))
            .bearer_auth(&b)
            .send()
            .await
            .unwrap();
        let (status, _, body) = error_of(missing).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
    }
    let anonymous = s
        .http
        .get(format!("{}/station/v1/blobs/{sha}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
