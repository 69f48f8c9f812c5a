//! The fake over real HTTP on loopback: answers, streams, every fault's wire format, the
//! counters the router's cap tests rely on, and the binary's command line.

use fake_llm::{spawn, FakeConfig, FakeServer, FaultKind, FaultRule, Latency, Provider, Script};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn fake(provider: Provider, script: Script) -> Result<FakeServer, std::io::Error> {
    spawn(FakeConfig::new(provider).with_script(script)).await
}

fn faults(rules: Vec<FaultRule>) -> Script {
    Script {
        faults: rules,
        ..Script::default()
    }
}

fn chat(text: &str) -> Value {
    json!({"model": "gemini-2.5-flash", "messages": [
        {"role": "system", "content": "You check store photos."},
        {"role": "user", "content": text}]})
}

fn schema_request() -> Value {
    json!({
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Which rules does this shelf break?"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}}]}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "verdicts", "strict": true, "schema": {
            "type": "object", "additionalProperties": false, "required": ["rules", "overall"],
            "properties": {
                "rules": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false,
                    "required": ["id", "state", "reason", "confidence"],
                    "properties": {"id": {"type": "string"}, "state": {"enum": ["pass", "fail", "unclear"]},
                        "reason": {"type": ["string", "null"]}, "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}},
                "overall": {"anyOf": [{"type": "boolean"}, {"type": "null"}]}}}}}
    })
}

async fn post(server: &FakeServer, body: &Value) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .json(body)
        .send()
        .await
}

async fn post_json(
    server: &FakeServer,
    body: &Value,
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let response = post(server, body).await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

fn content(answer: &Value) -> &str {
    answer
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[tokio::test]
async fn plain_request_looks_like_a_real_completion() -> TestResult {
    let server = fake(Provider::Gemini, Script::default()).await?;
    let (status, answer) = post_json(&server, &chat("Is the shelf tidy?")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "gemini-2.5-flash");
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert_eq!(answer["choices"][0]["message"]["role"], "assistant");
    assert!(content(&answer).starts_with("Fake answer "));
    let usage = &answer["usage"];
    let (prompt, completion) = (
        usage["prompt_tokens"].as_u64(),
        usage["completion_tokens"].as_u64(),
    );
    assert_eq!(
        prompt,
        Some(4 + 6 + 4 + 5),
        "two messages of 23 and 18 chars"
    );
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(prompt.unwrap_or(0) + completion.unwrap_or(0))
    );
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);

    let models: Value = reqwest::get(format!("{}/models", server.base_url()))
        .await?
        .json()
        .await?;
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "gemini-2.5-flash");
    Ok(())
}

#[tokio::test]
async fn same_request_same_content_and_usage_extras_are_reported() -> TestResult {
    let script = Script {
        usage: fake_llm::UsageScript {
            image_tokens: 258,
            cached_tokens: 5,
            reasoning_tokens: 40,
        },
        ..Script::default()
    };
    let server = fake(Provider::OpenAi, script).await?;
    let (_, first) = post_json(&server, &schema_request()).await?;
    let (_, second) = post_json(&server, &schema_request()).await?;
    let (_, other) = post_json(&server, &chat("Something else")).await?;
    assert_eq!(content(&first), content(&second));
    assert_ne!(content(&first), content(&other));
    assert_ne!(first["id"], second["id"], "ids stay unique per request");
    assert!(
        first["usage"]["prompt_tokens"].as_u64() > Some(258),
        "image tokens counted"
    );
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 5);
    assert_eq!(
        first["usage"]["completion_tokens_details"]["reasoning_tokens"],
        40
    );
    Ok(())
}

