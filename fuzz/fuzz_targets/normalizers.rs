//! The amount, date and tax-id readers over arbitrary text.
#![no_main]

use extract::date::DayMonthOrder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = extract::amount::parse_number(text);
    let _ = extract::amount::find_amounts(text);
    let _ = extract::amount::last_money(text);
    let _ = extract::amount::currency_named(text);
    let _ = extract::date::find_dates(text, DayMonthOrder::DayFirst);
    let _ = extract::date::find_dates(text, DayMonthOrder::MonthFirst);
    let _ = extract::tax_id::find_tax_ids(text);
    let _ = extract::tax_id::gstin_is_valid(text);
});
