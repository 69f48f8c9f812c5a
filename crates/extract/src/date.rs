//! Dates as printed, normalized to ISO 8601. A numeric date whose day and month could be
//! swapped (`05/03/2018`) is read in the document's preferred order and flagged ambiguous,
//! never guessed silently.

pub use protocol::documents::date::DateValue;
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// A date found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDate {
    pub value: DateValue,
    pub year: i32,
    /// The date as printed.
    pub printed: String,
    pub span: Range<usize>,
}

/// Which order a numeric `a/b/year` date is read in when both would be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DayMonthOrder {
    /// Day first (India, Malaysia, Europe).
    #[default]
    DayFirst,
    /// Month first (United States).
    MonthFirst,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

// The patterns are constants proven by the unit tests below.
#[allow(clippy::unwrap_used)]
static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    // a time may follow with no space (`14/03/20185:57:07PM`, as OCR reads a narrow gap)
    Regex::new(
        r"(?:^|[^\d/.\-])(\d{1,2})([/.\-])(\d{1,2})([/.\-])(\d{4}|\d{2})(?:$|[^\d/.\-]|\d{1,2}:\d\d)",
    )
        .unwrap()
});
#[allow(clippy::unwrap_used)]
static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d])((?:19|20)\d{2})([/.\-]?)(\d{2})([/.\-]?)(\d{2})(?:$|[^\d])").unwrap()
});
#[allow(clippy::unwrap_used)]
static DAY_MONTH_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?[\s\-./]*(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC)[A-Z]*\.?[\s\-.,/]*(\d{4}|\d{2})\b",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static MONTH_NAME_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC)[A-Z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b",
    )
    .unwrap()
});

