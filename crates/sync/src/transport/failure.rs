//! reqwest's errors, said as what happened: no connection (and why), a certificate this computer
//! does not trust, another TLS failure, a timeout, a connection cut.

use crate::error::{ConnectFailure, SyncError};

use super::{Call, CONNECT_TIMEOUT};

/// reqwest's error, said as what happened: no connection (and why), an untrusted
/// certificate, a timeout, or a connection cut.
pub(crate) fn transport_error(host: &str, error: &reqwest::Error, call: Call) -> SyncError {
    let host = host.to_owned();
    if let Some(tls) = rustls_error(error) {
        return match tls {
            rustls::Error::InvalidCertificate(why) => SyncError::Certificate {
                host,
                detail: certificate_problem(why),
            },
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                SyncError::Tls {
                    host,
                    detail: format!("{tls}; does the server speak https on this port?"),
                }
            }
            other => SyncError::Tls {
                host,
                detail: other.to_string(),
            },
        };
    }
    if error.is_connect() {
        let why = if error.is_timeout() {
            ConnectFailure::Other(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))
        } else {
            connect_failure(error)
        };
        return SyncError::Connect { host, why };
    }
    if error.is_timeout() {
        return SyncError::Timeout {
            what: call.what,
            after: call.timeout,
        };
    }
    SyncError::Cut {
        host,
        detail: chain(error),
    }
}

/// What is wrong with the certificate, in words.
fn certificate_problem(error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match error {
        E::UnknownIssuer => {
            "it is issued by an authority this computer does not know, or signed by itself".into()
        }
        E::Expired | E::ExpiredContext { .. } => "it has expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => {
            "it is not valid yet (or this computer's clock is behind)".into()
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "it is made out to another name than this address".into()
        }
        E::Revoked => "it was revoked".into(),
        E::BadSignature => "its signature does not verify".into(),
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
            "it is not a server certificate".into()
        }
        other => format!("{other:?}"),
    }
}

/// Every error in the chain, each once.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The sources of `error`, looking inside `io::Error`s too (their `source` skips the error they
/// wrap, which is where rustls puts its own).
fn sources<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> Vec<&'e (dyn std::error::Error + 'static)> {
    let mut all = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        all.push(e);
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    all
}

fn rustls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    sources(error)
        .into_iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
}

fn connect_failure(error: &reqwest::Error) -> ConnectFailure {
    use std::io::ErrorKind;
    for e in sources(error) {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return ConnectFailure::Refused,
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    return ConnectFailure::Unreachable
                }
                _ => {}
            }
        }
    }
    let text = chain(error);
    // hyper's resolver says "dns error"; the system's words follow it
    if let Some(at) = text.find("dns error") {
        let words = text[at + "dns error".len()..].trim_start_matches([':', ' ']);
        ConnectFailure::UnknownHost(words.to_owned())
    } else {
        ConnectFailure::Other(text)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A real reqwest error from a server on loopback that accepts, reads, then does `then`.
    async fn error_from(then: fn(tokio::net::TcpStream)) -> reqwest::Error {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                then(stream);
            }
        });
        reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn a_silent_router_is_a_timeout_and_a_dropped_connection_is_cut() {
        let call = Call {
            what: "the results",
            keyed: true,
            timeout: Duration::from_millis(200),
        };
        // holds the connection open and never answers
        let silent = error_from(|stream| {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                drop(stream);
            });
        })
        .await;
        let error = transport_error("127.0.0.1", &silent, call);
        assert!(
            matches!(error, SyncError::Timeout { what: "the results", after } if after == call.timeout),
            "{error:?}"
        );
        assert!(error
            .to_string()
            .starts_with("the router did not answer the results within"));
        // closes the connection without a word
        let cut = error_from(drop).await;
        let error = transport_error("127.0.0.1", &cut, call);
        assert!(matches!(error, SyncError::Cut { .. }), "{error:?}");
        assert!(matches!(error.failure(), crate::retry::Failure::Network(_)));
    }
}
