//! The traffic manager, layer by layer as the platform ran it: admission per client key, rate
//! counters, the routing decision, per-backend in-flight caps with a bounded wait, and which
//! backends are in rotation; `shared` keeps what replicas must share in Redis.

pub mod admission;
pub mod counters;
pub mod health;
pub mod shared;
pub mod slot;
pub mod split;
