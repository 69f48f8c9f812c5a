//! The real parts tests run against, shared by the sync client's and the station's tests:
//! [`Router`] (the router's state and routes in the test process, over loopback HTTP, in front
//! of two fake LLM providers), [`GnomeKeyring`] (a real Secret Service on the session bus), and
//! [`Postgres`] and [`Redis`] (Debian's servers on loopback ports, stopped by PID).
//! Used as a dev-dependency only.
#![allow(clippy::expect_used)] // test support: a failure to start a part is a failed test

mod keyring;
mod router;
mod servers;

pub use keyring::{owns_secrets, GnomeKeyring};
pub use router::{totp_code, Router, ADMIN_KEY, PASSWORD, SECRET_KEY};
pub use servers::{Postgres, Redis, POSTGRES_USER};
