//! Invoices and receipts: header fields, line items rebuilt from column alignment, subtotal,
//! taxes and total, normalized and checked against each other.

use crate::amount::{self, Amount};
use crate::date::{find_dates, DayMonthOrder};
use crate::layout::{rows, Row};
use crate::tax_id::{find_tax_ids, gstin_is_valid};
use crate::{Check, Field, FieldScoring, Line, Located};
pub use protocol::documents::invoice::{Invoice, LineItem, Money, TaxLine};
use regex::Regex;
use rust_decimal::Decimal;
use std::sync::LazyLock;

mod amounts;
mod checks;
mod header;
mod items;
mod parties;
mod patterns;

use amounts::*;
use checks::*;
use header::*;
use items::*;
use parties::*;
use patterns::*;

/// The version written into every invoice result (`schemas/invoice.v1.schema.json`).
pub const INVOICE_SCHEMA: &str = "invoice/1";

/// What the extraction may assume about the documents.
#[derive(Debug, Clone, Copy)]
pub struct InvoiceOptions {
    /// How `05/03/2018` is read (it is flagged ambiguous either way).
    pub day_month: DayMonthOrder,
    /// Dates outside `earliest_year..=latest_year` fail `date_in_range`.
    pub earliest_year: i32,
    pub latest_year: i32,
}

impl Default for InvoiceOptions {
    fn default() -> Self {
        Self {
            day_month: DayMonthOrder::DayFirst,
            earliest_year: 1990,
            latest_year: 2100,
        }
    }
}

