//! Invoices and receipts: header fields, line items rebuilt from column alignment, subtotal,
//! taxes and total, normalized and checked against each other.

use crate::amount::{self, Amount};
use crate::date::{find_dates, DateValue, DayMonthOrder};
use crate::layout::{rows, Row};
use crate::tax_id::{find_tax_ids, gstin_is_valid};
use crate::{Check, Field, Line, Located};
use regex::Regex;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use ts_rs::TS;

/// The version written into every invoice result (`schemas/invoice.v1.schema.json`).
pub const INVOICE_SCHEMA: &str = "invoice/1";

/// A money amount or quantity, exact, written as a decimal string (`"1234.50"`).
// A newtype serializes as its inner value: `"1234.50"` (rust_decimal's `serde-str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
pub struct Money(#[ts(type = "string")] pub Decimal);

impl JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "An exact decimal number as a string."
        })
    }
}

/// One row of the items table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct LineItem {
    pub description: Field<String>,
    /// HSN (goods) or SAC (services) code, when the table has that column.
    pub hsn_sac: Field<String>,
    pub quantity: Field<Money>,
    pub unit_price: Field<Money>,
    pub amount: Field<Money>,
}

/// One tax line: CGST, SGST, IGST, UTGST, VAT, GST or SST, with its rate when printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct TaxLine {
    pub kind: String,
    pub rate_percent: Option<Money>,
    pub amount: Field<Money>,
}

/// An invoice or receipt as extracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Invoice {
    /// Always `invoice/1`.
    pub schema: String,
    pub number: Field<String>,
    pub date: Field<DateValue>,
    pub seller: Field<String>,
    pub seller_address: Field<String>,
    pub seller_tax_id: Field<String>,
    pub buyer: Field<String>,
    pub buyer_tax_id: Field<String>,
    /// ISO 4217 code.
    pub currency: Field<String>,
    pub line_items: Vec<LineItem>,
    pub subtotal: Field<Money>,
    pub taxes: Vec<TaxLine>,
    pub rounding: Field<Money>,
    pub total: Field<Money>,
    /// Checks that relate several fields (totals arithmetic, CGST = SGST, a total at all).
    pub checks: Vec<Check>,
    /// The lowest confidence of number/date/seller/total (0 when one is missing).
    pub confidence: f32,
}

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

