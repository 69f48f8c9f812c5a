//! Money amounts as printed: currency symbols and codes, thousand separators (`,` `.` `'`
//! and thin spaces), decimal commas, trailing minus and parentheses for credits.

use regex::Regex;
use rust_decimal::Decimal;
use std::ops::Range;
use std::str::FromStr;
use std::sync::LazyLock;

/// An amount found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    pub value: Decimal,
    /// ISO 4217 code when a symbol or code was printed next to it.
    pub currency: Option<&'static str>,
    /// The number as printed, without currency (`1,234.50`).
    pub printed: String,
    /// As printed with a currency symbol written against it (`$8.20`), else `printed`.
    pub as_printed: String,
    /// True when the number had a decimal part (`12.50`, `12,50`), which money almost always
    /// has on invoices and receipts; `12` alone may be a quantity or a code.
    pub has_decimals: bool,
    /// Byte range of the whole match (currency included) in the text.
    pub span: Range<usize>,
}

const CURRENCIES: &[(&str, &str)] = &[
    ("RM", "MYR"),
    ("MYR", "MYR"),
    ("₹", "INR"),
    ("RS.", "INR"),
    ("RS", "INR"),
    ("INR", "INR"),
    ("S$", "SGD"),
    ("SGD", "SGD"),
    ("US$", "USD"),
    ("USD", "USD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("EUR", "EUR"),
    ("£", "GBP"),
    ("GBP", "GBP"),
];

// A number in one of the usual groupings (Indian lakh grouping `12,34,567.00` included), optionally with currency before or after.
// Group 1: currency before, 2: sign, 3: number, 4/5: currency after (code/symbol).
// The lookarounds keep the number from being part of a longer token (`INV-2024-001`, `12:30`).
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    // The pattern is a constant proven by the unit tests below.
    #[allow(clippy::unwrap_used)]
    Regex::new(
        r"(?xi)
        (?:(\b(?:RM|MYR|RS\.?|INR|SGD|USD|EUR|GBP)|₹|S\$|US\$|\$|€|£)\s?)?
        (-)?
        (\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,2})?|\d{1,3}(?:[,.'\u{2009}\u{202F}]\d{3})+(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?)
        (?:\s?(RM|MYR|INR|SGD|USD|EUR|GBP)\b|\s?(€|£|₹))?
        ",
    )
    .unwrap()
});

fn currency_code(symbol: &str) -> Option<&'static str> {
    let upper = symbol.to_uppercase();
    CURRENCIES
        .iter()
        .find(|(s, _)| *s == upper)
        .map(|(_, code)| *code)
}

/// The largest amount read, exclusive: a trillion in any currency. A longer run of digits is an
/// id or noise, not money; and the bound keeps every sum and product the invoice reader forms
/// from amounts (at most a few hundred lines summed, a quantity times a price: under 10^24) far
/// inside `Decimal`'s range (7.9 × 10^28), where its operators would panic on overflow.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// Parses the digits of one number, deciding which separator is the decimal one: the last
/// separator is decimal when one to three digits... follow it and it is not a thousands
/// group (`1,234` is a thousand; `12,50` and `1.234,50` have decimal commas). `None` for a
/// number of `MAX_AMOUNT` or more.
pub fn parse_number(printed: &str) -> Option<(Decimal, bool)> {
    parse_digits(printed).filter(|(value, _)| value.abs() < MAX_AMOUNT)
}

fn parse_digits(printed: &str) -> Option<(Decimal, bool)> {
    let seps: Vec<(usize, char)> = printed
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect();
    let Some(&(last_at, last)) = seps.last() else {
        return Decimal::from_str(printed).ok().map(|d| (d, false));
    };
    let tail = printed.len() - last_at - last.len_utf8();
    let distinct: Vec<char> = {
        let mut v: Vec<char> = seps.iter().map(|(_, c)| *c).collect();
        v.dedup();
        v
    };
    let decimal_last = if distinct.len() > 1 {
        // 1,234.50 or 1.234,50: the last, different separator is the decimal one
        seps.iter().filter(|(_, c)| *c == last).count() == 1
    } else if seps.len() > 1 {
        false // 1,234,567
    } else {
        // a single separator: 12.50 / 12,50 are decimal; 1,234 is a thousand; 1.234 is
        // ambiguous and read as a decimal only when written with a dot
        tail != 3 || last == '.'
    };
    let mut digits = String::with_capacity(printed.len());
    for (i, c) in printed.char_indices() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if decimal_last && i == last_at {
            digits.push('.');
        }
    }
    Decimal::from_str(&digits)
        .ok()
        .map(|d| (d, decimal_last && tail > 0))
}

/// Every amount-like number in `text`, left to right.
pub fn find_amounts(text: &str) -> Vec<Amount> {
    let mut out = Vec::new();
    for caps in AMOUNT.captures_iter(text) {
        let (Some(whole), Some(number)) = (caps.get(0), caps.get(3)) else {
            continue;
        };
        // not part of a longer token: a letter/digit/slash/colon/hyphen-joined neighbour
        let before = text[..whole.start()].chars().next_back();
        let after = text[whole.end()..].chars().next();
        let joined_before =
            before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
        let joined_after =
            after.is_some_and(|c| c.is_alphanumeric() || matches!(c, '/' | ':' | '-' | '_'));
        if joined_before || joined_after {
            continue;
        }
        let Some((mut value, has_decimals)) = parse_number(number.as_str()) else {
            continue;
        };
        if caps.get(2).is_some() {
            value = -value;
        }
        let currency = caps
            .get(1)
            .or_else(|| caps.get(4))
            .or_else(|| caps.get(5))
            .and_then(|m| currency_code(m.as_str()));
        let attached_symbol = caps
            .get(1)
            .filter(|m| !m.as_str().chars().any(char::is_alphabetic) && m.end() == number.start());
        let as_printed = match (attached_symbol, caps.get(2)) {
            (Some(sym), _) => text[sym.start()..number.end()].to_string(),
            (None, Some(sign)) => text[sign.start()..number.end()].to_string(),
            (None, None) => number.as_str().to_string(),
        };
        out.push(Amount {
            value,
            currency,
            as_printed,
            printed: number.as_str().to_string(),
            has_decimals,
            span: whole.range(),
        });
    }
    out
}

