//! The amounts block: its labels, the amount a labelled row gives, and subtotal, taxes,
//! rounding and total read from it.

use super::*;

/// The labels of the amounts block, in the order they are tried on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AmountLabel {
    Subtotal,
    Tax(&'static str),
    Rounding,
    /// A total, with how final it is (higher wins).
    Total(u8),
    /// Cash tendered, change, payment: amounts that are not the total.
    Payment,
    /// A service charge added after the subtotal.
    Charge,
    /// A discount taken off.
    Discount,
}

pub(super) fn amount_label(text: &str) -> Option<AmountLabel> {
    // words separated by single spaces, so that labels match at word starts only
    // (`card` is not `cardamom`; `sub-total` is `sub total`)
    let t = format!(
        " {} ",
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric() && c != '%')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let has = |w: &str| t.contains(&format!(" {w}"));
    if has("change")
        || has("tender")
        || has("cash ") && !has("total")
        || has("paid ") && !has("total")
        || has("balance") && !has("due")
        || has("card ") && !has("total")
        || has("visa ")
        || has("master ")
        || has("payment")
    {
        return Some(AmountLabel::Payment);
    }
    if has("rounding") || has("round off") || has("round-off") || has("rounded adj") {
        return Some(AmountLabel::Rounding);
    }
    if [
        "service charge",
        "serv charge",
        "svc charge",
        "service chg",
        "svc chg",
        "serv chg",
    ]
    .iter()
    .any(|w| has(w))
    {
        return Some(AmountLabel::Charge);
    }
    if has("discount") {
        return Some(AmountLabel::Discount);
    }
    if has("total") && has("excl") {
        return Some(AmountLabel::Subtotal);
    }
    if has("sub total")
        || has("subtotal")
        || has("sub-total")
        || has("taxable value")
        || has("taxable amount")
        || has("total excl")
        || has("amount before tax")
        || has("total before tax")
        || has("net amount") && !has("payable")
    {
        return Some(AmountLabel::Subtotal);
    }
    let total_excluded = [
        "total qty",
        "total quantity",
        "total item",
        "total no",
        "total disc",
        "total saving",
        "total tax",
        "total gst",
        "total vat",
        "total sst",
        "total units",
        "total pcs",
        "total weight",
    ];
    let mentions_tax_id = has("gstin")
        || has("reg no")
        || has("reg. no")
        || has("gst no")
        || has("gst id")
        || has("vat no")
        || has("gst reg")
        || has("summary");
    // `TOTAL GST (RM) : 6.37` is the tax itself, not a total
    let total_of_tax = ["total gst", "total tax", "total vat", "total sst"]
        .iter()
        .any(|w| has(w))
        && !has("incl")
        && !has("excl");
    if (total_of_tax || !has("total")) && !has("incl") && !mentions_tax_id {
        for (kind, word) in [
            ("CGST", "cgst"),
            ("SGST", "sgst"),
            ("IGST", "igst"),
            ("UTGST", "utgst"),
            ("VAT", "vat"),
            ("SST", "sst"),
            ("GST", "gst"),
            ("TAX", "tax"),
        ] {
            if has(word) {
                return Some(AmountLabel::Tax(kind));
            }
        }
    }
    if total_excluded.iter().any(|w| has(w)) {
        return None;
    }
    if has("grand total")
        || has("nett total")
        || has("net total")
        || has("total payable")
        || has("amount payable")
        || has("amount due")
        || has("total due")
        || has("balance due")
        || has("rounded total")
        || has("total rounded")
        || has("total incl")
        || has("total (incl")
        || has("total amount")
        || has("total amt")
        || has("total") && has("incl")
    {
        return Some(AmountLabel::Total(2));
    }
    if t.split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "total" || w == "jumlah")
    {
        return Some(AmountLabel::Total(1));
    }
    None
}

pub(super) fn money_field(
    a: &Amount,
    lines: &[Line],
    evidence: &[usize],
    located: Located,
) -> Field<Money> {
    Field::found(
        Money(a.value),
        a.as_printed.clone(),
        lines,
        evidence,
        located,
    )
}