#[tokio::test]
async fn schema_answers_validate() -> TestResult {
    let server = fake(Provider::Gemini, Script::default()).await?;
    let request = schema_request();
    let validator =
        jsonschema::validator_for(&request["response_format"]["json_schema"]["schema"])?;
    for question in ["a", "b", "c", "d", "e"] {
        let mut request = request.clone();
        request["messages"][0]["content"][0]["text"] = json!(question);
        let (status, answer) = post_json(&server, &request).await?;
        assert_eq!(status, StatusCode::OK);
        let instance: Value = serde_json::from_str(content(&answer))?;
        assert!(validator.is_valid(&instance), "{instance}");
    }
    let invoice: Value =
        serde_json::from_str(include_str!("../../../schemas/invoice.v1.schema.json"))?;
    let validator = jsonschema::validator_for(&invoice)?;
    let request = json!({"model": "m", "messages": [{"role": "user", "content": "fields?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "invoice", "schema": invoice}}});
    let (_, answer) = post_json(&server, &request).await?;
    assert!(validator.is_valid(&serde_json::from_str(content(&answer))?));
    let json_object = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}});
    let (_, answer) = post_json(&server, &json_object).await?;
    assert!(serde_json::from_str::<Value>(content(&answer))?.is_object());
    assert_eq!(server.stats().schema_misses, 0);
    Ok(())
}

#[tokio::test]
async fn a_scripted_answer_is_given_to_requests_that_mention_its_text() -> TestResult {
    let verdict = json!({"rules": [{"id": "r1", "state": "fail", "reason": "no price tags", "confidence": 0.9}],
        "overall": false});
    let script = Script::from_json(
        &json!({"answers": [
            {"when_contains": "price tags", "json": verdict},
            {"when_contains": "refused by the schema", "json": {"rules": "not a list"}},
        ]})
        .to_string(),
    )?;
    let server = fake(Provider::OpenAi, script).await?;
    let ask = |question: &str| {
        let mut request = schema_request();
        request["messages"][0]["content"][0]["text"] = json!(question);
        request
    };
    // the text is looked for in the messages' text parts: the scripted answer, as it is
    let (status, answer) = post_json(&server, &ask("Are the price tags visible?")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(content(&answer))?, verdict);
    assert_eq!(server.stats().schema_misses, 0);
    // other requests get a seeded answer
    let (_, answer) = post_json(&server, &ask("Is the shelf full?")).await?;
    assert_ne!(serde_json::from_str::<Value>(content(&answer))?, verdict);
    // one the schema refuses is sent all the same, and counted as a miss
    let (_, answer) = post_json(&server, &ask("an answer refused by the schema")).await?;
    assert_eq!(
        serde_json::from_str::<Value>(content(&answer))?,
        json!({"rules": "not a list"})
    );
    assert_eq!(server.stats().schema_misses, 1);
    // a plain string content is searched too, and a json_object request answered the same way
    let json_object = json!({"model": "m", "messages": [{"role": "user", "content": "price tags?"}],
        "response_format": {"type": "json_object"}});
    let (_, answer) = post_json(&server, &json_object).await?;
    assert_eq!(serde_json::from_str::<Value>(content(&answer))?, verdict);
    Ok(())
}

/// The `data:` payloads of an SSE body.
fn events(body: &str) -> Vec<&str> {
    body.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect()
}

#[tokio::test]
async fn stream_sends_chunks_usage_and_done() -> TestResult {
    let server = fake(Provider::OpenAi, Script::default()).await?;
    let mut request = chat("Summarise the judgment.");
    let (_, whole) = post_json(&server, &request).await?;
    request["stream"] = json!(true);
    request["stream_options"] = json!({"include_usage": true});
    let response = post(&server, &request).await?;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await?;
    let events = events(&body);
    assert_eq!(events.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e))
        .collect::<Result<_, _>>()?;
    assert!(chunks.len() >= 5, "role, several deltas, finish, usage");
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    let text: String = chunks
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(text, content(&whole));
    let usage = chunks
        .last()
        .map(|c| (c["choices"].clone(), c["usage"].clone()));
    assert_eq!(usage.as_ref().map(|u| &u.0), Some(&json!([])));
    assert_eq!(usage.map(|u| u.1), Some(whole["usage"].clone()));
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    Ok(())
}

