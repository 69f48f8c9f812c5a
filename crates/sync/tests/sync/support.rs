//! The servers the client is tested against, beyond the real router ([`testbed::Router`]): a
//! client enrolled with it, and a canned HTTP server for what a router never says (HTML,
//! garbage, endless bodies, scripted refusals).

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use sync::{new_device_key, RouterClient, Secret};
use testbed::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client enrolled with `router` under a key the station made, its device id and the key.
pub async fn enrolled(router: &Router) -> (RouterClient, i64, Secret) {
    let client = RouterClient::new(&router.url, None).expect("a client");
    let (key, _) = new_device_key();
    let code = router.enrolment_code().await;
    let enrolled = client
        .enrol(&code, "elm-road", &key)
        .await
        .expect("enrolled");
    (client.with_key(key.clone()), enrolled.device_id, key)
}

/// A request the canned server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP server that answers each connection with the next of `answers` (the last one again
/// once they run out) and keeps what it was sent.
pub struct Canned {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Canned {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Canned {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

pub async fn canned(answers: Vec<Vec<u8>>) -> Canned {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let task = tokio::spawn(async move {
        let mut next = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            let Some(request) = read_request(&mut stream).await else {
                continue;
            };
            log.lock().expect("not poisoned").push(request);
            let answer = &answers[next.min(answers.len() - 1)];
            next += 1;
            let _ = stream.write_all(answer).await;
            let _ = stream.shutdown().await;
        }
    });
    Canned { url, seen, task }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

/// An HTTP/1.1 answer with its length, closing the connection.
pub fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for (name, value) in headers {
        out += &format!("{name}: {value}\r\n");
    }
    out += &format!("content-length: {}\r\n\r\n", body.len());
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn json_answer(status: &str, body: &Value) -> Vec<u8> {
    answer(
        status,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// A router's hello, with its clock at `now` (RFC 3339) and API version `api`.
pub fn hello(api: u32, now: &str) -> Vec<u8> {
    json_answer(
        "200 OK",
        &json!({"service": "review-router", "api": api, "version": "0.1.0", "now": now, "idempotency_retention_s": 86400}),
    )
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatted")
}
