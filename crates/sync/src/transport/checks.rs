//! What the station checks before it trusts an answer: the router's address (before any
//! connection) and the router's clock (from its hello).

use std::time::Duration;

use reqwest::Url;
use time::OffsetDateTime;

use super::MAX_CLOCK_SKEW;
use crate::error::{excerpt, SyncError};

/// Checks the router's clock (`router_now`, RFC 3339) against this computer's.
pub fn check_clock(router_now: &str, local: OffsetDateTime) -> Result<(), SyncError> {
    let router = OffsetDateTime::parse(router_now, &time::format_description::well_known::Rfc3339)
        .map_err(|e| SyncError::Garbage {
            what: "hello",
            detail: format!("its clock is not an RFC 3339 time: {e}"),
            excerpt: excerpt(router_now.as_bytes(), None),
        })?;
    let off = local - router;
    let off_by = Duration::try_from(off.abs()).unwrap_or(Duration::MAX);
    if off_by > MAX_CLOCK_SKEW {
        return Err(SyncError::ClockSkew {
            off_by,
            ahead: off.is_positive(),
        });
    }
    Ok(())
}

/// The router's address, checked: `https://`, or `http://` to this computer only (a key sent in
/// clear over a network could be read on the way); no user or password in it; no query.
pub fn router_url(url: &str) -> Result<Url, SyncError> {
    let text = url.trim();
    let bad = |reason: &str| SyncError::BadUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut parsed = Url::parse(text).map_err(|e| match e {
        url_error if !text.contains("://") => bad(&format!(
            "{url_error}; write it with its scheme, as https://{text}"
        )),
        other => bad(&other.to_string()),
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&parsed) {
                return Err(bad(
                    "plain http:// is allowed only to this computer (localhost, 127.0.0.1, ::1), where nobody can read the device key on the way: use https://",
                ));
            }
        }
        other => {
            return Err(bad(&format!(
                "a router is reached over https:// (or http:// on this computer), not {other}://"
            )))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "it holds a user name or password: leave them out, the station signs in with its device key",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it has a query (?…) or fragment (#…): leave them out"));
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            // names that resolve to this computer by definition (RFC 6761), never by DNS
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn refused(url: &str) -> String {
        match router_url(url) {
            Err(SyncError::BadUrl { reason, .. }) => reason,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn router_addresses_are_checked_before_any_connection() {
        assert_eq!(
            router_url("https://router.example.com").unwrap().as_str(),
            "https://router.example.com/"
        );
        assert_eq!(
            router_url(" https://gw.example.com/llm ").unwrap().as_str(),
            "https://gw.example.com/llm/",
            "a path prefix keeps its endpoints below it"
        );
        for loopback in [
            "http://127.0.0.1:8080",
            "http://localhost:9",
            "http://[::1]:80/",
        ] {
            assert!(router_url(loopback).is_ok(), "{loopback}");
        }
        assert!(refused("http://router.example.com").contains("only to this computer"));
        assert!(refused("http://192.168.1.10:8080").contains("use https://"));
        assert!(refused("ftp://router.example.com").contains("not ftp://"));
        assert!(refused("router.example.com").contains("https://router.example.com"));
        assert!(refused("https://bob:pw@router.example.com").contains("user name or password"));
        assert!(refused("https://router.example.com/?x=1").contains("query"));
        assert!(refused("").contains("empty"));
    }

    #[test]
    fn the_clock_may_be_off_by_five_minutes_not_more() {
        let router = "2026-12-02T10:00:00Z";
        assert!(check_clock(router, datetime!(2026-12-02 10:04:59 UTC)).is_ok());
        assert!(check_clock(router, datetime!(2026-12-02 09:55:01 UTC)).is_ok());
        match check_clock(router, datetime!(2026-12-02 09:52:30 UTC)) {
            Err(e @ SyncError::ClockSkew { .. }) => assert!(
                e.to_string().contains("7 min 30 s behind the router's"),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
        match check_clock(router, datetime!(2026-12-03 12:00:00 UTC)) {
            Err(e) => assert!(e.to_string().contains("1 day 2 h ahead of"), "{e}"),
            Ok(()) => panic!("a day ahead"),
        }
        assert!(matches!(
            check_clock("yesterday", datetime!(2026-12-02 10:00:00 UTC)),
            Err(SyncError::Garbage { .. })
        ));
    }
}
