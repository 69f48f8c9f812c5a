//! An invoice or receipt as extracted.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::date::DateValue;
use super::{Check, Field};

/// A money amount or quantity, exact, written as a decimal string (`"1234.50"`).
// A newtype serializes as its inner value: `"1234.50"` (rust_decimal's `serde-str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
pub struct Money(#[ts(type = "string")] pub Decimal);

impl JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "An exact decimal number as a string."
        })
    }
}

/// One row of the items table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct LineItem {
    pub description: Field<String>,
    /// HSN (goods) or SAC (services) code, when the table has that column.
    pub hsn_sac: Field<String>,
    pub quantity: Field<Money>,
    pub unit_price: Field<Money>,
    pub amount: Field<Money>,
}

/// One tax line: CGST, SGST, IGST, UTGST, VAT, GST or SST, with its rate when printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct TaxLine {
    pub kind: String,
    pub rate_percent: Option<Money>,
    pub amount: Field<Money>,
}

/// An invoice or receipt as extracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Invoice {
    /// Always `invoice/1`.
    pub schema: String,
    pub number: Field<String>,
    pub date: Field<DateValue>,
    pub seller: Field<String>,
    pub seller_address: Field<String>,
    pub seller_tax_id: Field<String>,
    pub buyer: Field<String>,
    pub buyer_tax_id: Field<String>,
    /// ISO 4217 code.
    pub currency: Field<String>,
    pub line_items: Vec<LineItem>,
    pub subtotal: Field<Money>,
    pub taxes: Vec<TaxLine>,
    pub rounding: Field<Money>,
    pub total: Field<Money>,
    /// Checks that relate several fields (totals arithmetic, CGST = SGST, a total at all).
    pub checks: Vec<Check>,
    /// The lowest confidence of number/date/seller/total (0 when one is missing).
    pub confidence: f32,
}
