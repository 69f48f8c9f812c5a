//! The real parts tests run against, shared by the sync client's and the station's tests:
//! [`Router`] (the router's state and routes in the test process, over loopback HTTP, in front
//! of two fake LLM providers) and [`GnomeKeyring`] (a real Secret Service on the session bus).
//! Used as a dev-dependency only.
#![allow(clippy::expect_used)] // test support: a failure to start a part is a failed test

mod keyring;
mod router;

pub use keyring::{owns_secrets, GnomeKeyring};
pub use router::{totp_code, Router, ADMIN_KEY, PASSWORD, SECRET_KEY};
