//! Key fields of real receipts (five SROIE scans committed in tests/fixtures/sroie, with their
//! own transcriptions as input): what `examples/sroie_eval.rs` measures on the full set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is a failed test

use extract::invoice::{extract_invoice, InvoiceOptions};
use extract::Line;
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/sroie")
        .join(rel)
}

fn lines(stem: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(fixture(&format!("box/{stem}.csv"))).unwrap();
    text.lines()
        .filter_map(|row| {
            let parts: Vec<&str> = row.splitn(9, ',').collect();
            let n: Vec<f32> = parts
                .get(..8)?
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect();
            (n.len() == 8).then(|| Line {
                page: 1,
                polygon: [[n[0], n[1]], [n[2], n[3]], [n[4], n[5]], [n[6], n[7]]],
                text: parts[8].to_string(),
                confidence: 1.0,
            })
        })
        .collect()
}

fn key(stem: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(&format!("key/{stem}.json"))).unwrap())
        .unwrap()
}

#[test]
fn receipts_give_their_date_total_and_company() {
    let mut right = 0;
    let mut asked = 0;
    for stem in ["000", "001", "019", "030", "061"] {
        let k = key(stem);
        let inv = extract_invoice(&lines(stem), &InvoiceOptions::default());
        // dates and totals as printed, on every receipt
        assert_eq!(
            inv.date.printed.as_deref(),
            k["date"].as_str(),
            "{stem}: date"
        );
        assert_eq!(
            inv.total.printed.as_deref(),
            k["total"].as_str(),
            "{stem}: total"
        );
        assert!(inv.total.evidence.iter().all(|e| e
            .text
            .contains(k["total"].as_str().unwrap().trim_start_matches('$'))));
        for (field, got) in [
            ("company", &inv.seller.printed),
            ("address", &inv.seller_address.printed),
        ] {
            asked += 1;
            right += usize::from(got.as_deref() == k[field].as_str());
        }
    }
    // company and address are read exactly on most (the transcriptions themselves differ from
    // the labels in places: `SDN BND` for `SDN BHD`)
    assert!(
        right >= 5,
        "{right} of {asked} company/address fields exact"
    );
}

#[test]
fn a_receipt_read_twice_gives_the_same_result() {
    let a = extract_invoice(&lines("061"), &InvoiceOptions::default());
    let b = extract_invoice(&lines("061"), &InvoiceOptions::default());
    assert_eq!(a, b);
    let value = serde_json::to_value(&a).unwrap();
    extract::schema::validate(protocol::ResultKind::Invoice, &value).unwrap();
}
