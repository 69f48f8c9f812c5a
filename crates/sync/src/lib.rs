//! The station's sync client (issue 16). This first part is pure: what an outbox job's state
//! becomes on each event (`outbox`), and when and whether a failed send is tried again (`retry`).
//! The transport to the router and the outbox rows in the station database build on them.

pub mod outbox;
pub mod retry;
