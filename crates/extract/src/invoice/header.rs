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

/// The date: a labelled one wins over the first one on the page; checked for its range and
/// for a day/month order that could be read both ways.
pub(super) fn read_date(rows: &[Row], lines: &[Line], options: &InvoiceOptions, inv: &mut Invoice) {
    let mut first_date: Option<(crate::date::FoundDate, Vec<usize>)> = None;
    for row in rows {
        let text = row.text();
        for found in find_dates(&text, options.day_month) {
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
            if first_date.is_none() {
                first_date = Some((found, ev));
            }
        }
    }
    if let (false, Some((found, ev))) = (inv.date.is_found(), first_date) {
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
        inv.date.check(Check::new(
            "date_order_unambiguous",
            !date.ambiguous,
            if date.ambiguous {
                format!(
                    "day and month could be swapped; read as {} ({})",
                    date.iso, date.order
                )
            } else {
                format!("read as {}", date.iso)
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
