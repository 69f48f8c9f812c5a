//! A date as a result carries it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A normalized date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
pub struct DateValue {
    /// `YYYY-MM-DD`.
    pub iso: String,
    /// True when day and month could be swapped and the order was not evident.
    pub ambiguous: bool,
    /// The order it was read in: `dmy`, `mdy` or `ymd`.
    pub order: String,
}
