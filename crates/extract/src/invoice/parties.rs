//! Seller and buyer: names (wrapped over lines, registration numbers apart), addresses under
//! them, values after labels, and their tax ids.

use super::*;

/// Where the seller's name is: a line near the top that looks like a company name
/// (row index, cell index).
pub(super) fn seller_cell(rows: &[Row]) -> Option<(usize, usize, Located)> {
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
pub(super) fn registration_tail(text: &str) -> bool {
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
pub(super) fn address_follows(rows: &[Row], at: usize, legal_form: bool) -> bool {
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
pub(super) fn in_column(row: &Row, left: f32, right: f32) -> Vec<&crate::layout::Cell> {
    let slack = 0.5 * (right - left).max(50.0);
    row.cells
        .iter()
        .filter(|c| c.right > left - slack && c.left < right + slack)
        .collect()
}

/// The name a line of trade words alone describes (`THREE STOOGES` over `BISTRO & CAFE`): the
/// adjacent line above it in its column, when that one reads as a name. A legal form is part of
/// a name (`POPULAR BOOK` / `CO. (M) SDN BHD`, joined by `company_name`); what the business is
/// is not.
fn described_name(rows: &[Row], at: usize, cell: usize) -> Option<(usize, usize)> {
    let c = &rows[at].cells[cell];
    let text = c.text.trim();
    if STARTS_WITH_SUFFIX.is_match(text) || LEGAL_FORM_AT_END.is_match(text) {
        return None;
    }
    let rest = COMPANY_SUFFIX.replace_all(text, "");
    let description_only = rest
        .split(|ch: char| !ch.is_alphanumeric())
        .all(|w| w.is_empty() || w.eq_ignore_ascii_case("and"));
    if !description_only || at == 0 {
        return None;
    }
    let above = &rows[at - 1];
    if above.page != rows[at].page || rows[at].top - above.bottom > 0.8 * rows[at].height() {
        return None;
    }
    let (k, name) = above
        .cells
        .iter()
        .enumerate()
        .find(|(_, a)| a.right > c.left && a.left < c.right)?;
    let name_text = name.text.trim();
    let letters = name_text.chars().filter(|ch| ch.is_alphabetic()).count();
    (letters >= 3
        && !name_text.chars().any(|ch| ch.is_ascii_digit())
        && !NOT_A_NAME.is_match(name_text))
    .then_some((at - 1, k))
}

/// A company name that may wrap: `HOME MASTER HARDWARE &` / `ELECTRICAL`, `POPULAR BOOK` /
/// `CO. (M) SDN BHD`, or `LIAN CHI PU TIAN VEGETARIAN` / `RESTAURANT SDN BHD`. Registration
/// numbers printed after it are not part of it. Returns the name, its lines and its last row.
pub(super) fn company_name(rows: &[Row], at: usize, cell: usize) -> (String, Vec<usize>, usize) {
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
            && (wraps
                || STARTS_WITH_SUFFIX.is_match(&text) && !legal_form_at_end
                || last == at && restates_name(&name, &text));
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

/// Whether `next` carries on a name without a legal form by opening with the name's last word
/// (`RESTAURANT JIAWEI` / `JIAWEI HOUSE`): a name that runs on by repeating itself. A line
/// with digits, address or building words is the address or a branch, and a name with a legal
/// form is complete.
pub(super) fn restates_name(name: &str, next: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    let next_words: Vec<&str> = next.split_whitespace().collect();
    let (Some(last_word), Some(opening)) = (words.last(), next_words.first()) else {
        return false;
    };
    words.len() >= 2
        && (2..=3).contains(&next_words.len())
        && last_word.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && last_word.eq_ignore_ascii_case(opening)
        && !LEGAL_FORM_AT_END.is_match(name)
        && next
            .chars()
            .all(|c| c.is_alphabetic() || c.is_whitespace() || "&'-".contains(c))
        && !ADDRESS_HINT.is_match(next)
        && !NOT_A_NAME.is_match(next)
        && !BUILDING.is_match(next)
}

/// The address under a name: the following rows' cells in the name's column, up to a
/// telephone/tax/date line, a gap or five lines.
pub(super) fn address_below(
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
        // the mall or building the shop is in, named after the postcode (`KL FESTIVAL CITY MALL`)
        let building = has_postcode && BUILDING.is_match(&text);
        let no_address_words = !(text.chars().any(|c| c.is_ascii_digit())
            || ADDRESS_HINT.is_match(&text)
            || town
            || building);
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
pub(super) fn value_after_label(
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
pub(super) static BUYER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(bill(?:ed)?\s+to|buyer|customer(?:\s+name)?|sold\s+to|ship(?:ped)?\s+to|consignee|client|recipient)\s*(?::|$)").unwrap()
});
#[allow(clippy::unwrap_used)]
pub(super) static SELLER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(seller|sold\s+by|supplier|vendor|from|billed\s+by)\s*(?::|$)").unwrap()
});

/// Seller and buyer: after their labels (`Sold by`, `Bill to`), else the seller is the company
/// name at the top; the seller's address is read under its name. Returns the buyer's row.
pub(super) fn read_parties(rows: &[Row], lines: &[Line], inv: &mut Invoice) -> Option<usize> {
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
                let (name_row, name_cell) = described_name(rows, i, k).unwrap_or((i, k));
                let cell = &rows[name_row].cells[name_cell];
                let (text, evidence, last_row) = company_name(rows, name_row, name_cell);
                inv.seller_address =
                    address_below(rows, last_row.max(i), cell.left, cell.right, &text, lines);
                inv.seller = Field::found(text.clone(), text, lines, &evidence, located);
            }
        }
    }
    buyer_row
}

/// Tax ids (GSTIN, …): those printed within the buyer's block are the buyer's, the others the
/// seller's; a GSTIN's check character is verified.
pub(super) fn read_tax_ids(
    rows: &[Row],
    lines: &[Line],
    buyer_row: Option<usize>,
    inv: &mut Invoice,
) {
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
