//! The invoice number, its date and its currency.

use super::*;

/// The invoice number: the first labelled one (`Invoice No: INV-7`) that is not a date.
pub(super) fn read_number(
    rows: &[Row],
    lines: &[Line],
    options: &InvoiceOptions,
    inv: &mut Invoice,
) {
    for row in rows {
        let text = row.text();
        if !inv.number.is_found() {
            if let Some(m) = NUMBER.captures(&text).and_then(|c| c.get(1)) {
                let value = m.as_str().trim_end_matches(['.', '-', '/']).to_string();
                if value.chars().any(|c| c.is_ascii_digit())
                    && find_dates(&value, options.day_month).is_empty()
                {
                    let ev = evidence_for(row, &value);
                    inv.number = Field::found(value.clone(), value, lines, &ev, Located::Labelled);
                }
            }
        }
    }
}

/// A time of day right after a date (`15:39`, `8:13:39 PM`, `T10:25`).
#[allow(clippy::unwrap_used)]
static TIME_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\sT,]*\d{1,2}:\d{2}\b").unwrap());

/// How numeric dates are written where a currency is paid: month first in the United States
/// and the Philippines, either way in Canada and Belize, day first everywhere else a currency
/// is read from (ringgit, rupees, euros, pounds, Singapore dollars…).
fn order_where_paid_in(currency: &str) -> Option<&'static str> {
    match currency {
        "USD" | "PHP" => Some("mdy"),
        "CAD" | "BZD" => None,
        _ => Some("dmy"),
    }
}

/// Whether a numeric date can be read in one order only: its day is over 12 (`13/03/2017`).
/// `03/03/2017` and `5 March 2017` say nothing about how `04/03/2017` is written.
fn proves_order(found: &crate::date::FoundDate) -> bool {
    if found.value.ambiguous
        || found.value.order == "ymd"
        || found.printed.chars().any(char::is_alphabetic)
    {
        return false;
    }
    found
        .printed
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .take(2)
        .filter_map(|p| p.parse::<u32>().ok())
        .any(|n| n > 12)
}

/// The date: a labelled one wins over the first one on the page; checked for its range and
/// for a day/month order that could be read both ways.
pub(super) fn read_date(rows: &[Row], lines: &[Line], options: &InvoiceOptions, inv: &mut Invoice) {
    let mut first_date: Option<(crate::date::FoundDate, Vec<usize>, u8)> = None;
    // a date whose day and month cannot be swapped (`13/03/2017`) settles the order of the
    // others on the page
    let mut settled_order: Option<(String, String)> = None;
    for row in rows {
        let text = row.text();
        for found in find_dates(&text, options.day_month) {
            if settled_order.is_none() && proves_order(&found) {
                settled_order = Some((found.value.order.clone(), found.printed.clone()));
            }
            let labelled = text[..found.span.start].to_lowercase().contains("date")
                || text.to_lowercase().contains("dated");
            let ev = evidence_for(row, &found.printed);
            if labelled && !inv.date.is_found() {
                inv.date = Field::found(
                    found.value.clone(),
                    found.printed.clone(),
                    lines,
                    &ev,
                    Located::Labelled,
                );
            }
            // Unlabelled, the receipt's date is the first one printed with a time of day
            // (`19-09-17 15:39`); without one, the first free-standing one. A date glued to
            // letters before it (`HD03-04-06`) is most likely a product or batch code, as is a
            // bare date-like code in an item line (`CK 11-22-31`), which carries no time.
            let glued = text[..found.span.start]
                .chars()
                .next_back()
                .is_some_and(char::is_alphabetic);
            let timed = TIME_AFTER.is_match(&text[found.span.end..]);
            let rank = u8::from(timed) * 2 + u8::from(!glued);
            if first_date.as_ref().is_none_or(|(_, _, r)| rank > *r) {
                first_date = Some((found, ev, rank));
            }
        }
    }
    if let (false, Some((found, ev, _))) = (inv.date.is_found(), first_date) {
        inv.date = Field::found(found.value, found.printed, lines, &ev, Located::Inferred);
    }
    if let Some(date) = inv.date.value.clone() {
        let year: i32 = date.iso.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let in_range = (options.earliest_year..=options.latest_year).contains(&year);
        inv.date.check(Check::new(
            "date_in_range",
            in_range,
            format!(
                "{} within {}–{}",
                date.iso, options.earliest_year, options.latest_year
            ),
        ));
        let settled_by = settled_order
            .filter(|(order, _)| date.ambiguous && *order == date.order)
            .map(|(_, printed)| printed)
            .or_else(|| {
                let currency = inv.currency.value.as_deref()?;
                (date.ambiguous && order_where_paid_in(currency) == Some(date.order.as_str()))
                    .then(|| format!("of amounts in {currency}"))
            });
        inv.date.check(Check::new(
            "date_order_unambiguous",
            !date.ambiguous || settled_by.is_some(),
            match (&settled_by, date.ambiguous) {
                (Some(other), _) => format!(
                    "read as {} ({}), the order {other} on the same page is written in",
                    date.iso, date.order
                ),
                (None, true) => format!(
                    "day and month could be swapped; read as {} ({})",
                    date.iso, date.order
                ),
                (None, false) => format!("read as {}", date.iso),
            },
        ));
    }
}

/// The currency: the one most amounts carry, else one named on the page, else INR when a
/// valid GSTIN says the invoice is Indian.
pub(super) fn read_currency(rows: &[Row], inv: &mut Invoice) {
    let currency = amount::dominant_currency(
        rows.iter()
            .map(|r| r.text())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    )
    .or_else(|| rows.iter().find_map(|r| amount::currency_named(&r.text())))
    // GST registration numbers are issued in India
    .or_else(|| {
        [&inv.seller_tax_id, &inv.buyer_tax_id]
            .iter()
            .any(|f| f.value.as_deref().is_some_and(gstin_is_valid))
            .then_some("INR")
    });
    if let Some(code) = currency {
        inv.currency = Field {
            value: Some(code.to_string()),
            printed: Some(code.to_string()),
            confidence: 0.8,
            checks: Vec::new(),
            evidence: Vec::new(),
        };
    }
}