#[tokio::test]
async fn error_faults_use_each_providers_wire_format() -> TestResult {
    let gemini = fake(Provider::Gemini, Script::default()).await?;
    let openai = fake(Provider::OpenAi, Script::default()).await?;
    let set = |server: &FakeServer, rule: FaultRule| server.set_script(faults(vec![rule]));
    let request = chat("x");

    set(&gemini, FaultRule::always(FaultKind::Quota));
    let (status, body) = post_json(&gemini, &request).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!([{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}])
    );
    set(&openai, FaultRule::always(FaultKind::Quota));
    let (status, body) = post_json(&openai, &request).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "insufficient_quota");
    assert_eq!(body["error"]["type"], "insufficient_quota");

    set(
        &openai,
        FaultRule {
            retry_after_ms: Some(1500),
            ..FaultRule::always(FaultKind::RateLimit)
        },
    );
    let response = post(&openai, &request).await?;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(response.headers()["retry-after-ms"], "1500");
    assert_eq!(response.headers()["x-ratelimit-remaining-requests"], "0");
    let body: Value = response.json().await?;
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("Please try again in 1500ms")));
    set(&gemini, FaultRule::always(FaultKind::RateLimit));
    let (status, body) = post_json(&gemini, &request).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body[0]["error"]["status"], "RESOURCE_EXHAUSTED");
    let retry = body[0]["error"]["details"].as_array().and_then(|d| {
        d.iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
    });
    assert_eq!(retry.map(|r| &r["retryDelay"]), Some(&json!("0.120s")));

    set(&gemini, FaultRule::always(FaultKind::ServerError));
    let (status, body) = post_json(&gemini, &request).await?;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})
    );
    for (code, status) in [
        (500, StatusCode::INTERNAL_SERVER_ERROR),
        (502, StatusCode::BAD_GATEWAY),
    ] {
        set(
            &openai,
            FaultRule {
                status: Some(code),
                ..FaultRule::always(FaultKind::ServerError)
            },
        );
        let (got, body) = post_json(&openai, &request).await?;
        assert_eq!(got, status);
        assert!(body["error"]["message"].is_string());
    }

    set(&gemini, FaultRule::always(FaultKind::BadRequest));
    let (status, body) = post_json(&gemini, &request).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body[0]["error"]["status"], "INVALID_ARGUMENT");
    set(&openai, FaultRule::always(FaultKind::BadRequest));
    let (status, body) = post_json(&openai, &request).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let stats = gemini.stats();
    assert_eq!(stats.by_status.get("429"), Some(&2));
    assert_eq!(stats.by_fault.get("quota"), Some(&1));
    Ok(())
}

#[tokio::test]
async fn broken_answers_are_broken_the_right_way() -> TestResult {
    let server = fake(
        Provider::Gemini,
        faults(vec![FaultRule::always(FaultKind::MalformedBody)]),
    )
    .await?;
    let response = post(&server, &chat("x")).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&response.text().await?).is_err());
    let mut streaming = chat("x");
    streaming["stream"] = json!(true);
    let body = post(&server, &streaming).await?.text().await?;
    assert_eq!(events(&body).last(), Some(&"[DONE]"));
    assert!(events(&body)
        .iter()
        .any(|e| serde_json::from_str::<Value>(e).is_err()));

    server.set_script(faults(vec![FaultRule::always(FaultKind::InvalidContent)]));
    let request = schema_request();
    let validator =
        jsonschema::validator_for(&request["response_format"]["json_schema"]["schema"])?;
    let (status, answer) = post_json(&server, &request).await?;
    assert_eq!(status, StatusCode::OK);
    let instance: Value = serde_json::from_str(content(&answer))?;
    assert!(!validator.is_valid(&instance), "{instance}");

    server.set_script(faults(vec![FaultRule::always(FaultKind::CutStream)]));
    let response = post(&server, &streaming).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.text().await.is_err(),
        "the body ends in a broken connection"
    );
    assert!(post(&server, &chat("x")).await?.text().await.is_err());
    Ok(())
}