// The patterns are constants proven by the unit tests below.
#[allow(clippy::unwrap_used)]
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:tax\s+)?(?:invoice|inv|bill|receipt|rcpt|doc(?:ument)?|order|c/n|cash\s*bill|slip|trans(?:action)?|ref)\s*(?:no|number|num|#)?\s*\.?\s*[:#.]?\s*([A-Z]{0,6}[\-/]?\d[A-Z0-9/\-_.]*)",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static RATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2}(?:\.\d{1,2})?)\s*%").unwrap());
#[allow(clippy::unwrap_used)]
static COMPANY_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(SDN\.?\s*BHD|BHD|S/B|PVT\.?\s*LTD|PRIVATE\s+LIMITED|LIMITED|LTD|LLP|LLC|INC|PLC|GMBH|CORP(?:ORATION)?|ENTERPRISES?|TRADING|COMPANY|CO\.|HARDWARE|STATIONERY|RESTAURANTS?|RESTORAN|MART|MARKET|STORES?|SUPERMARKET|PASARAYA|PERNIAGAAN|SYARIKAT|BAKERY|CAFE|KEDAI|BOOKS?|GALLERY|MARKETING|INDUSTRIES|SERVICES|SOLUTIONS|TECHNOLOGIES|TRADERS|AGENCY|PHARMACY|MOTOR|PETRO|BISTRO|KITCHEN)\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static NOT_A_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(tax\s+invoice|invoice|receipt|bill\b|cash|date|time|tel|phone|fax|e-?mail|www|gst|vat|reg(?:istration)?\s*no|co\.?\s*reg|roc\b|cashier|counter|table|page|member|welcome|thank|original|copy|duplicate|quotation|statement|credit\s+note)",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static ADDRESS_STOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\btel\b|\btel[\s.:]|phone|\bfax|e-?mail|www\.|http|gst|\bvat\b|invoice|receipt|\bdate\b|cashier|\bbill\b|\bno\s*[:.]?\s*$|h/?p\b|hotline|website|\btax\b|counter|\bpos\b|order|\bsst\b|(?:^|\s)[tf]\s*:\s*\+?\d)",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static REGISTRATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^[\s(]*(?:(?:co\.?\s*)?(?:reg(?:istration)?|roc|company|co)\.?\s*(?:no)?\.?\s*[:.]?\s*)?\(?\d{3,}[\s\-]*[A-Z]?\)?[\s)]*$|(?i)\b(?:co\.?[\s\-]*reg|company\s*reg|reg(?:istration)?\.?\s*no|roc\s*no|company\s*no|co\.?\s*no|br\s*no)\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static REGISTRATION_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\s*[(\[]?\s*(?:(?:co\.?|company|reg\.?|roc|br)\s*(?:no\.?|reg\.?)?\s*[:.]?\s*)?\d{4,}[\s\-]*[A-Z]?\s*[)\]]?\s*$",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static STARTS_WITH_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:\(M\)\s*)?(?:SDN\.?\s*BHD|BHD|S/B|PVT\.?\s*LTD|PRIVATE\s+LIMITED|LIMITED|LTD|LLP|LLC|INC|GMBH|CO|ENTERPRISES?|TRADING|RESTAURANTS?|HOUSE|ELECTRICAL|MARKETING|INDUSTRIES)\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static LEGAL_FORM_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:SDN\.?\s*BHD\.?|BHD\.?|S/B|LTD\.?|LIMITED|LLP|LLC|INC\.?|GMBH|PLC)$")
        .unwrap()
});
#[allow(clippy::unwrap_used)]
static FORMER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(formerly|previously|fka)\b").unwrap());
#[allow(clippy::unwrap_used)]
static POSTCODE_AT_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{5,6}[\s.,]*$").unwrap());
#[allow(clippy::unwrap_used)]
static LABELLED_PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z .]*:\s*\+?[\d][\d\s\-/()]{5,}$").unwrap());
#[allow(clippy::unwrap_used)]
static LABELLED_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z .#]*:\s*\d+$").unwrap());
#[allow(clippy::unwrap_used)]
static NAME_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z]+(?:\s[A-Za-z]+)?\s*:\s*").unwrap());
#[allow(clippy::unwrap_used)]
static SERIAL_PREFIX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d{1,3}[.)]?\s+").unwrap());
#[allow(clippy::unwrap_used)]
static SERIAL_ONLY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d{1,3}[.)]?$").unwrap());
#[allow(clippy::unwrap_used)]
static PHONE_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[\d][\d\s\-/()]{6,}[.,]?$").unwrap());
#[allow(clippy::unwrap_used)]
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{5,6}\b").unwrap());
#[allow(clippy::unwrap_used)]
static ADDRESS_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\d|\b(jalan|jln|lorong|taman|lot|road|rd\.?|street|st\.|avenue|lane|floor|block|blk|building|nagar|sector|plot|suite|unit|level|persiaran|bandar|kawasan|selangor|johor|kuala|lumpur|darul|ehsan|takzim|kedah|penang|pulau\s+pinang|perak|pahang|melaka|malacca|negeri\s+sembilan|sabah|sarawak|terengganu|kelantan|perlis|putrajaya|labuan|malaysia|singapore|india|mumbai|delhi|bengaluru|bangalore|chennai|pune)\b)",
    )
    .unwrap()
});

/// The labels of the amounts block, in the order they are tried on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AmountLabel {
    Subtotal,
    Tax(&'static str),
    Rounding,
    /// A total, with how final it is (higher wins).
    Total(u8),
    /// Cash tendered, change, payment: amounts that are not the total.
    Payment,
}

