//! The items table, rebuilt from its header's columns.

use super::*;

pub(super) const ITEM_HEADERS: &[(&str, &[&str])] = &[
    (
        "serial",
        &["#", "s.no", "s.no.", "sl", "sl.", "sr", "sr.", "no", "no."],
    ),
    (
        "description",
        &[
            "description",
            "item",
            "particulars",
            "product",
            "goods",
            "details",
            "service",
        ],
    ),
    ("hsn_sac", &["hsn", "sac", "hsn/sac"]),
    ("quantity", &["qty", "quantity", "qnty", "units"]),
    (
        "unit_price",
        &["rate", "price", "unit price", "u.price", "unit cost"],
    ),
    ("amount", &["amount", "total", "value", "amt"]),
];

/// A header row of an items table and the x-centre of each column it names.
pub(super) fn item_header(rows: &[Row]) -> Option<(usize, Vec<(&'static str, f32)>)> {
    for (i, row) in rows.iter().enumerate() {
        let mut columns: Vec<(&'static str, f32)> = Vec::new();
        for cell in &row.cells {
            let t = cell.text.to_lowercase();
            for (name, words) in ITEM_HEADERS {
                let hit = words.contains(&t.trim())
                    || words.iter().any(|w| {
                        t.split(|c: char| !c.is_alphanumeric() && c != '/' && c != '.')
                            .any(|part| part == *w)
                            || (w.contains(' ') && t.contains(w))
                    });
                if hit && !columns.iter().any(|(n, _)| n == name) {
                    columns.push((name, (cell.left + cell.right) / 2.0));
                    break;
                }
            }
        }
        let has_amount = columns.iter().any(|(n, _)| *n == "amount");
        let has_description = columns.iter().any(|(n, _)| *n == "description");
        if has_amount && has_description && columns.len() >= 3 {
            return Some((i, columns));
        }
    }
    None
}

pub(super) fn decimal_of(text: &str) -> Option<Amount> {
    amount::find_amounts(text).into_iter().next_back()
}

/// Rows between the header and the amounts block, cells assigned to the nearest column.
pub(super) fn table_items(
    rows: &[Row],
    header: usize,
    columns: &[(&'static str, f32)],
    lines: &[Line],
) -> Vec<LineItem> {
    let mut items: Vec<LineItem> = Vec::new();
    for row in rows.iter().skip(header + 1) {
        let text = row.text();
        if amount_label(&text).is_some() && !items.is_empty()
            || row.page != rows[header].page && items.is_empty()
        {
            break;
        }
        let mut cells: Vec<(&'static str, &crate::layout::Cell)> = Vec::new();
        for cell in &row.cells {
            let centre = (cell.left + cell.right) / 2.0;
            let nearest = columns
                .iter()
                .min_by(|a, b| (a.1 - centre).abs().total_cmp(&(b.1 - centre).abs()));
            if let Some((name, _)) = nearest {
                cells.push((name, cell));
            }
        }
        let take = |name: &str| -> Vec<&crate::layout::Cell> {
            cells
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, c)| *c)
                .collect()
        };
        let amount_cells = take("amount");
        let amount = amount_cells
            .iter()
            .rev()
            .find_map(|c| amount::last_money(&c.text).map(|a| (a, c.line)));
        // a bare number in the description column is a serial number (or a stray quantity)
        let description: Vec<&crate::layout::Cell> = take("description")
            .into_iter()
            .filter(|c| !SERIAL_ONLY.is_match(c.text.trim()))
            .collect();
        let description_text: String = description
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        match amount {
            None => {
                // a wrapped description continues the item above
                if let (Some(item), false) = (items.last_mut(), description_text.is_empty()) {
                    if let Some(d) = item.description.value.as_mut() {
                        d.push(' ');
                        d.push_str(&description_text);
                        item.description.printed = Some(d.clone());
                        for c in &description {
                            if let Some(e) = crate::Evidence::of(lines, c.line) {
                                item.description.evidence.push(e);
                            }
                        }
                    }
                }
                continue;
            }
            Some((a, line)) => {
                let mut item = LineItem {
                    description: Field::default(),
                    hsn_sac: Field::default(),
                    quantity: Field::default(),
                    unit_price: Field::default(),
                    amount: money_field(&a, lines, &[line], Located::Inferred),
                };
                // a serial-number column printed against the description (`1 PVC wire…`)
                let description_text = if columns.iter().any(|(n, _)| *n == "serial") {
                    SERIAL_PREFIX.replace(&description_text, "").to_string()
                } else {
                    description_text
                };
                if !description_text.is_empty() {
                    let ev: Vec<usize> = description.iter().map(|c| c.line).collect();
                    item.description = Field::found(
                        description_text.clone(),
                        description_text,
                        lines,
                        &ev,
                        Located::Inferred,
                    );
                }
                if let Some(c) = take("hsn_sac").first() {
                    let code: String = c.text.chars().filter(char::is_ascii_digit).collect();
                    if (4..=8).contains(&code.len()) {
                        item.hsn_sac =
                            Field::found(code, c.text.clone(), lines, &[c.line], Located::Inferred);
                    }
                }
                if let Some((q, line)) = take("quantity")
                    .first()
                    .and_then(|c| decimal_of(&c.text).map(|q| (q, c.line)))
                {
                    item.quantity = money_field(&q, lines, &[line], Located::Inferred);
                }
                if let Some((p, line)) = take("unit_price")
                    .first()
                    .and_then(|c| decimal_of(&c.text).map(|p| (p, c.line)))
                {
                    item.unit_price = money_field(&p, lines, &[line], Located::Inferred);
                }
                if let (Some(q), Some(p), Some(amt)) = (
                    item.quantity.value,
                    item.unit_price.value,
                    item.amount.value,
                ) {
                    let expected = (q.0 * p.0).round_dp(2);
                    let ok = (expected - amt.0).abs() <= Decimal::new(1, 2);
                    item.amount.check(Check::new(
                        "quantity_times_price",
                        ok,
                        format!("{} × {} = {expected}, printed {}", q.0, p.0, amt.0),
                    ));
                }
                items.push(item);
            }
        }
    }
    items
}