#[tokio::test]
async fn timeout_answers_late_and_hang_never() -> TestResult {
    let server = fake(
        Provider::OpenAi,
        faults(vec![FaultRule {
            delay_ms: Some(300),
            ..FaultRule::always(FaultKind::Timeout)
        }]),
    )
    .await?;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()?;
    let url = format!("{}/chat/completions", server.base_url());
    let error = impatient.post(&url).json(&chat("x")).send().await.err();
    assert!(error.is_some_and(|e| e.is_timeout()));
    let started = Instant::now();
    let (status, _) = post_json(&server, &chat("x")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    server.set_script(faults(vec![FaultRule::always(FaultKind::Hang)]));
    let error = impatient.post(&url).json(&chat("x")).send().await.err();
    assert!(error.is_some_and(|e| e.is_timeout()));
    // The hung request leaves the in-flight count once the client has hung up.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.stats().in_flight > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.stats().in_flight, 0);
    Ok(())
}

#[tokio::test]
async fn counts_the_most_in_flight_and_scripts_a_stress_window_over_http() -> TestResult {
    let server = fake(
        Provider::Gemini,
        Script {
            latency: Latency::FixedMs(250),
            ..Script::default()
        },
    )
    .await?;
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", server.base_url());
    let calls = (0..20).map(|i| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move { client.post(url).json(&chat(&format!("q{i}"))).send().await })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await??.status(), StatusCode::OK);
    }
    let base = format!("http://{}/_fake", server.addr());
    let stats: Value = client
        .get(format!("{base}/stats"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(stats["requests"], 20);
    assert_eq!(stats["max_in_flight"], 20);
    assert_eq!(stats["in_flight"], 0);
    assert_eq!(stats["by_status"], json!({"200": 20}));
    assert_eq!(stats["by_model"], json!({"gemini-2.5-flash": 20}));

    let reset: Value = client
        .post(format!("{base}/reset"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        (reset["requests"].as_u64(), reset["max_in_flight"].as_u64()),
        (Some(0), Some(0))
    );
    let script = json!({"faults": [{"kind": "quota", "after_requests": 3, "until_requests": 5}]});
    let set = client
        .post(format!("{base}/script"))
        .json(&script)
        .send()
        .await?;
    assert_eq!(set.status(), StatusCode::OK);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(post(&server, &chat("x")).await?.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 200]);
    let current: Value = client
        .get(format!("{base}/script"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(current["faults"][0]["after_requests"], 3);
    let refused = client
        .post(format!("{base}/script"))
        .json(&json!({"faults": [{"kind": "flood"}]}))
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn bad_input_gets_the_providers_400() -> TestResult {
    let server = fake(Provider::OpenAi, Script::default()).await?;
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await?;
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, _) = post_json(&server, &json!({"model": "m", "messages": []})).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let bad_schema = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 12}}}});
    let (status, _) = post_json(&server, &bad_schema).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(server.stats().by_status.get("400"), Some(&3));

    let keyed = spawn(FakeConfig {
        api_key: Some("sk-fake".into()),
        ..FakeConfig::new(Provider::OpenAi)
    })
    .await?;
    let (status, body) = post_json(&keyed, &chat("x")).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", keyed.base_url()))
        .bearer_auth("sk-fake")
        .json(&chat("x"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn the_binary_serves_and_stops_on_sigterm() -> TestResult {
    use std::io::BufRead;
    let dir = tempfile::tempdir()?;
    let (port_file, script) = (dir.path().join("port"), dir.path().join("script.json"));
    std::fs::write(&script, r#"{"faults":[{"kind":"rate_limit","every":2}]}"#)?;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fake-llm"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--provider",
            "openai",
            "--model",
            "gpt-fake",
        ])
        .arg("--port-file")
        .arg(&port_file)
        .arg("--script")
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        std::io::BufReader::new(stdout).read_line(&mut line)?;
    }
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_default()
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{line:?}");
    assert_eq!(std::fs::read_to_string(&port_file)?.trim(), addr);

    let url = format!("http://{addr}/v1/chat/completions");
    let client = reqwest::Client::new();
    let first = client.post(&url).json(&chat("x")).send().await?.status();
    let second = client.post(&url).json(&chat("x")).send().await?;
    assert_eq!(
        (first, second.status()),
        (StatusCode::OK, StatusCode::TOO_MANY_REQUESTS)
    );
    assert!(second.headers().contains_key("retry-after"));
    let models: Value = client
        .get(format!("http://{addr}/v1/models"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        models["data"],
        json!([{"id": "gpt-fake", "object": "model", "created": 1_700_000_000, "owned_by": "openai"}])
    );

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    Ok(())
}
