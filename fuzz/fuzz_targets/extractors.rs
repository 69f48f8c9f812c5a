//! The invoice and legal extractors over arbitrary lines: each input line becomes an OCR line
//! on a page, stacked top to bottom, its indent and height from its first bytes.
#![no_main]

use extract::date::DayMonthOrder;
use extract::invoice::{extract_invoice, InvoiceOptions};
use extract::legal::extract_legal;
use extract::Line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let lines: Vec<Line> = text
        .lines()
        .take(400)
        .enumerate()
        .map(|(i, t)| {
            let b = t.as_bytes();
            let left = f32::from(*b.first().unwrap_or(&0)) * 4.0;
            let width = 20.0 + t.chars().count() as f32 * 9.0;
            let top = i as f32 * 24.0;
            let height = 10.0 + f32::from(b.get(1).copied().unwrap_or(0) % 32);
            Line {
                page: 1 + (i / 60) as u32,
                polygon: [
                    [left, top],
                    [left + width, top],
                    [left + width, top + height],
                    [left, top + height],
                ],
                text: t.to_owned(),
                confidence: 0.9,
            }
        })
        .collect();
    let invoice = extract_invoice(&lines, &InvoiceOptions::default());
    // whatever it read, the result must fit its own schema
    let value = serde_json::to_value(&invoice).expect("an invoice serializes");
    extract::schema::validate(protocol::ResultKind::Invoice, &value)
        .expect("an extracted invoice fits the invoice schema");
    let pages = lines.last().map_or(1, |l| l.page);
    let legal = extract_legal(&lines, pages, DayMonthOrder::DayFirst);
    let value = serde_json::to_value(&legal).expect("a legal document serializes");
    extract::schema::validate(protocol::ResultKind::Legal, &value)
        .expect("an extracted legal document fits the legal schema");
});