/// The rightmost money-like amount of a text (what a total line ends with).
pub fn last_money(text: &str) -> Option<Amount> {
    find_amounts(text).into_iter().rfind(|a| a.has_decimals)
}

/// A currency named anywhere in a text, not next to an amount (`TOTAL (RM)`, `Rupees … Only`).
pub fn currency_named(text: &str) -> Option<&'static str> {
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        // a constant pattern, proven by the tests below
        #[allow(clippy::unwrap_used)]
        Regex::new(r"(?i)\b(RM|MYR|INR|RS\.|RUPEES?|EUR|EUROS?|USD|DOLLARS?|GBP|SGD)\b|(€|£|₹)")
            .unwrap()
    });
    let caps = NAMED.captures(text)?;
    let m = caps.get(1).or_else(|| caps.get(2))?;
    match m.as_str().to_uppercase().as_str() {
        "RUPEE" | "RUPEES" => Some("INR"),
        "EURO" | "EUROS" => Some("EUR"),
        "DOLLAR" | "DOLLARS" => Some("USD"),
        other => currency_code(other),
    }
}

/// The currency a document is in: the code printed most often next to amounts, else one named
/// on its own in the text.
pub fn dominant_currency<'a>(texts: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for text in texts {
        for code in find_amounts(text).into_iter().filter_map(|a| a.currency) {
            match counts.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => counts.push((code, 1)),
            }
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.first().map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_of_a_trillion_or_more_is_not_an_amount() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_u64));
        assert_eq!(values("TOTAL 999,999,999,999.99"), ["999999999999.99"]);
        assert!(find_amounts("TOTAL 1,000,000,000,000.00").is_empty());
        assert!(find_amounts("55555555555555555555555555555.00").is_empty());
        assert!(parse_number("1000000000000").is_none());
    }

    fn values(text: &str) -> Vec<String> {
        find_amounts(text)
            .iter()
            .map(|a| a.value.to_string())
            .collect()
    }

    #[test]
    fn separators_and_decimal_commas() {
        assert_eq!(values("TOTAL 1,234.50"), ["1234.50"]);
        assert_eq!(values("Summe 1.234,50 EUR"), ["1234.50"]);
        assert_eq!(values("Betrag 12,50"), ["12.50"]);
        assert_eq!(values("Qty 1,234"), ["1234"]);
        assert_eq!(values("CHF 1'234.50"), ["1234.50"]);
        assert_eq!(values("₹ 12,34,567.00"), values("₹ 1234567.00"));
    }

    #[test]
    fn currencies_are_recognized_before_and_after() {
        let a = find_amounts("TOTAL RM 9.00");
        assert_eq!(a[0].currency, Some("MYR"));
        assert_eq!(a[0].printed, "9.00");
        assert_eq!(find_amounts("Rs.450.00")[0].currency, Some("INR"));
        assert_eq!(find_amounts("₹1,180.00")[0].currency, Some("INR"));
        assert_eq!(find_amounts("12.00 EUR")[0].currency, Some("EUR"));
        assert_eq!(values("form 12.00"), ["12.00"]);
        assert_eq!(find_amounts("$8.20")[0].currency, Some("USD"));
        assert_eq!(find_amounts("TOTAL $8.20")[0].as_printed, "$8.20");
        assert_eq!(find_amounts("TOTAL RM 8.20")[0].as_printed, "8.20");
    }

    #[test]
    fn numbers_inside_codes_are_not_amounts() {
        assert!(find_amounts("INV-2024-001").is_empty());
        assert!(find_amounts("12:30:45").iter().all(|a| !a.has_decimals));
        assert!(find_amounts("25/12/2018").is_empty());
        assert!(find_amounts("GST ID 001234567890X").is_empty());
    }

    #[test]
    fn a_minus_sign_makes_a_credit() {
        assert_eq!(values("Rounding -0.02"), ["-0.02"]);
        assert_eq!(
            last_money("Discount -5.00").map(|a| a.value.to_string()),
            Some("-5.00".into())
        );
    }

    #[test]
    fn last_money_skips_quantities() {
        let a = last_money("2 x 4.50   9.00 SR").map(|a| a.printed);
        assert_eq!(a.as_deref(), Some("9.00"));
        assert_eq!(last_money("Items 3"), None);
    }

    #[test]
    fn dominant_currency_counts_marked_amounts() {
        let texts = ["Subtotal RM 10.00", "Tax RM 0.60", "Paid $ 20"];
        assert_eq!(dominant_currency(texts.into_iter()), Some("MYR"));
        assert_eq!(dominant_currency(["no money here"].into_iter()), None);
        assert_eq!(currency_named("TOTAL (RM)"), Some("MYR"));
        assert_eq!(currency_named("Rupees One Lakh Only"), Some("INR"));
        assert_eq!(currency_named("Total 2.469,00 €"), Some("EUR"));
        assert_eq!(find_amounts("Total 2.469,00 €")[0].currency, Some("EUR"));
        assert_eq!(currency_named("Thank you"), None);
    }
}
