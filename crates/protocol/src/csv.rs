//! CSV cells that a spreadsheet shows as text: the one rule every export of the station and
//! the router follows (OWASP, "CSV injection"). Names, stores, file names and reason codes are
//! typed by people; a cell that starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage
//! return) gets a leading `'`.

use std::borrow::Cow;

/// The cell's text, defused (for a CSV writer that quotes by itself).
pub fn cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The cell defused and quoted when it holds a comma, a quote or a line break (for CSV written
/// by hand).
pub fn field(text: &str) -> String {
    let text = cell(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_start_like_a_formula_are_kept_as_text() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(bad), format!("'{bad}"));
        }
        for fine in ["IMG_0001.jpg", "", "Ana", "12.5", "{\"a\":1}"] {
            assert_eq!(cell(fine), fine);
        }
        assert_eq!(
            field("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(field("plain"), "plain");
    }
}