fn amount_label(text: &str) -> Option<AmountLabel> {
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
    if !has("total") && !has("incl") && !mentions_tax_id {
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

fn money_field(a: &Amount, lines: &[Line], evidence: &[usize], located: Located) -> Field<Money> {
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
fn labelled_amount(rows: &[Row], i: usize) -> Option<(Amount, Vec<usize>)> {
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
    let a = amount::find_amounts(&text)
        .into_iter()
        .find(|a| a.has_decimals)?;
    Some((a, next.lines()))
}

/// Where the seller's name is: a line near the top that looks like a company name
/// (row index, cell index).
fn seller_cell(rows: &[Row]) -> Option<(usize, usize, Located)> {
    let first_page: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].page == rows[0].page)
        .collect();
    let mut heights: Vec<f32> = first_page.iter().map(|&i| rows[i].height()).collect();
    heights.sort_by(f32::total_cmp);
    let median = heights.get(heights.len() / 2).copied().unwrap_or(1.0);
    let mut best: Option<(usize, usize, f32, bool)> = None;
    for (rank, &i) in first_page.iter().take(10).enumerate() {
        for (k, cell) in rows[i].cells.iter().enumerate() {
            let text = REGISTRATION_TAIL.replace(cell.text.trim(), "");
            let text = text.as_ref();
            let letters = text.chars().filter(|c| c.is_alphabetic()).count();
            if letters < 3 || letters * 2 < text.chars().filter(|c| !c.is_whitespace()).count() {
                continue;
            }
            let suffix = COMPANY_SUFFIX.is_match(text);
            if NOT_A_NAME.is_match(text) && !suffix
                || REGISTRATION.is_match(text)
                || BUYER_LABEL.is_match(text)
                || SELLER_LABEL.is_match(text)
            {
                continue;
            }
            let mut score = 0.0;
            if suffix {
                score += 3.0;
            }
            if !text.chars().any(|c| c.is_lowercase()) {
                score += 0.5;
            }
            score += (rows[i].height() / median - 1.0).clamp(0.0, 1.5);
            score -= rank as f32 * 0.25;
            if address_follows(rows, i, LEGAL_FORM_AT_END.is_match(text.trim())) {
                score += 2.0;
            }
            // `FORMERLY KNOWN AS` / `GOLDEN ARCHES RESTAURANTS SDN BHD`: a former name
            if i > 0 && FORMER_NAME.is_match(&rows[i - 1].text()) {
                score -= 4.0;
            }
            if best.is_none_or(|(_, _, s, _)| score > s) {
                best = Some((i, k, score, suffix));
            }
        }
    }
    best.map(|(i, k, _, suffix)| {
        (
            i,
            k,
            if suffix {
                Located::Inferred
            } else {
                Located::Guessed
            },
        )
    })
}

/// Whether a line ends in a registration number (`(162761-M)`, `CO. NO 12345`,
/// `001234567890`) rather than a postcode or a house number (`TAMAN SEA,47400`, `SITE 1066`).
fn registration_tail(text: &str) -> bool {
    REGISTRATION_TAIL.find(text).is_some_and(|m| {
        let tail = m.as_str();
        tail.chars().filter(char::is_ascii_digit).count() >= 6
            || tail
                .chars()
                .any(|c| c.is_alphabetic() || c == '(' || c == '[')
    })
}

/// Whether an address starts right under row `at` (registration and tax numbers between them
/// allowed): the seller's name sits on top of its address.
fn address_follows(rows: &[Row], at: usize, legal_form: bool) -> bool {
    let mut last_bottom = rows[at].bottom;
    let mut branch_skipped = false;
    for row in rows.iter().skip(at + 1).take(3) {
        if row.page != rows[at].page || row.top - last_bottom > 1.5 * row.height() {
            return false;
        }
        let text = row.text();
        if REGISTRATION.is_match(text.trim())
            || !find_tax_ids(&text).is_empty()
            || text.to_lowercase().contains("gst")
        {
            last_bottom = row.bottom;
            continue;
        }
        // a company's branch or trading name between it and the address (`TRI SHAAS SDN BHD` /
        // `MYDIN MART SRI MUDA` / `4-20, JALAN RIA …`)
        if legal_form && !branch_skipped && !text.chars().any(|c| c.is_ascii_digit()) {
            branch_skipped = true;
            last_bottom = row.bottom;
            continue;
        }
        let letters_only = text.replace(|c: char| c.is_ascii_digit(), "");
        return text.chars().any(|c| c.is_ascii_digit())
            && (ADDRESS_HINT.is_match(&letters_only) || POSTCODE.is_match(&text))
            && !ADDRESS_STOP.is_match(&text);
    }
    false
}

/// The cells of a row that share a column with `cell` (overlap its extent widened by half).
fn in_column(row: &Row, left: f32, right: f32) -> Vec<&crate::layout::Cell> {
    let slack = 0.5 * (right - left).max(50.0);
    row.cells
        .iter()
        .filter(|c| c.right > left - slack && c.left < right + slack)
        .collect()
}

/// A company name that may wrap: `HOME MASTER HARDWARE &` / `ELECTRICAL`, `POPULAR BOOK` /
/// `CO. (M) SDN BHD`, or `LIAN CHI PU TIAN VEGETARIAN` / `RESTAURANT SDN BHD`. Registration
/// numbers printed after it are not part of it. Returns the name, its lines and its last row.
fn company_name(rows: &[Row], at: usize, cell: usize) -> (String, Vec<usize>, usize) {
    let c = &rows[at].cells[cell];
    let mut name = REGISTRATION_TAIL
        .replace(c.text.trim(), "")
        .trim()
        .to_string();
    // a label before the name (`DIMILIKI: BANH MI CAFE SDN BHD`, Malay for "owned by")
    if let Some(m) = NAME_LABEL.find(&name) {
        if COMPANY_SUFFIX.is_match(&name[m.end()..]) {
            name = name[m.end()..].to_string();
        }
    }
    let mut evidence = vec![c.line];
    let mut last = at;
    let adjacent = |a: &Row, b: &Row| a.page == b.page && b.top - a.bottom < 0.8 * b.height();
    // the name's start on the rows above (`POPULAR BOOK` / `CO. (M) SDN BHD`)
    let mut first = at;
    while first > 0 && first + 2 > at {
        let above = &rows[first - 1];
        let cells = in_column(above, c.left, c.right);
        let text = cells
            .iter()
            .map(|c| c.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        let wraps = text.ends_with('&')
            || text.ends_with(',')
            || text.matches('(').count() > text.matches(')').count()
            || name.matches(')').count() > name.matches('(').count();
        let starts = name.split_whitespace().count() <= 5 && STARTS_WITH_SUFFIX.is_match(&name);
        if !(adjacent(above, &rows[first])
            && (starts || wraps)
            && !text.is_empty()
            && text
                .chars()
                .all(|ch| ch.is_alphabetic() || ch.is_whitespace() || "&.'-()".contains(ch))
            && !NOT_A_NAME.is_match(&text))
        {
            break;
        }
        name = format!("{text} {name}");
        evidence.splice(0..0, cells.iter().map(|c| c.line));
        first -= 1;
    }
    // its end on the rows below (`AIK HUAT HARDWARE` / `ENTERPRISE (SETIA` / `ALAM) SDN BHD`)
    while let Some(below) = rows.get(last + 1).filter(|_| last < at + 2) {
        let cells = in_column(below, c.left, c.right);
        let text = cells
            .iter()
            .map(|c| c.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        let text = REGISTRATION_TAIL.replace(&text, "").trim().to_string();
        let legal_form_at_end = LEGAL_FORM_AT_END.is_match(&name);
        let open_paren = name.matches('(').count() > name.matches(')').count();
        let wraps = name.ends_with('&') || name.ends_with(',') || open_paren;
        let continues = adjacent(&rows[last], below)
            && !text.is_empty()
            && (wraps || STARTS_WITH_SUFFIX.is_match(&text) && !legal_form_at_end);
        if !continues {
            break;
        }
        // keep the part up to the last company suffix (`SDN BHD BR NO. …` → `SDN BHD`)
        let kept = if wraps {
            text.as_str()
        } else {
            COMPANY_SUFFIX
                .find_iter(&text)
                .last()
                .map_or(text.as_str(), |m| &text[..m.end()])
        };
        name = format!("{name} {}", kept.trim());
        evidence.extend(cells.iter().map(|c| c.line));
        last += 1;
    }
    // the same name with its legal form on a line just below (`BANH MI CAFE` /
    // `DIMILIKI: BANH MI CAFE SDN BHD 1110644-W`)
    if !LEGAL_FORM_AT_END.is_match(&name) {
        let upper = name.to_uppercase();
        for row in rows.iter().skip(last + 1).take(2) {
            let original = REGISTRATION_TAIL
                .replace(&row.text(), "")
                .trim()
                .to_string();
            if !original.is_ascii() {
                continue;
            }
            // ASCII: upper-casing keeps byte offsets
            if let Some(pos) = original.to_uppercase().find(&upper) {
                let rest = &original[pos..];
                if LEGAL_FORM_AT_END.is_match(rest) && rest.len() <= upper.len() + 12 {
                    name = rest.to_string();
                    evidence.extend(row.lines());
                    break;
                }
            }
        }
    }
    (name, evidence, last)
}

/// The address under a name: the following rows' cells in the name's column, up to a
/// telephone/tax/date line, a gap or five lines.
fn address_below(
    rows: &[Row],
    at: usize,
    left: f32,
    right: f32,
    name: &str,
    lines: &[Line],
) -> Field<String> {
    // the brand's first word opens a branch line (`NANDO'S 1 MONT KIARA`), not the address
    let brand = name
        .split_whitespace()
        .next()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3)
        .map(str::to_uppercase);
    let mut picked: Vec<(usize, Vec<usize>, String)> = Vec::new();
    let mut last_bottom = rows[at].bottom;
    for i in at + 1..rows.len().min(at + 9) {
        let row = &rows[i];
        if row.page != rows[at].page || row.top - last_bottom > 2.5 * row.height() {
            break;
        }
        let cells = in_column(row, left, right);
        if cells.is_empty() {
            continue;
        }
        let text = cells
            .iter()
            .map(|c| c.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        let registration = REGISTRATION.is_match(text.trim())
            || registration_tail(&text) && text.chars().filter(|c| c.is_alphabetic()).count() < 12
            || !find_tax_ids(&text).is_empty()
            || text.to_lowercase().contains("gst");
        if picked.is_empty() {
            // before the address: registration and tax numbers, an owner or branch line
            let owner = COMPANY_SUFFIX.is_match(&text)
                && !ADDRESS_HINT.is_match(&text.replace(|c: char| c.is_ascii_digit(), ""))
                || !text.chars().any(|c| c.is_ascii_digit()) && !ADDRESS_HINT.is_match(&text);
            let date = !find_dates(&text, DayMonthOrder::DayFirst).is_empty();
            let branch = brand.as_ref().is_some_and(|b| {
                text.split_whitespace()
                    .next()
                    .is_some_and(|w| w.to_uppercase().trim_end_matches(',') == b)
            });
            // a site or store number (`SITE: 2395`)
            let id_line = LABELLED_NUMBER.is_match(text.trim());
            if registration || owner || date || branch || id_line {
                last_bottom = row.bottom;
                continue;
            }
        }
        let has_postcode = picked.iter().any(|(_, _, t)| POSTCODE.is_match(t));
        // a town may follow its postcode on the next line (`… SETIA ALAM 40170` / `SHAH ALAM`)
        let town_follows = picked.last().is_some_and(|(_, _, t)| {
            POSTCODE_AT_END.is_match(t)
                && picked
                    .iter()
                    .filter(|(_, _, t)| POSTCODE.is_match(t))
                    .count()
                    == 1
        });
        let town = town_follows && text.split_whitespace().count() <= 3;
        let no_address_words =
            !(text.chars().any(|c| c.is_ascii_digit()) || ADDRESS_HINT.is_match(&text) || town);
        // a branch name in brackets closing the address (`(MR DIY TESCO TERBAU)`)
        let bracketed = has_postcode
            && text.trim().starts_with('(')
            && text.trim().ends_with(')')
            && !text.chars().any(|c| c.is_ascii_digit());
        if bracketed && !ADDRESS_STOP.is_match(&text) && !registration {
            picked.push((i, cells.iter().map(|c| c.line).collect(), text));
            break;
        }
        if registration
            || has_postcode && no_address_words
            || ADDRESS_STOP.is_match(&text)
            || PHONE_ONLY.is_match(text.trim())
            || LABELLED_PHONE.is_match(text.trim())
            || amount_label(&text).is_some()
            || !find_dates(&text, DayMonthOrder::DayFirst).is_empty()
            || BUYER_LABEL.is_match(&text)
        {
            break;
        }
        picked.push((i, cells.iter().map(|c| c.line).collect(), text));
        last_bottom = row.bottom;
        if picked.len() == 5 {
            break;
        }
    }
    let joined = picked
        .iter()
        .map(|(_, _, t)| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if picked.is_empty() || !ADDRESS_HINT.is_match(&joined) {
        return Field::default();
    }
    let evidence: Vec<usize> = picked
        .iter()
        .flat_map(|(_, ls, _)| ls.iter().copied())
        .collect();
    Field::found(joined.clone(), joined, lines, &evidence, Located::Inferred)
}

/// Text after a label on its row (`Bill To: Acme`), else the next row.
fn value_after_label(
    rows: &[Row],
    i: usize,
    label: &Regex,
    lines: &[Line],
) -> Option<(Field<String>, usize)> {
    let cell = rows[i].cells.iter().find(|c| label.is_match(&c.text))?;
    let m = label.find(&cell.text)?;
    let rest = cell.text[m.end()..]
        .trim_start_matches([':', '-', ' ', '.'])
        .trim();
    if rest.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
        let field = Field::found(
            rest.to_string(),
            rest,
            lines,
            &[cell.line],
            Located::Labelled,
        );
        return Some((field, i));
    }
    // the value on the next row, in the label's column; or right of the label on its row
    let next = rows.get(i + 1).filter(|r| r.page == rows[i].page);
    let below = next.map(|r| in_column(r, cell.left, cell.right + 4.0 * (cell.right - cell.left)));
    if let Some(c) = below.and_then(|cells| cells.into_iter().next()) {
        let t = c.text.trim().to_string();
        if t.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
            let field = Field::found(t.clone(), t, lines, &[c.line], Located::Labelled);
            return Some((field, i + 1));
        }
    }
    let right = rows[i].cells.iter().find(|c| c.left > cell.right)?;
    let t = right.text.trim().to_string();
    (t.chars().filter(|c| c.is_alphabetic()).count() >= 3 && !NOT_A_NAME.is_match(&t)).then(|| {
        (
            Field::found(t.clone(), t, lines, &[right.line], Located::Labelled),
            i,
        )
    })
}

#[allow(clippy::unwrap_used)]
static BUYER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(bill(?:ed)?\s+to|buyer|customer(?:\s+name)?|sold\s+to|ship(?:ped)?\s+to|consignee|client|recipient)\s*(?::|$)").unwrap()
});
#[allow(clippy::unwrap_used)]
static SELLER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(seller|sold\s+by|supplier|vendor|from|billed\s+by)\s*(?::|$)").unwrap()
});