/// The amount a labelled row gives: the last money on it, or else the first money on the
/// next row when that row carries no label of its own.
pub(super) fn labelled_amount(rows: &[Row], i: usize) -> Option<(Amount, Vec<usize>)> {
    let row = &rows[i];
    // cells right of the label: search from the last cell backwards so that a rate
    // (`6%`) or a quantity inside the label is not taken
    for cell in row.cells.iter().rev() {
        if let Some(a) = amount::last_money(&cell.text) {
            return Some((a, vec![cell.line]));
        }
    }
    let next = rows.get(i + 1)?;
    if next.page != row.page || amount_label(&next.text()).is_some() {
        return None;
    }
    let text = next.text();
    let mut amounts = amount::find_amounts(&text)
        .into_iter()
        .filter(|a| a.has_decimals);
    // under a tax label the tax is the last column (`TAX CODE % AMOUNT TAX` / `SR 6.00 52.00
    // 3.12`); under the others the first amount is the value (`TOTAL` / `60.30  VISA`)
    let a = if matches!(amount_label(&row.text()), Some(AmountLabel::Tax(_))) {
        amounts.next_back()
    } else {
        amounts.next()
    }?;
    Some((a, next.lines()))
}

/// Subtotal, tax lines, rounding and total from the amounts block; a total printed before the
/// rounding line gives way to the rounded amount after it; without a labelled total the largest
/// amount is taken, and said to be a guess. Returns the service charges less the discounts
/// printed after the subtotal, which the arithmetic check adds to it.
pub(super) fn read_amounts(rows: &[Row], lines: &[Line], inv: &mut Invoice) -> Decimal {
    let mut totals: Vec<(u8, Amount, Vec<usize>, usize)> = Vec::new();
    let mut rounding_row: Option<usize> = None;
    let mut adjustments = Decimal::ZERO;
    for (i, row) in rows.iter().enumerate() {
        let Some(label) = amount_label(&row.text()) else {
            continue;
        };
        let Some((a, ev)) = labelled_amount(rows, i) else {
            continue;
        };
        match label {
            AmountLabel::Subtotal if !inv.subtotal.is_found() => {
                inv.subtotal = money_field(&a, lines, &ev, Located::Labelled);
            }
            // on their own row only (a `DISC%` column header is no discount), after the subtotal
            AmountLabel::Charge | AmountLabel::Discount
                if inv.subtotal.is_found() && ev.iter().all(|l| row.lines().contains(l)) =>
            {
                if label == AmountLabel::Charge {
                    adjustments += a.value.abs();
                } else {
                    adjustments -= a.value.abs();
                }
            }
            AmountLabel::Tax(kind) => {
                let rate = rate_on(&row.text());
                // a rate printed as the amount (`CGST 9% 9.00`) is not taken: `labelled_amount`
                // reads the last money on the row
                inv.taxes.push(TaxLine {
                    kind: kind.into(),
                    rate_percent: rate,
                    amount: money_field(&a, lines, &ev, Located::Labelled),
                });
            }
            AmountLabel::Rounding if !inv.rounding.is_found() => {
                inv.rounding = money_field(&a, lines, &ev, Located::Labelled);
                rounding_row = Some(i);
            }
            AmountLabel::Total(rank) => totals.push((rank, a, ev, i)),
            _ => {}
        }
    }
    // "Total includes 6% GST  2.56": the tax a total includes, printed under a total label. An
    // amount that small beside another total is that tax, not the total.
    let largest = totals.iter().map(|(_, a, ..)| a.value).max();
    totals.retain(|(_, a, ev, i)| {
        let Some(kind) = included_tax(&rows[*i].text()) else {
            return true;
        };
        let is_tax = largest.is_some_and(|l| a.value * Decimal::from(10) <= l * Decimal::from(3));
        if is_tax {
            inv.taxes.push(TaxLine {
                kind: kind.into(),
                rate_percent: rate_on(&rows[*i].text()),
                amount: money_field(a, lines, ev, Located::Labelled),
            });
        }
        !is_tax
    });
    let mut best_total: Option<(u8, Amount, Vec<usize>, usize)> = None;
    for (rank, a, ev, i) in totals {
        let better = best_total.as_ref().is_none_or(|(r, b, _, at)| {
            rank > *r
                || rank == *r && a.value >= b.value
                // a later total a few cents off that ends in 0 or 5 is the earlier one rounded
                // to what can be paid in coins, whatever their labels say
                || *at < i && is_rounding_step(b.value, a.value)
        });
        if better {
            best_total = Some((rank, a, ev, i));
        }
    }
    // a total printed before the rounding line is the unrounded one: the rounded amount is on
    // an unlabelled line right after it (`ROUNDING ADJ -0.01` / `RM 60.30`)
    if let (Some((rank, a, _, total_row)), Some(r_row), Some(r)) =
        (best_total.as_ref(), rounding_row, inv.rounding.value)
    {
        if r_row > *total_row {
            // the adjustment may be printed without its sign (`ROUNDING ADJ 0.02`)
            let rounded = [a.value + r.0, a.value - r.0];
            let found = rows
                .iter()
                .enumerate()
                .skip(r_row + 1)
                .take(2)
                .find_map(|(i, row)| {
                    if !matches!(
                        amount_label(&row.text()),
                        None | Some(AmountLabel::Total(_))
                    ) {
                        return None;
                    }
                    row.cells.iter().find_map(|c| {
                        amount::last_money(&c.text)
                            .filter(|m| rounded.contains(&m.value) && m.value != a.value)
                            .map(|m| (m, vec![c.line], i))
                    })
                });
            if let Some((m, ev, i)) = found {
                best_total = Some((*rank, m, ev, i));
            }
        }
    }
    match best_total {
        Some((_, a, ev, at)) => {
            inv.total = money_field(&a, lines, &ev, Located::Labelled);
            keep_plausible_taxes(inv);
            payment_check(rows, at, inv);
        }
        None if items_sum_total(rows, lines, inv) => {}
        None => {
            // the largest money amount outside payment rows, as a last resort
            let mut largest: Option<(Amount, Vec<usize>)> = None;
            for (i, row) in rows.iter().enumerate() {
                if matches!(amount_label(&row.text()), Some(AmountLabel::Payment)) {
                    continue;
                }
                // `CASH` / `50.00` on the next row: the tendered amount, not the total
                let after_payment = i > 0
                    && amount_label(&rows[i - 1].text()) == Some(AmountLabel::Payment)
                    && labelled_amount(rows, i - 1).is_some_and(|(_, ev)| ev == row.lines())
                    && amount_label(&row.text()).is_none();
                if after_payment {
                    continue;
                }
                for cell in &row.cells {
                    for a in amount::find_amounts(&cell.text)
                        .into_iter()
                        .filter(|a| a.has_decimals)
                    {
                        if largest.as_ref().is_none_or(|(b, _)| a.value > b.value) {
                            largest = Some((a, vec![cell.line]));
                        }
                    }
                }
            }
            if let Some((a, ev)) = largest {
                inv.total = money_field(&a, lines, &ev, Located::Guessed);
                let check = Check::new(
                    "total_labelled",
                    false,
                    "no line is labelled as the total; the largest amount was taken",
                );
                inv.total.check(check.clone());
                inv.checks.push(check);
            }
        }
    }
    adjustments
}

