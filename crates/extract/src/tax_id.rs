//! Tax identifiers: India's GSTIN (with its check character), and the labelled GST/VAT/SST
//! registration numbers other countries print.

use regex::Regex;
use std::sync::LazyLock;

const GSTIN_ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// The patterns are constants proven by the unit tests below.
#[allow(clippy::unwrap_used)]
static GSTIN_SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z][Z0-9A-Z][0-9A-Z])\b").unwrap()
});
#[allow(clippy::unwrap_used)]
static LABELLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:GSTIN|GST\s*(?:REG(?:ISTRATION)?\.?\s*)?(?:NO|ID|NUMBER)|VAT\s*(?:REG(?:ISTRATION)?\.?\s*)?(?:NO|ID|NUMBER)|SST\s*(?:REG(?:ISTRATION)?\.?\s*)?(?:NO|ID)|TAX\s*ID|TIN|UID)\b\.?\s*[:#.]?\s*([A-Z0-9][A-Z0-9\- ]{5,20}[A-Z0-9])",
    )
    .unwrap()
});

/// The check character a GSTIN's first 14 characters call for (GSTN's mod-36 scheme:
/// alternate weights 1 and 2, digits of each product in base 36 summed).
pub fn gstin_check_char(first14: &str) -> Option<char> {
    if first14.len() != 14 {
        return None;
    }
    let mut sum = 0u32;
    for (i, b) in first14.bytes().enumerate() {
        let value = GSTIN_ALPHABET.iter().position(|&c| c == b)? as u32;
        let product = value * if i % 2 == 0 { 1 } else { 2 };
        sum += product / 36 + product % 36;
    }
    let check = (36 - sum % 36) % 36;
    GSTIN_ALPHABET.get(check as usize).map(|&c| c as char)
}

/// Whether a GSTIN has the right shape and check character.
pub fn gstin_is_valid(gstin: &str) -> bool {
    gstin.len() == 15
        && GSTIN_SHAPE.is_match(gstin)
        && gstin_check_char(&gstin[..14]) == gstin[14..].chars().next()
}

/// A tax identifier found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxId {
    pub value: String,
    /// `gstin` for the Indian format, else `tax_id`.
    pub kind: &'static str,
}

/// GSTIN-shaped tokens first (valid or not: a misread one must still be shown and flagged),
/// then numbers printed after a GST/VAT/SST/tax-id label.
pub fn find_tax_ids(text: &str) -> Vec<TaxId> {
    let upper = text.to_uppercase();
    let mut out: Vec<TaxId> = GSTIN_SHAPE
        .captures_iter(&upper)
        .filter_map(|c| c.get(1))
        .map(|m| TaxId {
            value: m.as_str().to_string(),
            kind: "gstin",
        })
        .collect();
    if out.is_empty() {
        for c in LABELLED.captures_iter(text) {
            if let Some(m) = c.get(1) {
                let value = m.as_str().trim().to_uppercase();
                if value.chars().filter(char::is_ascii_digit).count() >= 4 {
                    out.push(TaxId {
                        value,
                        kind: "tax_id",
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_gstins_pass_and_a_changed_character_fails() {
        // well-formed examples with their published check characters
        for ok in ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "33AAACH7409R1Z8"] {
            assert!(gstin_is_valid(ok), "{ok}");
        }
        assert!(!gstin_is_valid("27AAPFU0939F1ZW"));
        assert!(!gstin_is_valid("27AAPFU0939F1Z"));
        assert!(!gstin_is_valid("27aapfu0939f1zv"));
    }

    #[test]
    fn the_check_character_is_computed() {
        assert_eq!(gstin_check_char("27AAPFU0939F1Z"), Some('V'));
        assert_eq!(gstin_check_char("27AAPFU0939F1"), None);
        assert_eq!(gstin_check_char("27AAPFU0939F1z"), None);
    }

    #[test]
    fn ids_are_found_in_lines() {
        let ids = find_tax_ids("GSTIN: 29AAGCB7383J1Z4  State: Karnataka");
        assert_eq!(ids[0].value, "29AAGCB7383J1Z4");
        assert_eq!(ids[0].kind, "gstin");
        let ids = find_tax_ids("GST REG NO : 000584089600");
        assert_eq!(ids[0].value, "000584089600");
        assert_eq!(ids[0].kind, "tax_id");
        let ids = find_tax_ids("VAT No. GB 123 4567 89");
        assert_eq!(ids[0].value, "GB 123 4567 89");
        assert!(find_tax_ids("TOTAL 12.00").is_empty());
    }
}