const ITEM_HEADERS: &[(&str, &[&str])] = &[
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
fn item_header(rows: &[Row]) -> Option<(usize, Vec<(&'static str, f32)>)> {
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

fn decimal_of(text: &str) -> Option<Amount> {
    amount::find_amounts(text).into_iter().next_back()
}

/// Rows between the header and the amounts block, cells assigned to the nearest column.
fn table_items(
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
    read_date(&rows, lines, options, &mut inv);
    let buyer_row = read_parties(&rows, lines, &mut inv);
    read_tax_ids(&rows, lines, buyer_row, &mut inv);
    read_currency(&rows, &mut inv);
    if let Some((header, columns)) = item_header(&rows) {
        inv.line_items = table_items(&rows, header, &columns, lines);
    }
    read_amounts(&rows, lines, &mut inv);
    if let Some(check) = script_check(lines) {
        inv.checks.push(check);
    }
    arithmetic_checks(&mut inv);
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

/// The invoice number: the first labelled one (`Invoice No: INV-7`) that is not a date.
fn read_number(rows: &[Row], lines: &[Line], options: &InvoiceOptions, inv: &mut Invoice) {
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
fn read_date(rows: &[Row], lines: &[Line], options: &InvoiceOptions, inv: &mut Invoice) {
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

/// Seller and buyer: after their labels (`Sold by`, `Bill to`), else the seller is the company
/// name at the top; the seller's address is read under its name. Returns the buyer's row.
fn read_parties(rows: &[Row], lines: &[Line], inv: &mut Invoice) -> Option<usize> {
    let mut buyer_row: Option<usize> = None;
    for (i, row) in rows.iter().enumerate() {
        let labelled = |re: &Regex| row.cells.iter().any(|c| re.is_match(&c.text));
        if !inv.seller.is_found() && labelled(&SELLER_LABEL) {
            if let Some((field, at)) = value_after_label(rows, i, &SELLER_LABEL, lines) {
                let (left, right) = field
                    .evidence
                    .iter()
                    .filter_map(|e| lines.get(e.line as usize))
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, r), line| {
                        (l.min(line.left()), r.max(line.right()))
                    });
                inv.seller = field;
                let name = inv.seller.value.clone().unwrap_or_default();
                inv.seller_address = address_below(rows, at, left, right, &name, lines);
            }
        }
        if buyer_row.is_none() && labelled(&BUYER_LABEL) {
            if let Some((field, at)) = value_after_label(rows, i, &BUYER_LABEL, lines) {
                inv.buyer = field;
                buyer_row = Some(at);
            }
        }
    }
    if !inv.seller.is_found() {
        // the seller is named above the buyer's block
        let above_buyer = buyer_row.map_or(rows.len(), |b| b.saturating_sub(1));
        if let Some((i, k, located)) = seller_cell(&rows[..above_buyer.max(1).min(rows.len())]) {
            if Some(i) != buyer_row {
                let cell = &rows[i].cells[k];
                let (text, evidence, last_row) = company_name(rows, i, k);
                inv.seller_address =
                    address_below(rows, last_row, cell.left, cell.right, &text, lines);
                inv.seller = Field::found(text.clone(), text, lines, &evidence, located);
            }
        }
    }
    buyer_row
}

/// Tax ids (GSTIN, …): those printed within the buyer's block are the buyer's, the others the
/// seller's; a GSTIN's check character is verified.
fn read_tax_ids(rows: &[Row], lines: &[Line], buyer_row: Option<usize>, inv: &mut Invoice) {
    for (i, row) in rows.iter().enumerate() {
        for id in find_tax_ids(&row.text()) {
            let for_buyer = buyer_row.is_some_and(|b| i >= b && i <= b + 6);
            let field = if for_buyer {
                &mut inv.buyer_tax_id
            } else {
                &mut inv.seller_tax_id
            };
            if field.is_found() {
                continue;
            }
            let ev = evidence_for(row, &id.value);
            *field = Field::found(
                id.value.clone(),
                id.value.clone(),
                lines,
                &ev,
                Located::Inferred,
            );
            if id.kind == "gstin" {
                let ok = gstin_is_valid(&id.value);
                field.check(Check::new(
                    "gstin_checksum",
                    ok,
                    if ok {
                        "check character matches".to_string()
                    } else {
                        format!("{} has a wrong check character or shape", id.value)
                    },
                ));
            }
        }
    }
}

/// The currency: the one most amounts carry, else one named on the page, else INR when a
/// valid GSTIN says the invoice is Indian.
fn read_currency(rows: &[Row], inv: &mut Invoice) {
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

/// Subtotal, tax lines, rounding and total from the amounts block; a total printed before the
/// rounding line gives way to the rounded amount after it; without a labelled total the largest
/// amount is taken, and said to be a guess.
fn read_amounts(rows: &[Row], lines: &[Line], inv: &mut Invoice) {
    let mut best_total: Option<(u8, Amount, Vec<usize>, usize)> = None;
    let mut rounding_row: Option<usize> = None;
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
            AmountLabel::Tax(kind) => {
                let rate = RATE
                    .captures(&row.text())
                    .and_then(|c| c.get(1))
                    .and_then(|m| m.as_str().parse::<Decimal>().ok())
                    .map(Money);
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
            AmountLabel::Total(rank) => {
                let better = best_total
                    .as_ref()
                    .is_none_or(|(r, b, ..)| rank > *r || rank == *r && a.value >= b.value);
                if better {
                    best_total = Some((rank, a, ev, i));
                }
            }
            _ => {}
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
        Some((_, a, ev, _)) => inv.total = money_field(&a, lines, &ev, Located::Labelled),
        None => {
            // the largest money amount outside payment rows, as a last resort
            let mut largest: Option<(Amount, Vec<usize>)> = None;
            for row in rows {
                if matches!(amount_label(&row.text()), Some(AmountLabel::Payment)) {
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
}

/// The labels and formats above are those of Latin-script invoices (English, Malay, German…):
/// a document mostly in another script gets a failed `script_supported`, so a reviewer sees why
/// its fields are missing instead of trusting an empty result.
fn script_check(lines: &[Line]) -> Option<Check> {
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
fn evidence_for(row: &Row, needle: &str) -> Vec<usize> {
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

fn arithmetic_checks(inv: &mut Invoice) {
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
        assert!(inv.date.value.as_ref().is_some_and(|d| d.ambiguous));
        assert!(inv
            .date
            .checks
            .iter()
            .any(|c| c.name == "date_order_unambiguous" && !c.passed));
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
