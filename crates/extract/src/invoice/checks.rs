//! The checks that tie the fields together (arithmetic, presence) and the script check.

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

pub(super) fn arithmetic_checks(inv: &mut Invoice) {
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
        let expected = subtotal.0 + taxes + rounding;
        let ok = (expected - total.0).abs() <= cent;
        let check = Check::new(
            "totals_add_up",
            ok,
            format!(
                "subtotal {} + taxes {taxes} + rounding {rounding} = {expected}, total {}",
                subtotal.0, total.0
            ),
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