/// A tax line's rate (`SST 6%`, `GST @ 6 %`), if printed.
fn rate_on(text: &str) -> Option<Money> {
    RATE.captures(text)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse::<Decimal>().ok())
        .map(Money)
}

/// Without a total label: an amount that equals the sum of the amounts on the rows above it
/// (two or more) is the total — arithmetic says so, even on the cash row, where it means the
/// customer paid exactly (`DPT.05 149.00` / `DPT.04 21.00` / `CASH` / `170.00`). Sets the total
/// and says whether one was found.
fn items_sum_total(rows: &[Row], lines: &[Line], inv: &mut Invoice) -> bool {
    let mut sum = Decimal::ZERO;
    let mut summed = 0;
    let mut found: Option<(Amount, Vec<usize>)> = None;
    for row in rows {
        let text = row.text();
        let label = amount_label(&text);
        // the total is a bare amount or on a payment row, never on a subtotal or tax row
        let may_be_total = matches!(label, None | Some(AmountLabel::Payment));
        let mut last: Option<Decimal> = None;
        for cell in &row.cells {
            for a in amount::find_amounts(&cell.text)
                .into_iter()
                .filter(|a| a.has_decimals && a.value > Decimal::ZERO)
            {
                if may_be_total && summed >= 2 && a.value == sum && found.is_none() {
                    found = Some((a.clone(), vec![cell.line]));
                }
                last = Some(a.value);
            }
        }
        // items: unlabelled rows that say what was sold (a bare amount may repeat the total)
        let described = text.chars().filter(|c| c.is_alphabetic()).count() >= 3;
        if let (Some(v), None, true) = (last, label, described) {
            sum += v;
            summed += 1;
        }
    }
    let Some((a, ev)) = found else {
        return false;
    };
    inv.total = money_field(&a, lines, &ev, Located::Inferred);
    let check = Check::new(
        "total_labelled",
        false,
        "no line is labelled as the total; the amount equal to the sum of the amounts above it was taken",
    );
    inv.total.check(check.clone());
    inv.checks.push(check);
    true
}

