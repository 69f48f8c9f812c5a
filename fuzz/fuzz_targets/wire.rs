//! The station and router wire types from arbitrary JSON: decoding never panics, and what
//! decodes encodes and decodes again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        let text = serde_json::to_vec(&value).expect("a decoded value encodes");
        let again: T = serde_json::from_slice(&text).expect("an encoded value decodes");
        assert_eq!(value, again);
    }
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<protocol::DecisionInput>(bytes);
    round_trip::<protocol::QueueQuery>(bytes);
    round_trip::<protocol::account::Login>(bytes);
    round_trip::<protocol::station_api::NewTask>(bytes);
    round_trip::<protocol::station_api::Claim>(bytes);
    round_trip::<protocol::admin::DashboardQuery>(bytes);
});
