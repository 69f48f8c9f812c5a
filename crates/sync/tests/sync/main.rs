//! The sync client against real servers: the router over loopback HTTP (with the fake LLM
//! providers behind it), canned servers that are not a router, a TLS server with a certificate
//! nobody trusts, and the Secret Service of a D-Bus session (`dbus-run-session`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod keyring;
mod misbehaving;
mod support;
mod tls;
mod transport;
