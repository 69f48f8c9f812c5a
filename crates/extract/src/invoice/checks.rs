//! The checks that tie the fields together: arithmetic (subtotal, taxes, rounding, total), the
//! payment against the total, tax lines that cannot be taxes, presence, and the script.

use super::*;

/// The labels and formats above are those of Latin-script invoices (English, Malay, German…):
/// a document mostly in another script gets a failed `script_supported`, so a reviewer sees why
/// its fields are missing instead of trusting an empty result.
pub(super) fn script_check(lines: &[Line]) -> Option<Check> {
    let mut latin = 0usize;
    let mut other: Vec<(&'static str, usize)> = Vec::new();
    for c in lines
        .iter()
        .flat_map(|l| l.text.chars())
        .filter(|c| c.is_alphabetic())
    {
        let script = match c as u32 {
            0x0000..=0x024F | 0x1E00..=0x1EFF => {
                latin += 1;
                continue;
            }
            0x0370..=0x03FF => "Greek",
            0x0400..=0x052F => "Cyrillic",
            0x0590..=0x05FF => "Hebrew",
            0x0600..=0x06FF => "Arabic",
            0x0900..=0x0DFF => "Indic",
            0x0E00..=0x0E7F => "Thai",
            0x3040..=0x30FF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF => "CJK",
            _ => "other",
        };
        match other.iter_mut().find(|(s, _)| *s == script) {
            Some((_, n)) => *n += 1,
            None => other.push((script, 1)),
        }
    }
    let others: usize = other.iter().map(|(_, n)| n).sum();
    if latin + others == 0 {
        return None;
    }
    other.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let main = other.first().map_or("other", |(s, _)| *s);
    let supported = latin >= others;
    Some(Check::new(
        "script_supported",
        supported,
        if supported {
            "the text is mostly in Latin script".to_string()
        } else {
            format!("the text is mostly in {main} script; fields are read for Latin-script invoices, so this one needs a person")
        },
    ))
}

/// The lines of a row whose text contains `needle` (else the whole row).
pub(super) fn evidence_for(row: &Row, needle: &str) -> Vec<usize> {
    let hits: Vec<usize> = row
        .cells
        .iter()
        .filter(|c| c.text.contains(needle))
        .map(|c| c.line)
        .collect();
    if hits.is_empty() {
        row.lines()
    } else {
        hits
    }
}

/// `adjustments`: service charges less discounts printed after the subtotal (not fields of the
/// result; a subtotal may or may not already hold them, so the sum is tried both ways).
pub(super) fn arithmetic_checks(inv: &mut Invoice, adjustments: Decimal) {
    let cent = Decimal::new(1, 2);
    inv.checks.push(Check::new(
        "total_present",
        inv.total.is_found(),
        if inv.total.is_found() {
            "a total was found"
        } else {
            "no total was found"
        },
    ));
    let items: Vec<Decimal> = inv
        .line_items
        .iter()
        .filter_map(|i| i.amount.value)
        .map(|m| m.0)
        .collect();
    let taxes: Decimal = inv
        .taxes
        .iter()
        .filter_map(|t| t.amount.value)
        .map(|m| m.0)
        .sum();
    let rounding = inv.rounding.value.map(|m| m.0).unwrap_or_default();
    if let (false, Some(subtotal)) = (items.is_empty(), inv.subtotal.value) {
        let sum: Decimal = items.iter().sum();
        let ok = (sum - subtotal.0).abs() <= cent;
        let check = Check::new(
            "line_items_sum",
            ok,
            format!("Σ line amounts {sum}, subtotal {}", subtotal.0),
        );
        inv.subtotal.check(check.clone());
        inv.checks.push(check);
    }
    // a guessed total (no line labelled as one) is not checked against the subtotal: it is
    // usually the subtotal itself
    let guessed = inv
        .checks
        .iter()
        .any(|c| c.name == "total_labelled" && !c.passed);
    if let (Some(subtotal), Some(total), false) = (inv.subtotal.value, inv.total.value, guessed) {
        // prices that include the tax (most receipts): the subtotal already holds it, and the
        // tax lines only say how much of it is tax
        let sums = |base: Decimal| (base + taxes + rounding, base + rounding);
        let (mut expected, mut inclusive) = sums(subtotal.0);
        // a printed rounding line exists to make the sum exact; without one, a cent may be
        // lost to taxes computed per line
        let slack = if inv.rounding.is_found() {
            Decimal::ZERO
        } else {
            cent
        };
        // without a rounding line the total may still be rounded to what coins can pay
        let adds_up = |sum: Decimal| {
            (sum - total.0).abs() <= slack
                || !inv.rounding.is_found() && is_rounding_step(sum, total.0)
        };
        let mut ok = adds_up(expected);
        let mut ok_inclusive = !ok && taxes > Decimal::ZERO && adds_up(inclusive);
        let mut adjusted = false;
        if !ok && !ok_inclusive && !adjustments.is_zero() {
            (expected, inclusive) = sums(subtotal.0 + adjustments);
            ok = adds_up(expected);
            ok_inclusive = !ok && taxes > Decimal::ZERO && adds_up(inclusive);
            adjusted = ok || ok_inclusive;
        }
        let base = if adjusted {
            format!(
                "subtotal {} + charges − discounts {adjustments}",
                subtotal.0
            )
        } else {
            format!("subtotal {}", subtotal.0)
        };
        let check = Check::new(
            "totals_add_up",
            ok || ok_inclusive,
            if ok_inclusive {
                format!(
                    "{base} (taxes {taxes} included) + rounding {rounding} = total {}",
                    total.0
                )
            } else {
                format!(
                    "{base} + taxes {taxes} + rounding {rounding} = {expected}, total {}",
                    total.0
                )
            },
        );
        inv.total.check(check.clone());
        inv.subtotal.check(check.clone());
        inv.checks.push(check);
    }
    let amount_of = |kind: &str| {
        inv.taxes
            .iter()
            .find(|t| t.kind == kind)
            .and_then(|t| t.amount.value)
    };
    if let (Some(c), Some(s)) = (amount_of("CGST"), amount_of("SGST")) {
        let ok = (c.0 - s.0).abs() <= cent;
        let check = Check::new(
            "cgst_equals_sgst",
            ok,
            format!("CGST {} vs SGST {}", c.0, s.0),
        );
        for t in inv
            .taxes
            .iter_mut()
            .filter(|t| t.kind == "CGST" || t.kind == "SGST")
        {
            t.amount.check(check.clone());
        }
        inv.checks.push(check);
    }
}

/// What the customer handed over and got back settles the total: tendered − change = total
/// when both are printed (`CASH 112.45` / `CHANGE 0.00` against a total misread as `112.46`),
/// tendered ≥ total when only the tender is. Only the rows after the total's count (a `CASH`
/// customer name in the header is no payment); some tills print the tender negative.
pub(super) fn payment_check(rows: &[Row], total_row: usize, inv: &mut Invoice) {
    let Some(total) = inv.total.value else {
        return;
    };
    let (mut tendered, mut change): (Option<Decimal>, Option<Decimal>) = (None, None);
    for (i, row) in rows.iter().enumerate().skip(total_row + 1) {
        let text = row.text().to_lowercase();
        if amount_label(&text) != Some(AmountLabel::Payment) {
            continue;
        }
        let Some((a, _)) = labelled_amount(rows, i) else {
            continue;
        };
        let value = a.value.abs();
        if text.contains("change") {
            change = change.or(Some(value));
        } else if value.is_zero() {
            continue;
        } else if ["cash", "tender", "paid", "card", "visa", "master"]
            .iter()
            .any(|w| text.contains(w))
        {
            tendered = tendered.or(Some(value));
        }
    }
    let Some(tendered) = tendered else {
        return;
    };
    let (ok, detail) = match change {
        Some(change) => (
            tendered - change == total.0,
            format!("tendered {tendered} − change {change}, total {}", total.0),
        ),
        None => (
            tendered >= total.0,
            format!("tendered {tendered}, total {}", total.0),
        ),
    };
    let check = Check::new("payment_matches_total", ok, detail);
    inv.total.check(check.clone());
    inv.checks.push(check);
}

/// Tax lines that cannot be taxes of this total are dropped: an amount over 30 % of the total
/// (no sales tax is that high; it is a summary row's taxable amount, `SR @ 6%  80.91  4.85`),
/// and a tax printed again in a summary table (`GST 6% 4.85` and `SR @ 6% … 4.85`: one tax).
pub(super) fn keep_plausible_taxes(inv: &mut Invoice) {
    let Some(total) = inv.total.value else {
        return;
    };
    let limit = total.0 * Decimal::new(3, 1);
    let mut kept: Vec<TaxLine> = Vec::new();
    for tax in std::mem::take(&mut inv.taxes) {
        let Some(amount) = tax.amount.value else {
            kept.push(tax);
            continue;
        };
        if amount.0 > limit {
            continue;
        }
        // the same amount under a generic label again, or under the same kind: printed twice
        let repeated = kept.iter().any(|k| {
            k.amount.value == Some(amount)
                && (k.kind == tax.kind || k.kind == "TAX" || tax.kind == "TAX")
        });
        if !repeated {
            kept.push(tax);
        }
    }
    inv.taxes = kept;
}

#[cfg(test)]
mod tests {
    use super::super::amounts::tests::block;
    use super::super::{extract_invoice, InvoiceOptions};

    #[test]
    fn the_payment_settles_a_misread_total() {
        let checks = |rows: &[(&str, &str)]| {
            let inv = extract_invoice(&block(rows), &InvoiceOptions::default());
            inv.total
                .checks
                .iter()
                .filter(|c| c.name == "payment_matches_total")
                .map(|c| c.passed)
                .collect::<Vec<_>>()
        };
        let rows = [
            ("SUB TOTAL", "106.10"),
            ("TOTAL GST", "6.37"),
            ("ROUNDING", "-0.02"),
            ("TOTAL", "112.45"),
            ("CASH", "112.45"),
            ("CHANGE", "0.00"),
        ];
        assert_eq!(checks(&rows), [true]);
        // the total misread by a cent: the payment and the sum both say so
        let mut misread = rows;
        misread[3].1 = "112.46";
        assert_eq!(checks(&misread), [false]);
        let inv = extract_invoice(&block(&misread), &InvoiceOptions::default());
        assert!(
            inv.checks
                .iter()
                .any(|c| c.name == "totals_add_up" && !c.passed),
            "with a rounding line printed, the sum must be exact: {:?}",
            inv.checks
        );
        // tendered without change: enough to cover the total, or the total is wrong
        let rows = [("TOTAL", "277.90"), ("CASH", "277.00")];
        assert_eq!(checks(&rows), [false]);
        let rows = [("TOTAL", "27.90"), ("CASH", "50.00")];
        assert_eq!(checks(&rows), [true]);
    }
}