/// Extracts an invoice or receipt from its lines (all pages, in any order): the header fields
/// (number, date, parties, tax ids, currency), the items table, the amounts block, then the
/// checks that tie them together.
pub fn extract_invoice(lines: &[Line], options: &InvoiceOptions) -> Invoice {
    let rows = rows(lines);
    let mut inv = Invoice {
        schema: INVOICE_SCHEMA.into(),
        number: Field::default(),
        date: Field::default(),
        seller: Field::default(),
        seller_address: Field::default(),
        seller_tax_id: Field::default(),
        buyer: Field::default(),
        buyer_tax_id: Field::default(),
        currency: Field::default(),
        line_items: Vec::new(),
        subtotal: Field::default(),
        taxes: Vec::new(),
        rounding: Field::default(),
        total: Field::default(),
        checks: Vec::new(),
        confidence: 0.0,
    };
    if rows.is_empty() {
        inv.checks.push(Check::new(
            "text_present",
            false,
            "no text was found on the page",
        ));
        return inv;
    }
    read_number(&rows, lines, options, &mut inv);
    let buyer_row = read_parties(&rows, lines, &mut inv);
    read_tax_ids(&rows, lines, buyer_row, &mut inv);
    read_currency(&rows, &mut inv);
    // after the currency: the country it is paid in may settle the date's day/month order
    read_date(&rows, lines, options, &mut inv);
    if let Some((header, columns)) = item_header(&rows) {
        inv.line_items = table_items(&rows, header, &columns, lines);
    }
    let adjustments = read_amounts(&rows, lines, &mut inv);
    if let Some(check) = script_check(lines) {
        inv.checks.push(check);
    }
    arithmetic_checks(&mut inv, adjustments);
    inv.confidence = [
        inv.number.confidence,
        inv.date.confidence,
        inv.seller.confidence,
        inv.total.confidence,
    ]
    .into_iter()
    .fold(1.0, f32::min);
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::line;

    fn receipt() -> Vec<Line> {
        vec![
            line(1, 70.0, 25.0, 250.0, "TAN WOON YANN"),
            line(1, 50.0, 82.0, 390.0, "BOOK TA .K(TAMAN DAYA) SDN BHD"),
            line(1, 205.0, 121.0, 80.0, "789417-W"),
            line(1, 110.0, 144.0, 270.0, "NO.53 55,57 & 59, JALAN SAGU 18,"),
            line(1, 192.0, 169.0, 100.0, "TAMAN DAYA,"),
            line(1, 162.0, 193.0, 170.0, "81100 JOHOR BAHRU,"),
            line(1, 217.0, 216.0, 58.0, "JOHOR."),
            line(1, 50.0, 342.0, 230.0, "DOCUMENT NO : TD01167104"),
            line(1, 50.0, 372.0, 46.0, "DATE:"),
            line(1, 165.0, 372.0, 177.0, "25/12/2018 8:13:39 PM"),
            line(1, 50.0, 450.0, 200.0, "KF MODELLING CLAY KIDDY FISH"),
            line(1, 300.0, 450.0, 50.0, "9.00"),
            line(1, 50.0, 500.0, 60.0, "TOTAL:"),
            line(1, 300.0, 500.0, 50.0, "9.00"),
            line(1, 50.0, 530.0, 60.0, "CASH"),
            line(1, 300.0, 530.0, 50.0, "10.00"),
            line(1, 50.0, 560.0, 60.0, "CHANGE"),
            line(1, 300.0, 560.0, 50.0, "1.00"),
        ]
    }

    #[test]
    fn the_seller_is_the_name_over_the_address_and_may_wrap_three_lines() {
        // a person's name printed large at the top is not the seller; the name wraps over
        // three lines with a bracket open; a branch line in brackets closes the address; the
        // total is the one after the rounding line
        let lines = vec![
            line(1, 70.0, 25.0, 250.0, "TAN WOON YANN"),
            line(1, 60.0, 90.0, 300.0, "AIK HUAT HARDWARE"),
            line(1, 60.0, 112.0, 300.0, "ENTERPRISE (SETIA"),
            line(1, 60.0, 134.0, 300.0, "ALAM) SDN BHD"),
            line(1, 100.0, 156.0, 120.0, "822737-X"),
            line(1, 60.0, 178.0, 300.0, "NO. 17-G, JALAN SETIA INDAH"),
            line(1, 60.0, 200.0, 300.0, "SEKSYEN U13, 40170"),
            line(1, 60.0, 222.0, 200.0, "SHAH ALAM"),
            line(1, 60.0, 244.0, 300.0, "(AEON SETIA ALAM)"),
            line(1, 60.0, 266.0, 300.0, "TEL: 012-6651783"),
            line(1, 50.0, 400.0, 200.0, "TOTAL INCL. GST"),
            line(1, 300.0, 400.0, 50.0, "20.98"),
            line(1, 50.0, 430.0, 200.0, "ROUNDING ADJ"),
            line(1, 300.0, 430.0, 50.0, "0.02"),
            line(1, 50.0, 460.0, 200.0, "TOTAL RM"),
            line(1, 300.0, 460.0, 50.0, "21.00"),
            line(1, 50.0, 490.0, 60.0, "CASH"),
            line(1, 300.0, 490.0, 50.0, "50.00"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(
            inv.seller.printed.as_deref(),
            Some("AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD")
        );
        assert_eq!(
            inv.seller_address.printed.as_deref(),
            Some("NO. 17-G, JALAN SETIA INDAH SEKSYEN U13, 40170 SHAH ALAM (AEON SETIA ALAM)")
        );
        assert_eq!(inv.total.printed.as_deref(), Some("21.00"));
    }

    #[test]
    fn a_former_name_and_an_owner_label_are_not_the_seller() {
        let lines = vec![
            line(1, 60.0, 90.0, 300.0, "BANH MI CAFE"),
            line(
                1,
                40.0,
                112.0,
                360.0,
                "DIMILIKI: BANH MI CAFE SDN BHD 1110644-W",
            ),
            line(1, 60.0, 134.0, 300.0, "NO. 1 JALAN PUTERI 7/10"),
            line(1, 60.0, 156.0, 300.0, "47100 PUCHONG SELANGOR"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(inv.seller.printed.as_deref(), Some("BANH MI CAFE SDN BHD"));
        let lines = vec![
            line(1, 60.0, 90.0, 300.0, "GERBANG ALAF RESTAURANTS SDN BHD"),
            line(1, 100.0, 112.0, 120.0, "(65351-M)"),
            line(1, 60.0, 134.0, 300.0, "FORMERLY KNOWN AS"),
            line(1, 60.0, 156.0, 300.0, "GOLDEN ARCHES RESTAURANTS SDN BHD"),
            line(1, 60.0, 178.0, 300.0, "LICENSEE OF MCDONALD'S"),
            line(1, 60.0, 200.0, 300.0, "LEVEL 6, BANGUNAN TH"),
            line(1, 60.0, 222.0, 300.0, "47400 PETALING JAYA"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(
            inv.seller.printed.as_deref(),
            Some("GERBANG ALAF RESTAURANTS SDN BHD")
        );
    }

    #[test]
    fn a_line_saying_what_the_business_is_does_not_name_it() {
        let lines = vec![
            line(1, 120.0, 20.0, 160.0, "GOLDEN SPOON"),
            line(1, 120.0, 45.0, 160.0, "BISTRO & CAFE"),
            line(1, 100.0, 70.0, 200.0, "12, JALAN SS2/24,"),
            line(1, 100.0, 95.0, 200.0, "47300 PETALING JAYA"),
            line(1, 50.0, 140.0, 200.0, "TOTAL"),
            line(1, 300.0, 140.0, 50.0, "18.00"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(inv.seller.value.as_deref(), Some("GOLDEN SPOON"));
        assert_eq!(
            inv.seller_address.value.as_deref(),
            Some("12, JALAN SS2/24, 47300 PETALING JAYA")
        );
        // a legal form on the line below is part of the name, as before
        let mut lines = lines;
        lines[1] = line(1, 120.0, 45.0, 160.0, "CO. (M) SDN BHD");
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(
            inv.seller.value.as_deref(),
            Some("GOLDEN SPOON CO. (M) SDN BHD")
        );
    }

    #[test]
    fn a_name_that_runs_on_by_repeating_its_last_word_is_one_name() {
        let receipt = |second: &str| {
            vec![
                line(1, 100.0, 20.0, 200.0, "RESTORAN SELERA"),
                line(1, 100.0, 45.0, 200.0, second),
                line(1, 80.0, 70.0, 240.0, "8, JALAN PINANG 3,"),
                line(1, 80.0, 95.0, 240.0, "10150 GEORGE TOWN"),
                line(1, 50.0, 140.0, 60.0, "TOTAL"),
                line(1, 300.0, 140.0, 50.0, "21.40"),
            ]
        };
        let inv = extract_invoice(&receipt("SELERA CORNER"), &InvoiceOptions::default());
        assert_eq!(
            inv.seller.value.as_deref(),
            Some("RESTORAN SELERA SELERA CORNER")
        );
        assert_eq!(
            inv.seller_address.value.as_deref(),
            Some("8, JALAN PINANG 3, 10150 GEORGE TOWN")
        );
        // with a number, or after a legal form: another line
        assert!(!restates_name("SELERA SDN BHD", "SDN BHD"));
        assert!(!restates_name("RESTORAN SELERA", "SELERA 2"));
        // a second line that does not repeat the name is not joined
        let inv = extract_invoice(&receipt("NASI KANDAR"), &InvoiceOptions::default());
        assert_eq!(inv.seller.value.as_deref(), Some("RESTORAN SELERA"));
        // nor a place under the name
        let inv = extract_invoice(&receipt("SELERA PLAZA"), &InvoiceOptions::default());
        assert_eq!(inv.seller.value.as_deref(), Some("RESTORAN SELERA"));
    }

    #[test]
    fn amounts_past_any_invoice_are_not_summed_into_an_overflow() {
        // found by fuzzing (fuzz/corpus/extractors/sum-overflow): item rows of 5.5 × 10^28
        // overflowed `Decimal` while the reader summed them to find an unlabelled total
        let mut lines = vec![line(1, 60.0, 20.0, 300.0, "KEDAI MAJU")];
        for i in 0..4 {
            let y = 60.0 + 25.0 * i as f32;
            lines.push(line(1, 50.0, y, 150.0, "SECTION ITEM"));
            lines.push(line(1, 300.0, y, 200.0, "55555555555555555555555555555.00"));
        }
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(inv.total.value, None);
        // amounts under the bound still add up to the unlabelled total they make
        let mut lines = vec![line(1, 60.0, 20.0, 300.0, "KEDAI MAJU")];
        for (i, amount) in ["400,000,000,000.00", "500,000,000,000.00"]
            .iter()
            .enumerate()
        {
            let y = 60.0 + 25.0 * i as f32;
            lines.push(line(1, 50.0, y, 150.0, "SECTION ITEM"));
            lines.push(line(1, 300.0, y, 120.0, amount));
        }
        lines.push(line(1, 50.0, 160.0, 60.0, "CASH"));
        lines.push(line(1, 300.0, 160.0, 120.0, "900,000,000,000.00"));
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(
            inv.total.value.map(|m| m.0),
            Some(Decimal::from(900_000_000_000_u64))
        );
    }

    #[test]
    fn a_date_glued_to_a_product_code_is_not_the_receipt_date() {
        let lines = vec![
            line(1, 60.0, 20.0, 300.0, "KEDAI RUNCIT MAJU SDN BHD"),
            line(1, 60.0, 45.0, 300.0, "NO 5, JALAN MAJU, 43000 KAJANG"),
            line(1, 50.0, 100.0, 250.0, "TOILET BRUSH 47-2311"),
            line(1, 50.0, 125.0, 250.0, "HD03-04-06 - 5/40/160"),
            line(1, 300.0, 125.0, 50.0, "2.70"),
            line(1, 50.0, 160.0, 60.0, "TOTAL"),
            line(1, 300.0, 160.0, 50.0, "2.70"),
            line(1, 50.0, 200.0, 300.0, "19-09-17 15:39 SH01 ZJ03"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(
            inv.date.value.as_ref().map(|d| d.iso.as_str()),
            Some("2017-09-19")
        );
        // with no other date on the page the glued one is still better than none
        let inv = extract_invoice(&lines[..7], &InvoiceOptions::default());
        assert!(inv.date.is_found());
    }

    #[test]
    fn another_date_on_the_page_settles_the_day_month_order() {
        let mut lines = vec![
            line(1, 60.0, 20.0, 300.0, "KEDAI RUNCIT MAJU SDN BHD"),
            line(1, 60.0, 45.0, 300.0, "NO 5, JALAN MAJU, 43000 KAJANG"),
            line(1, 50.0, 80.0, 250.0, "DATE: 04/03/2018 15:41"),
            line(1, 50.0, 160.0, 60.0, "TOTAL"),
            line(1, 300.0, 160.0, 50.0, "2.70"),
        ];
        let order_check = |lines: &[Line]| {
            let inv = extract_invoice(lines, &InvoiceOptions::default());
            assert_eq!(
                inv.date.value.as_ref().map(|d| d.iso.as_str()),
                Some("2018-03-04")
            );
            inv.date
                .checks
                .iter()
                .find(|c| c.name == "date_order_unambiguous")
                .map(|c| c.passed)
        };
        // alone, 04/03 could be the 3rd of April
        assert_eq!(order_check(&lines), Some(false));
        // a printed 13/03/2018 can only be day first: so is 04/03/2018
        lines.push(line(1, 50.0, 200.0, 300.0, "PRINTED 13/03/2018 15:42"));
        assert_eq!(order_check(&lines), Some(true));
        // so do ringgit: Malaysia writes the day first
        lines.pop();
        lines[4] = line(1, 300.0, 160.0, 50.0, "RM 2.70");
        assert_eq!(order_check(&lines), Some(true));
        // dollars do not: the United States writes the month first
        lines[4] = line(1, 300.0, 160.0, 50.0, "$2.70");
        assert_eq!(order_check(&lines), Some(false));
    }

    #[test]
    fn a_receipt_gives_its_key_fields_with_evidence() {
        let lines = receipt();
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(
            inv.seller.printed.as_deref(),
            Some("BOOK TA .K(TAMAN DAYA) SDN BHD")
        );
        assert_eq!(
            inv.seller_address.printed.as_deref(),
            Some("NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR.")
        );
        assert_eq!(inv.date.printed.as_deref(), Some("25/12/2018"));
        assert_eq!(
            inv.date.value.as_ref().map(|d| d.iso.as_str()),
            Some("2018-12-25")
        );
        assert_eq!(inv.total.printed.as_deref(), Some("9.00"));
        assert_eq!(inv.total.evidence[0].line, 13);
        assert_eq!(inv.number.value.as_deref(), Some("TD01167104"));
        assert!(inv.confidence > 0.5, "{}", inv.confidence);
    }

    #[test]
    fn an_invoice_table_is_rebuilt_and_checked() {
        let lines = vec![
            line(1, 40.0, 20.0, 300.0, "ACME SUPPLIES PVT LTD"),
            line(1, 40.0, 45.0, 300.0, "12 MG Road, Bengaluru 560001"),
            line(1, 40.0, 70.0, 300.0, "GSTIN: 29AAGCB7383J1Z4"),
            line(1, 400.0, 20.0, 200.0, "Invoice No: INV-2024-017"),
            line(1, 400.0, 45.0, 200.0, "Date: 05/03/2024"),
            line(1, 40.0, 110.0, 100.0, "Bill To:"),
            line(1, 40.0, 135.0, 300.0, "Globex Retail LLP"),
            line(1, 40.0, 160.0, 300.0, "GSTIN: 27AAPFU0939F1ZV"),
            line(1, 40.0, 200.0, 120.0, "Description"),
            line(1, 200.0, 200.0, 60.0, "HSN/SAC"),
            line(1, 300.0, 200.0, 40.0, "Qty"),
            line(1, 380.0, 200.0, 60.0, "Rate"),
            line(1, 480.0, 200.0, 70.0, "Amount"),
            line(1, 40.0, 230.0, 120.0, "Steel bolts M8"),
            line(1, 200.0, 230.0, 60.0, "7318"),
            line(1, 300.0, 230.0, 40.0, "10"),
            line(1, 380.0, 230.0, 60.0, "12.50"),
            line(1, 480.0, 230.0, 70.0, "125.00"),
            line(1, 40.0, 260.0, 120.0, "Installation"),
            line(1, 200.0, 260.0, 60.0, "995461"),
            line(1, 300.0, 260.0, 40.0, "1"),
            line(1, 380.0, 260.0, 60.0, "75.00"),
            line(1, 480.0, 260.0, 70.0, "75.00"),
            line(1, 300.0, 300.0, 120.0, "Subtotal"),
            line(1, 480.0, 300.0, 70.0, "200.00"),
            line(1, 300.0, 325.0, 120.0, "CGST 9%"),
            line(1, 480.0, 325.0, 70.0, "18.00"),
            line(1, 300.0, 350.0, 120.0, "SGST 9%"),
            line(1, 480.0, 350.0, 70.0, "18.00"),
            line(1, 300.0, 375.0, 120.0, "Grand Total"),
            line(1, 480.0, 375.0, 70.0, "₹236.00"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        assert_eq!(inv.seller.value.as_deref(), Some("ACME SUPPLIES PVT LTD"));
        assert_eq!(inv.buyer.value.as_deref(), Some("Globex Retail LLP"));
        assert_eq!(inv.seller_tax_id.value.as_deref(), Some("29AAGCB7383J1Z4"));
        assert_eq!(inv.buyer_tax_id.value.as_deref(), Some("27AAPFU0939F1ZV"));
        assert!(inv.seller_tax_id.checks.iter().all(|c| c.passed));
        assert_eq!(inv.number.value.as_deref(), Some("INV-2024-017"));
        // 05/03 could be read both ways, but rupees are paid where the day comes first
        assert!(inv.date.value.as_ref().is_some_and(|d| d.ambiguous));
        assert!(inv
            .date
            .checks
            .iter()
            .any(|c| c.name == "date_order_unambiguous" && c.passed && c.detail.contains("INR")));
        assert_eq!(inv.line_items.len(), 2);
        assert_eq!(inv.line_items[0].hsn_sac.value.as_deref(), Some("7318"));
        assert_eq!(
            inv.line_items[1].description.value.as_deref(),
            Some("Installation")
        );
        assert_eq!(inv.taxes.len(), 2);
        assert_eq!(inv.taxes[0].rate_percent, Some(Money(Decimal::new(9, 0))));
        assert_eq!(inv.total.value, Some(Money(Decimal::new(23600, 2))));
        assert_eq!(inv.currency.value.as_deref(), Some("INR"));
        for name in [
            "line_items_sum",
            "totals_add_up",
            "cgst_equals_sgst",
            "total_present",
        ] {
            assert!(
                inv.checks.iter().any(|c| c.name == name && c.passed),
                "{name}: {:?}",
                inv.checks
            );
        }
    }

    #[test]
    fn inconsistent_arithmetic_and_a_missing_total_are_flagged() {
        let lines = vec![
            line(1, 40.0, 20.0, 300.0, "Widgets Trading Co."),
            line(1, 40.0, 230.0, 120.0, "Subtotal"),
            line(1, 480.0, 230.0, 70.0, "100.00"),
            line(1, 40.0, 260.0, 120.0, "CGST 9%"),
            line(1, 480.0, 260.0, 70.0, "9.00"),
            line(1, 40.0, 290.0, 120.0, "SGST 9%"),
            line(1, 480.0, 290.0, 70.0, "8.00"),
            line(1, 40.0, 320.0, 120.0, "Total"),
            line(1, 480.0, 320.0, 70.0, "120.00"),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        let failed: Vec<&str> = inv
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(failed, ["totals_add_up", "cgst_equals_sgst"]);
        assert!(inv.total.confidence < 0.6);

        let no_total = extract_invoice(&lines[..7], &InvoiceOptions::default());
        assert!(no_total
            .checks
            .iter()
            .any(|c| c.name == "total_labelled" && !c.passed));
        assert_eq!(no_total.total.value, Some(Money(Decimal::new(10000, 2))));
        assert!(
            no_total.total.confidence <= 0.25,
            "a guessed total is doubtful"
        );
    }

    #[test]
    fn an_invoice_in_another_script_says_so() {
        let lines = vec![
            line(1, 40.0, 20.0, 300.0, "СЧЁТ-ФАКТУРА № 42"),
            line(1, 40.0, 50.0, 300.0, "Дата: 12.05.2024"),
            line(1, 40.0, 80.0, 300.0, "Итого: 15 300,00 руб."),
        ];
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        let check = inv.checks.iter().find(|c| c.name == "script_supported");
        assert!(
            check.is_some_and(|c| !c.passed && c.detail.contains("Cyrillic")),
            "{:?}",
            inv.checks
        );
        let latin = extract_invoice(&receipt(), &InvoiceOptions::default());
        assert!(latin
            .checks
            .iter()
            .any(|c| c.name == "script_supported" && c.passed));
    }

    #[test]
    fn no_text_gives_an_empty_result_not_an_error() {
        let inv = extract_invoice(&[], &InvoiceOptions::default());
        assert!(!inv.total.is_found());
        assert_eq!(inv.confidence, 0.0);
        assert!(inv
            .checks
            .iter()
            .any(|c| c.name == "text_present" && !c.passed));
    }
}
