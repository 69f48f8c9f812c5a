//! The patterns the invoice reader matches: numbers, names, addresses, labels.

use super::*;

// The patterns are constants proven by the unit tests below.
#[allow(clippy::unwrap_used)]
pub(super) static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:tax\s+)?(?:invoice|inv|bill|receipt|rcpt|doc(?:ument)?|order|c/n|cash\s*bill|slip|trans(?:action)?|ref)\s*(?:no|number|num|#)?\s*\.?\s*[:#.]?\s*([A-Z]{0,6}[\-/]?\d[A-Z0-9/\-_.]*)",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static RATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2}(?:\.\d{1,2})?)\s*%").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static COMPANY_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(SDN\.?\s*BHD|BHD|S/B|PVT\.?\s*LTD|PRIVATE\s+LIMITED|LIMITED|LTD|LLP|LLC|INC|PLC|GMBH|CORP(?:ORATION)?|ENTERPRISES?|TRADING|COMPANY|CO\.|HARDWARE|STATIONERY|RESTAURANTS?|RESTORAN|MART|MARKET|STORES?|SUPERMARKET|PASARAYA|PERNIAGAAN|SYARIKAT|BAKERY|CAFE|KEDAI|BOOKS?|GALLERY|MARKETING|INDUSTRIES|SERVICES|SOLUTIONS|TECHNOLOGIES|TRADERS|AGENCY|PHARMACY|MOTOR|PETRO|BISTRO|KITCHEN)\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static NOT_A_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(tax\s+invoice|invoice|receipt|bill\b|cash|date|time|tel|phone|fax|e-?mail|www|gst|vat|reg(?:istration)?\s*no|co\.?\s*reg|roc\b|cashier|counter|table|page|member|welcome|thank|original|copy|duplicate|quotation|statement|credit\s+note)",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static ADDRESS_STOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\btel\b|\btel[\s.:]|phone|\bfax|e-?mail|www\.|http|gst|\bvat\b|invoice|receipt|\bdate\b|cashier|\bbill\b|\bno\s*[:.]?\s*$|h/?p\b|hotline|website|\btax\b|counter|\bpos\b|order|\bsst\b|(?:^|\s)[tf]\s*:\s*\+?\d)",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static REGISTRATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^[\s(]*(?:(?:co\.?\s*)?(?:reg(?:istration)?|roc|company|co)\.?\s*(?:no)?\.?\s*[:.]?\s*)?\(?\d{3,}[\s\-]*[A-Z]?\)?[\s)]*$|(?i)\b(?:co\.?[\s\-]*reg|company\s*reg|reg(?:istration)?\.?\s*no|roc\s*no|company\s*no|co\.?\s*no|br\s*no)\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static REGISTRATION_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\s*[(\[]?\s*(?:(?:co\.?|company|reg\.?|roc|br)\s*(?:no\.?|reg\.?)?\s*[:.]?\s*)?\d{4,}[\s\-]*[A-Z]?\s*[)\]]?\s*$",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static STARTS_WITH_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:\(M\)\s*)?(?:SDN\.?\s*BHD|BHD|S/B|PVT\.?\s*LTD|PRIVATE\s+LIMITED|LIMITED|LTD|LLP|LLC|INC|GMBH|CO|ENTERPRISES?|TRADING|RESTAURANTS?|HOUSE|ELECTRICAL|MARKETING|INDUSTRIES)\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static LEGAL_FORM_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:SDN\.?\s*BHD\.?|BHD\.?|S/B|LTD\.?|LIMITED|LLP|LLC|INC\.?|GMBH|PLC)$")
        .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static FORMER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(formerly|previously|fka)\b").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static POSTCODE_AT_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{5,6}[\s.,]*$").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static LABELLED_PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z .]*:\s*\+?[\d][\d\s\-/()]{5,}$").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static LABELLED_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Za-z][A-Za-z .#]*:\s*\d+|(?i:site|store|outlet|branch|shop)\s*(?:no\.?|#)?\s*\d+)$")
            .unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static NAME_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z]+(?:\s[A-Za-z]+)?\s*:\s*").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static SERIAL_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,3}[.)]?\s+").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static SERIAL_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,3}[.)]?$").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static PHONE_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[\d][\d\s\-/()]{6,}[.,]?$").unwrap());
#[allow(clippy::unwrap_used)]
pub(super) static POSTCODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{5,6}\b").unwrap());
/// A building a shop is in: a mall, plaza, complex, centre, tower.
#[allow(clippy::unwrap_used)]
pub(super) static BUILDING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(mall|plaza|complex|centre|center|tower|arcade|galleria|shopping|square)\b")
        .unwrap()
});

#[allow(clippy::unwrap_used)]
pub(super) static ADDRESS_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\d|\b(jalan|jln|lorong|taman|lot|road|rd\.?|street|st\.|avenue|lane|floor|block|blk|building|nagar|sector|plot|suite|unit|level|persiaran|bandar|kawasan|selangor|johor|kuala|lumpur|darul|ehsan|takzim|kedah|penang|pulau\s+pinang|perak|pahang|melaka|malacca|negeri\s+sembilan|sabah|sarawak|terengganu|kelantan|perlis|putrajaya|labuan|malaysia|singapore|india|mumbai|delhi|bengaluru|bangalore|chennai|pune)\b)",
    )
    .unwrap()
});