fn month_number(name: &str) -> Option<u32> {
    let upper = name.to_uppercase();
    MONTHS
        .iter()
        .position(|m| upper.starts_with(m))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn full_year(printed: &str) -> Option<i32> {
    let y: i32 = printed.parse().ok()?;
    Some(match printed.len() {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn valid(year: i32, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn make(year: i32, month: u32, day: u32, ambiguous: bool, order: &str) -> DateValue {
    DateValue {
        iso: format!("{year:04}-{month:02}-{day:02}"),
        ambiguous,
        order: order.into(),
    }
}

/// Every date in `text`, left to right.
pub fn find_dates(text: &str, preference: DayMonthOrder) -> Vec<FoundDate> {
    let mut found: Vec<FoundDate> = Vec::new();
    let mut push = |span: Range<usize>, year: i32, value: DateValue| {
        if found
            .iter()
            .any(|f| f.span.start < span.end && span.start < f.span.end)
        {
            return;
        }
        found.push(FoundDate {
            value,
            year,
            printed: text[span.clone()].to_string(),
            span,
        });
    };
    for c in NUMERIC.captures_iter(text) {
        let (Some(a), Some(s1), Some(b), Some(s2), Some(y)) =
            (c.get(1), c.get(2), c.get(3), c.get(4), c.get(5))
        else {
            continue;
        };
        // 12.50.20 is not a date; the two separators agree on real dates
        if s1.as_str() != s2.as_str() {
            continue;
        }
        let (Ok(a_n), Ok(b_n), Some(year)) = (
            a.as_str().parse::<u32>(),
            b.as_str().parse::<u32>(),
            full_year(y.as_str()),
        ) else {
            continue;
        };
        let day_first = valid(year, b_n, a_n);
        let month_first = valid(year, a_n, b_n);
        let value = match (day_first, month_first) {
            (true, true) if a_n == b_n => make(year, a_n, a_n, false, "dmy"),
            (true, true) => match preference {
                DayMonthOrder::DayFirst => make(year, b_n, a_n, true, "dmy"),
                DayMonthOrder::MonthFirst => make(year, a_n, b_n, true, "mdy"),
            },
            (true, false) => make(year, b_n, a_n, false, "dmy"),
            (false, true) => make(year, a_n, b_n, false, "mdy"),
            (false, false) => continue,
        };
        push(a.start()..y.end(), year, value);
    }
    // `5 March 2018` and `March 5, 2018`: the same parts, day and month groups swapped
    for (pattern, day_group, month_group, order) in [
        (&*DAY_MONTH_NAME, 1, 2, "dmy"),
        (&*MONTH_NAME_DAY, 2, 1, "mdy"),
    ] {
        for c in pattern.captures_iter(text) {
            let (Some(d), Some(m), Some(y), Some(all)) =
                (c.get(day_group), c.get(month_group), c.get(3), c.get(0))
            else {
                continue;
            };
            let (Ok(day), Some(month), Some(year)) = (
                d.as_str().parse::<u32>(),
                month_number(m.as_str()),
                full_year(y.as_str()),
            ) else {
                continue;
            };
            if valid(year, month, day) {
                push(all.range(), year, make(year, month, day, false, order));
            }
        }
    }
    for c in ISO.captures_iter(text) {
        let (Some(y), Some(s1), Some(m), Some(s2), Some(d)) =
            (c.get(1), c.get(2), c.get(3), c.get(4), c.get(5))
        else {
            continue;
        };
        if s1.as_str() != s2.as_str() {
            continue;
        }
        let (Ok(year), Ok(month), Ok(day)) = (
            y.as_str().parse::<i32>(),
            m.as_str().parse::<u32>(),
            d.as_str().parse::<u32>(),
        ) else {
            continue;
        };
        if valid(year, month, day) {
            push(
                y.start()..d.end(),
                year,
                make(year, month, day, false, "ymd"),
            );
        }
    }
    found.sort_by_key(|f| f.span.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> Vec<(String, bool)> {
        find_dates(text, DayMonthOrder::DayFirst)
            .into_iter()
            .map(|f| (f.value.iso, f.value.ambiguous))
            .collect()
    }

    #[test]
    fn numeric_dates_in_either_order() {
        assert_eq!(
            iso("DATE: 25/12/2018 8:13:39 PM"),
            [("2018-12-25".into(), false)]
        );
        assert_eq!(iso("12/28/2017"), [("2017-12-28".into(), false)]);
        assert_eq!(iso("12-01-19"), [("2019-01-12".into(), true)]);
        assert_eq!(iso("18.03.18"), [("2018-03-18".into(), false)]);
        assert_eq!(iso("07/07/2020"), [("2020-07-07".into(), false)]);
        let glued = find_dates("14/03/20185:57:07PM", DayMonthOrder::DayFirst);
        assert_eq!(glued[0].value.iso, "2018-03-14");
        assert_eq!(glued[0].printed, "14/03/2018");
    }

    #[test]
    fn ambiguous_dates_follow_the_preference_and_are_flagged() {
        let us = find_dates("05/03/2018", DayMonthOrder::MonthFirst);
        assert_eq!(us[0].value.iso, "2018-05-03");
        assert!(us[0].value.ambiguous);
        assert_eq!(us[0].value.order, "mdy");
        assert_eq!(iso("05/03/2018"), [("2018-03-05".into(), true)]);
    }

    #[test]
    fn month_names_and_compact_iso() {
        assert_eq!(iso("05 MAR 2018"), [("2018-03-05".into(), false)]);
        assert_eq!(iso("28 MAR 18 12:01"), [("2018-03-28".into(), false)]);
        assert_eq!(iso("March 5, 2018"), [("2018-03-05".into(), false)]);
        assert_eq!(iso("2018-03-23"), [("2018-03-23".into(), false)]);
        assert_eq!(iso("20180304 10:22"), [("2018-03-04".into(), false)]);
        assert_eq!(iso("5th January 2024"), [("2024-01-05".into(), false)]);
    }

    #[test]
    fn impossible_and_partial_dates_are_not_dates() {
        assert!(iso("31/02/2019").is_empty());
        assert!(iso("13/13/2019").is_empty());
        assert!(iso("Time 12:30:45").is_empty());
        assert!(iso("TOTAL 12.50").is_empty());
        assert!(iso("1.234.567").is_empty());
        assert!(iso("INV 2018123456").is_empty());
    }

    #[test]
    fn the_printed_form_is_kept() {
        let f = find_dates("Date : 09/01/2019 Time", DayMonthOrder::DayFirst);
        assert_eq!(f[0].printed, "09/01/2019");
    }
}