/// The tax a "total includes GST" line names, if the row is one: a total label with a word of
/// inclusion and a tax word (`Total includes 6% GST`, `GST included in total`,
/// `Total Incl. GST`). Whether its amount is that tax or the total itself is decided by size.
fn included_tax(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    let includes = ["include", "inclusive", "incl"]
        .iter()
        .any(|w| t.contains(w));
    if !includes || !t.contains("total") {
        return None;
    }
    [
        ("GST", "gst"),
        ("SST", "sst"),
        ("VAT", "vat"),
        ("TAX", "tax"),
    ]
    .into_iter()
    .find(|(_, w)| t.contains(w))
    .map(|(kind, _)| kind)
}

/// Whether `after` is `before` rounded to 5 or 10 cents, as cash is paid where the smallest
/// coin is 5 cents (Malaysia, Singapore, Australia…): less than 10 cents apart, `after` a
/// multiple of 5 cents and `before` not.
pub(super) fn is_rounding_step(before: Decimal, after: Decimal) -> bool {
    let in_fives =
        |v: Decimal| (v * Decimal::from(100)).round() % Decimal::from(5) == Decimal::ZERO;
    (before - after).abs() < Decimal::new(10, 2) && in_fives(after) && !in_fives(before)
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{extract_invoice, InvoiceOptions};
    use crate::layout::tests::line;
    use crate::Line;
    use rust_decimal::Decimal;

    /// A receipt's amounts block: label on the left, amount on the right, one row each.
    pub(in crate::invoice) fn block(rows: &[(&str, &str)]) -> Vec<Line> {
        let mut lines = vec![
            line(1, 60.0, 20.0, 300.0, "KEDAI RUNCIT MAJU SDN BHD"),
            line(1, 60.0, 45.0, 300.0, "NO 5, JALAN MAJU, 43000 KAJANG"),
        ];
        for (i, (label, amount)) in rows.iter().enumerate() {
            let top = 200.0 + 30.0 * i as f32;
            if !label.is_empty() {
                lines.push(line(1, 50.0, top, 200.0, label));
            }
            if !amount.is_empty() {
                lines.push(line(1, 300.0, top, 60.0, amount));
            }
        }
        lines
    }

    fn total(rows: &[(&str, &str)]) -> Option<Decimal> {
        extract_invoice(&block(rows), &InvoiceOptions::default())
            .total
            .value
            .map(|m| m.0)
    }

    fn dec(s: &str) -> Option<Decimal> {
        s.parse().ok()
    }

    #[test]
    fn the_gst_a_total_includes_is_a_tax_not_the_total() {
        let rows = [
            ("BREAD", "4.20"),
            ("MILK", "38.20"),
            ("TOTAL", "42.40"),
            ("TOTAL INCLUDES 6% GST", "2.40"),
            ("CASH", "50.00"),
            ("CHANGE", "7.60"),
        ];
        assert_eq!(total(&rows), dec("42.40"));
        let inv = extract_invoice(&block(&rows), &InvoiceOptions::default());
        assert!(
            inv.taxes
                .iter()
                .any(|t| t.kind == "GST" && t.amount.value.map(|m| m.0) == dec("2.40")),
            "{:?}",
            inv.taxes
        );
        // the same words in front of the total itself keep it the total
        let rows = [("ITEM", "20.00"), ("TOTAL INCL. GST", "21.20")];
        assert_eq!(total(&rows), dec("21.20"));
    }

    #[test]
    fn the_rounded_total_is_what_was_paid() {
        // no rounding line: a total "inclusive of GST" (ranked above a plain total) and the
        // rounded amount under a plain label
        let rows = [
            ("TOTAL SALES (INCLUSIVE OF GST)", "12.34"),
            ("TOTAL", "12.35"),
            ("CASH", "20.00"),
        ];
        assert_eq!(total(&rows), dec("12.35"));
        // the rounded total printed first, its unrounded twin later: still the rounded one
        let rows = [("NETT TOTAL", "8.20"), ("TOTAL", "8.18")];
        assert_eq!(total(&rows), dec("8.20"));
        // with a rounding line, the first total the bigger number and ranked the same
        let rows = [
            ("SUBTOTAL", "12.34"),
            ("TOTAL", "12.34"),
            ("ROUNDING", "-0.04"),
            ("TOTAL", "12.30"),
            ("CASH", "20.00"),
            ("CHANGE", "7.70"),
        ];
        assert_eq!(total(&rows), dec("12.30"));
        // a higher-ranked label before the rounding line does not win over the rounded total
        let rows = [
            ("GRAND TOTAL", "57.12"),
            ("ROUNDING ADJUSTMENT", "0.03"),
            ("TOTAL", "57.15"),
        ];
        assert_eq!(total(&rows), dec("57.15"));
        // without a rounding line, two totals far apart: the larger, as before
        let rows = [("TOTAL", "3.00"), ("TOTAL", "30.00")];
        assert_eq!(total(&rows), dec("30.00"));
    }

    #[test]
    fn the_cash_tendered_under_its_label_is_not_a_guessed_total() {
        // no total label at all: the largest amount is a guess, but never the cash tendered
        let rows = [
            ("NASI LEMAK", "6.50"),
            ("TEH TARIK", "2.20"),
            ("CASH", ""),
            ("", "50.00"),
        ];
        assert_eq!(total(&rows), dec("6.50"));
    }

    #[test]
    fn without_a_total_label_the_sum_of_the_items_is_the_total() {
        // paid exactly: the amount under CASH equals the items' sum, so it is the total
        let rows = [
            ("DPT.05", "RM 149.00"),
            ("DPT.04", "RM 21.00"),
            ("CASH", ""),
            ("", "RM 170.00"),
        ];
        let inv = extract_invoice(&block(&rows), &InvoiceOptions::default());
        assert_eq!(inv.total.value.map(|m| m.0), dec("170.00"));
        assert!(
            inv.total
                .checks
                .iter()
                .any(|c| c.name == "total_labelled" && !c.passed),
            "an unlabelled total is still flagged: {:?}",
            inv.total.checks
        );
        // one item is no sum: the tendered amount equal to it proves nothing new
        let rows = [("NASI LEMAK", "6.50"), ("CASH", ""), ("", "6.50")];
        assert_eq!(total(&rows), dec("6.50"));
        // the items' sum on the subtotal row is not the total; a bare amount repeating the
        // total is not an item
        let rows = [
            ("LAMP", "RM 2.83"),
            ("LED TRACK LIGHT", "RM 66.04"),
            ("SUB TOTAL", "RM 68.87"),
            ("GST 6%", "RM 4.13"),
            ("TO", "RM 73.00"),
            ("CA", "RM 73.00"),
        ];
        assert_eq!(total(&rows), dec("73.00"));
        let rows = [
            ("", "5.00"),
            ("BATTERY AA", "5.00"),
            ("", "5.00"),
            ("CASH", ""),
            ("", "10.00"),
        ];
        assert_eq!(total(&rows), dec("5.00"));
        // a sum that appears on no row: back to the guess, never the cash tendered
        let rows = [
            ("KOPI", "3.00"),
            ("ROTI", "4.00"),
            ("CASH", ""),
            ("", "10.00"),
        ];
        assert_eq!(total(&rows), dec("4.00"));
    }
}
