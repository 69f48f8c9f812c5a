//! Legal documents (judgments, orders, pleadings): headings, sections and paragraphs anchored
//! to pages; case metadata; cited statutes and cases; an extractive summary.
//!
//! Past 600 lines with its unit tests: the code is 574 lines, the tests beside it 155.

use crate::date::{find_dates, DayMonthOrder};
use crate::layout::{rows, Row};
use crate::{Evidence, Field, FieldScoring, Line, Located};
pub use protocol::documents::legal::{
    Citation, LegalDocument, Paragraph, Party, Section, SummarySentence,
};
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The version written into every legal result (`schemas/legal.v1.schema.json`).
pub const LEGAL_SCHEMA: &str = "legal/1";

/// A statute's name: capitalized words ending in Act/Code/Rules/Regulations with an optional
/// year, or the Constitution.
const STATUTE_NAME: &str = r"(?:[A-Z][A-Za-z()]*\s+){1,6}(?:Act|Code|Rules|Regulations)(?:,?\s+(?:18|19|20)\d{2})?|Code\s+of\s+(?:[A-Z][a-z]+\s+){0,2}[A-Z][a-z]+(?:,?\s+(?:18|19|20)\d{2})?|Constitution(?:\s+of\s+[A-Z][a-z]+)?";

// The patterns are constants proven by the unit tests below.
#[allow(clippy::unwrap_used)]
static CASE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b((?:civil|criminal|crl\.?|writ|special\s+leave|transfer|original|review|first|second)?\s*(?:appeal|petition|suit|case|application|revision|w\.\s?p\.|s\.\s?l\.\s?p\.|o\.\s?s\.|c\.\s?a\.)?\s*(?:\([a-z]+\)\s*)?(?:no|number)s?\.?\s*[:.]?\s*[A-Z]{0,4}[\s\-/]?\d{1,6}\s*(?:of|/|-)\s*(?:19|20)\d{2})",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static COURT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:in\s+the\s+)?((?:[\w'.,]+\s+){0,6}?(?:court|tribunal|commission|forum|bench)\b.*)$")
        .unwrap()
});
#[allow(clippy::unwrap_used)]
static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(.*?\S)?\s*(?:\.{2,}|…+|:|-{2,}|_{2,}|\s)\s*(petitioners?|respondents?|appellants?|plaintiffs?|defendants?|applicants?|complainants?|accused)\s*(?:no\.?\s*\d+)?\s*\.?$",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static VERSUS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*(.+?)\s+(?:v\.|vs\.?|versus)\s+(.+?)\s*$").unwrap());
#[allow(clippy::unwrap_used)]
static JUDGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:hon'?ble\s+)?(?:(?:mr|ms|mrs|dr)\.?\s+)?justice\s+((?:[A-Z]\.\s?)*[A-Z][A-Za-z.'\-]+(?:\s+(?:[A-Z]\.\s?)*[A-Z][A-Za-z.'\-]+){0,3})",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static STATUTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"\b({STATUTE_NAME})")).unwrap());
#[allow(clippy::unwrap_used)]
static SECTION_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b((?:Section|Sections|Article|Articles|Order|Rule)\s+\d+[A-Z]?(?:\(\w+\))*\s+of\s+the\s+(?:{STATUTE_NAME}))"
    ))
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static CASE_CITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b([A-Z][\w.&']*(?:\s+(?:of|the|and|&|for|[A-Z][\w.&']*)){0,6}\s+v(?:s)?\.\s+[A-Z][\w.&']*(?:\s+(?:of|the|and|&|for|[A-Z][\w.&']*)){0,8},?\s*(?:\(\d{4}\)\s*\d+\s+[A-Z][A-Za-z]*\s+\d+|\[\d{4}\]\s*\d*\s*[A-Z][A-Za-z]*\s+\d+|AIR\s+\d{4}\s+[A-Z]+\s+\d+|\d{4}\s+[A-Z]+\s+\d+))",
    )
    .unwrap()
});
#[allow(clippy::unwrap_used)]
static PAGE_FURNITURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^-\s*\d{1,4}\s*-$").unwrap()
});
#[allow(clippy::unwrap_used)]
static NUMBERED_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[IVXLC]+\.|[A-Z]\.|\d{1,2}\.|PART\s+[IVX\d]+|CHAPTER\s+[IVX\d]+)\s+\S")
        .unwrap()
});

const HEADING_WORDS: &[&str] = &[
    "judgment",
    "judgement",
    "order",
    "facts",
    "background",
    "issues",
    "issue",
    "submissions",
    "arguments",
    "analysis",
    "discussion",
    "findings",
    "conclusion",
    "conclusions",
    "held",
    "decision",
    "relief",
    "prayer",
    "introduction",
    "reasons",
    "costs",
    "disposition",
];

fn is_heading(row: &Row) -> bool {
    let text = row.text();
    let t = text.trim();
    let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
    // a title (`IN THE HIGH COURT …`), a bench (`CORAM: …`) or a label (`BETWEEN:`) is not a
    // section heading
    if letters.len() < 3
        || t.len() > 80
        || t.ends_with([',', ':'])
        || COURT.is_match(t)
        || t.to_lowercase().starts_with("coram")
    {
        return false;
    }
    let upper = letters.iter().all(|c| !c.is_lowercase());
    let first_word = t
        .trim_end_matches([':', '.'])
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    let short = t.split_whitespace().count() <= 8;
    (upper && short && !t.ends_with('.'))
        || (short && NUMBERED_HEADING.is_match(t) && !t.ends_with('.') && upper)
        || (short
            && t.split_whitespace().count() <= 3
            && t.starts_with(char::is_uppercase)
            && !t.ends_with('.')
            && HEADING_WORDS.contains(&first_word.as_str()))
}

fn segment(rows: &[Row]) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut current = Section {
        heading: None,
        page: rows.first().map_or(1, |r| r.page),
        paragraphs: Vec::new(),
    };
    let mut paragraph: Option<Paragraph> = None;
    let mut previous: Option<&Row> = None;
    let flush = |paragraph: &mut Option<Paragraph>, section: &mut Section| {
        if let Some(p) = paragraph.take() {
            section.paragraphs.push(p);
        }
    };
    for row in rows {
        if PAGE_FURNITURE.is_match(row.text().trim()) {
            continue;
        }
        if is_heading(row) {
            flush(&mut paragraph, &mut current);
            if !current.paragraphs.is_empty() {
                sections.push(std::mem::replace(
                    &mut current,
                    Section {
                        heading: None,
                        page: row.page,
                        paragraphs: Vec::new(),
                    },
                ));
            }
            current.heading = Some(row.text().trim().to_string());
            current.page = row.page;
            previous = Some(row);
            continue;
        }
        let starts_new = match (previous, paragraph.as_ref()) {
            (Some(prev), Some(_)) => {
                prev.page != row.page && !row.text().starts_with(char::is_lowercase)
                    || row.top - prev.bottom > 0.8 * row.height()
                    || (row.cells.first().map_or(0.0, |c| c.left)
                        - prev.cells.first().map_or(0.0, |c| c.left))
                        > 2.0 * row.height()
            }
            _ => true,
        };
        if starts_new {
            flush(&mut paragraph, &mut current);
        }
        let p = paragraph.get_or_insert_with(|| Paragraph {
            page: row.page,
            text: String::new(),
            lines: Vec::new(),
        });
        let text = row.text();
        let text = text.trim();
        if p.text.ends_with('-') && text.starts_with(char::is_lowercase) {
            p.text.pop(); // a word hyphenated at the line end
        } else if !p.text.is_empty() {
            p.text.push(' ');
        }
        p.text.push_str(text);
        p.lines.extend(
            row.lines()
                .into_iter()
                .map(|i| u32::try_from(i).unwrap_or(u32::MAX)),
        );
        previous = Some(row);
    }
    flush(&mut paragraph, &mut current);
    // a heading with nothing under it (a signature line at the end) is not a section
    if !current.paragraphs.is_empty() {
        sections.push(current);
    }
    sections
}

fn row_evidence(row: &Row) -> Vec<usize> {
    row.lines()
}

fn role_name(word: &str) -> String {
    let w = word.to_lowercase();
    w.trim_end_matches('s').to_string()
}

fn citations(re: &Regex, group: usize, rows: &[Row], lines: &[Line]) -> Vec<Citation> {
    let mut by_text: Vec<Citation> = Vec::new();
    // a citation may wrap: search each row joined with the next one, and keep matches that
    // start in the row itself
    for (i, row) in rows.iter().enumerate() {
        let own = row.text();
        let joined = match rows.get(i + 1) {
            Some(next) if next.page == row.page => format!("{own} {}", next.text()),
            _ => own.clone(),
        };
        for c in re.captures_iter(&joined) {
            let Some(m) = c.get(group) else { continue };
            if m.start() >= own.len() {
                continue;
            }
            let text = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
            let text = text.strip_prefix("The ").unwrap_or(&text).to_string();
            let ev: Vec<Evidence> = row_evidence(row)
                .into_iter()
                .filter_map(|l| Evidence::of(lines, l))
                .collect();
            match by_text.iter_mut().find(|x| x.text == text) {
                Some(x) => {
                    x.count += 1;
                    if x.evidence.len() < 5 {
                        x.evidence.extend(ev);
                    }
                }
                None => by_text.push(Citation {
                    text,
                    count: 1,
                    evidence: ev,
                }),
            }
        }
    }
    by_text
}

const STOP_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "that", "is", "was", "for", "by", "on", "be", "as",
    "with", "it", "this", "which", "or", "not", "are", "an", "at", "from", "has", "have", "had",
    "been", "he", "she", "they", "his", "her", "their", "its", "would", "should", "shall", "may",
    "any", "such", "said", "no", "also", "there", "these", "were", "we", "our", "upon", "into",
    "under",
];

fn sentences(sections: &[Section]) -> Vec<(String, u32, usize, bool)> {
    let mut out = Vec::new();
    let mut position = 0;
    for section in sections {
        let concluding = section.heading.as_deref().is_some_and(|h| {
            let h = h.to_lowercase();
            [
                "conclusion",
                "held",
                "decision",
                "order",
                "disposition",
                "result",
            ]
            .iter()
            .any(|w| h.contains(w))
        });
        for p in &section.paragraphs {
            let mut start = 0;
            let text = p.text.as_str();
            let bytes: Vec<(usize, char)> = text.char_indices().collect();
            for (k, &(i, c)) in bytes.iter().enumerate() {
                let next_upper = bytes
                    .get(k + 2)
                    .is_none_or(|(_, n)| n.is_uppercase() || n.is_ascii_digit());
                let abbreviation = text[start..i].split_whitespace().last().is_some_and(|w| {
                    w.len() <= 3
                        || ["sec", "vs", "no", "art", "mr", "ms", "dr", "hon'ble", "etc"]
                            .contains(&w.to_lowercase().as_str())
                });
                if (c == '.' || c == '?' || c == '!')
                    && next_upper
                    && !abbreviation
                    && bytes.get(k + 1).is_none_or(|(_, n)| n.is_whitespace())
                {
                    let s = text[start..=i].trim();
                    if s.split_whitespace().count() >= 6 {
                        out.push((s.to_string(), p.page, position, concluding));
                        position += 1;
                    }
                    start = i + 1;
                }
            }
            let rest = text[start..].trim();
            if rest.split_whitespace().count() >= 6 {
                out.push((rest.to_string(), p.page, position, concluding));
                position += 1;
            }
        }
    }
    out
}

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

/// Picks up to `n` sentences: frequent content words of the document, a bonus for the opening
/// and for sentences that state an outcome, in document order.
fn summarize(sections: &[Section], n: usize) -> Vec<SummarySentence> {
    let all = sentences(sections);
    if all.is_empty() {
        return Vec::new();
    }
    let mut freq: HashMap<String, f32> = HashMap::new();
    for (s, ..) in &all {
        for w in words(s) {
            *freq.entry(w).or_default() += 1.0;
        }
    }
    let max = freq.values().copied().fold(1.0, f32::max);
    let outcome = [
        "held",
        "hold",
        "dismissed",
        "allowed",
        "accordingly",
        "conclude",
        "set aside",
        "upheld",
        "quashed",
        "directed",
        "granted",
    ];
    let mut scored: Vec<(f32, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, (s, _, position, concluding))| {
            let ws: Vec<String> = words(s).collect();
            let density = ws
                .iter()
                .map(|w| freq.get(w).copied().unwrap_or(0.0) / max)
                .sum::<f32>()
                / (ws.len() as f32).max(8.0);
            let lower = s.to_lowercase();
            let mut score = density;
            if *position < 3 {
                score += 0.15;
            }
            if *concluding {
                score += 0.15;
            }
            if outcome.iter().any(|w| lower.contains(w)) {
                score += 0.2;
            }
            (score, i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top = scored.first().map_or(1.0, |s| s.0).max(f32::EPSILON);
    let mut chosen: Vec<(f32, usize)> = scored.into_iter().take(n).collect();
    chosen.sort_by_key(|c| c.1);
    chosen
        .into_iter()
        .map(|(score, i)| SummarySentence {
            text: all[i].0.clone(),
            page: all[i].1,
            score: score / top,
        })
        .collect()
}

/// Extracts a legal document from the lines of all its pages.
pub fn extract_legal(lines: &[Line], page_count: u32, day_month: DayMonthOrder) -> LegalDocument {
    let rows = rows(lines);
    let mut doc = LegalDocument {
        schema: LEGAL_SCHEMA.into(),
        page_count,
        case_number: Field::default(),
        court: Field::default(),
        parties: Vec::new(),
        judges: Vec::new(),
        filed: Field::default(),
        heard: Field::default(),
        decided: Field::default(),
        statutes: Vec::new(),
        cited_cases: Vec::new(),
        sections: Vec::new(),
        summary: Vec::new(),
    };
    let first_page = rows.first().map_or(1, |r| r.page);
    let head: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].page == first_page)
        .take(40)
        .collect();
    for &i in &head {
        let text = rows[i].text();
        if !doc.court.is_found() {
            if let Some(m) = COURT.captures(&text).and_then(|c| c.get(1)) {
                let name = m
                    .as_str()
                    .trim()
                    .trim_end_matches([',', '.', ':'])
                    .to_string();
                if name.split_whitespace().count() >= 2
                    && !text.to_lowercase().contains("before this")
                {
                    doc.court = Field::found(
                        name.clone(),
                        text.trim(),
                        lines,
                        &row_evidence(&rows[i]),
                        Located::Inferred,
                    );
                }
            }
        }
        if !doc.case_number.is_found() {
            if let Some(m) = CASE_NUMBER.captures(&text).and_then(|c| c.get(1)) {
                let value = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
                doc.case_number = Field::found(
                    value.clone(),
                    value,
                    lines,
                    &row_evidence(&rows[i]),
                    Located::Labelled,
                );
            }
        }
        if let Some(c) = ROLE.captures(&text) {
            let Some(role) = c.get(2) else {
                continue;
            };
            let name = c.get(1).map_or("", |m| m.as_str());
            let mut name_text = name
                .trim()
                .trim_end_matches(['…', ',', '_', '-'])
                .trim()
                .to_string();
            let mut evidence = row_evidence(&rows[i]);
            if name_text.chars().filter(|c| c.is_alphabetic()).count() < 3 && i > 0 {
                // `... Petitioner` on its own row names the party on the row above
                name_text = rows[i - 1].text().trim().to_string();
                evidence = row_evidence(&rows[i - 1]);
            }
            let name_text = name_text
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ')')
                .trim()
                .to_string();
            if name_text.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
                doc.parties.push(Party {
                    role: role_name(role.as_str()),
                    name: Field::found(
                        name_text.clone(),
                        name_text,
                        lines,
                        &evidence,
                        Located::Labelled,
                    ),
                });
            }
        }
    }
    if doc.parties.is_empty() {
        for &i in &head {
            let text = rows[i].text();
            if let Some(c) = VERSUS.captures(&text) {
                if let (Some(a), Some(b)) = (c.get(1), c.get(2)) {
                    for name in [a.as_str(), b.as_str()] {
                        let name = name.trim().to_string();
                        doc.parties.push(Party {
                            role: "party".into(),
                            name: Field::found(
                                name.clone(),
                                name,
                                lines,
                                &row_evidence(&rows[i]),
                                Located::Inferred,
                            ),
                        });
                    }
                    break;
                }
            }
        }
    }
    for row in &rows {
        let text = row.text();
        for c in JUDGE.captures_iter(&text) {
            if let Some(m) = c.get(1) {
                let name = m.as_str().trim().trim_end_matches(['.', ',']).to_string();
                if !doc
                    .judges
                    .iter()
                    .any(|j| j.value.as_deref() == Some(name.as_str()))
                {
                    doc.judges.push(Field::found(
                        name.clone(),
                        name,
                        lines,
                        &row_evidence(row),
                        Located::Labelled,
                    ));
                }
            }
        }
        let lower = text.to_lowercase();
        for found in find_dates(&text, day_month) {
            let before = &lower[..found.span.start.min(lower.len())];
            let slot = if before.contains("filed")
                || before.contains("filing")
                || before.contains("instituted")
            {
                &mut doc.filed
            } else if before.contains("heard")
                || before.contains("hearing")
                || before.contains("reserved")
                || before.contains("argued")
            {
                &mut doc.heard
            } else if before.contains("decided")
                || before.contains("decision")
                || before.contains("pronounced")
                || before.contains("delivered")
                || before.contains("dated")
                || before.contains("date of judgment")
                || before.contains("date of order")
            {
                &mut doc.decided
            } else {
                continue;
            };
            if !slot.is_found() {
                *slot = Field::found(
                    found.value.clone(),
                    found.printed.clone(),
                    lines,
                    &row_evidence(row),
                    Located::Labelled,
                );
            }
        }
    }
    doc.statutes = citations(&STATUTE, 1, &rows, lines);
    for mut section_ref in citations(&SECTION_REF, 1, &rows, lines) {
        section_ref.text = section_ref.text.trim().to_string();
        doc.statutes.push(section_ref);
    }
    doc.cited_cases = citations(&CASE_CITE, 1, &rows, lines);
    doc.sections = segment(&rows);
    doc.summary = summarize(&doc.sections, 5);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::line;

    fn judgment() -> Vec<Line> {
        let texts: &[(u32, &str)] = &[
            (1, "IN THE HIGH COURT OF DELHI AT NEW DELHI"),
            (1, "W.P.(C) No. 1234 of 2021"),
            (1, "RAMESH KUMAR ..... Petitioner"),
            (1, "versus"),
            (1, "UNION OF INDIA & ORS. ..... Respondents"),
            (1, "CORAM: HON'BLE MR. JUSTICE A. K. SHARMA"),
            (1, "Date of filing: 12.03.2021"),
            (1, "Reserved on: 05.01.2022"),
            (1, "Pronounced on: 14.02.2022"),
            (1, "JUDGMENT"),
            (
                1,
                "The petitioner challenges the order of the competent authority dated 1 January",
            ),
            (
                1,
                "2021 which cancelled his licence under Section 10 of the Arms Act, 1959 without",
            ),
            (1, "any notice or hearing of the petitioner in the matter."),
            (2, "FINDINGS"),
            (
                2,
                "Reliance was placed on Maneka Gandhi v. Union of India, (1978) 1 SCC 248 and the",
            ),
            (
                2,
                "requirements of natural justice under Article 21 of the Constitution of India.",
            ),
            (2, "CONCLUSION"),
            (
                2,
                "We hold that the cancellation without a hearing is bad in law and the petition is",
            ),
            (2, "accordingly allowed with no order as to costs."),
        ];
        let mut y = 0.0;
        let mut page = 1;
        texts
            .iter()
            .map(|&(p, t)| {
                if p != page {
                    page = p;
                    y = 0.0;
                }
                y += if t.chars().all(|c| !c.is_lowercase()) {
                    40.0
                } else {
                    22.0
                };
                line(p, 40.0, y, 600.0, t)
            })
            .collect()
    }

    #[test]
    fn metadata_of_a_judgment() {
        let lines = judgment();
        let doc = extract_legal(&lines, 2, DayMonthOrder::DayFirst);
        assert_eq!(
            doc.court.value.as_deref(),
            Some("HIGH COURT OF DELHI AT NEW DELHI")
        );
        assert_eq!(
            doc.case_number.value.as_deref(),
            Some("W.P.(C) No. 1234 of 2021")
        );
        let parties: Vec<(&str, &str)> = doc
            .parties
            .iter()
            .map(|p| (p.role.as_str(), p.name.value.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            parties,
            [
                ("petitioner", "RAMESH KUMAR"),
                ("respondent", "UNION OF INDIA & ORS.")
            ]
        );
        assert_eq!(doc.judges[0].value.as_deref(), Some("A. K. SHARMA"));
        assert_eq!(
            doc.filed.value.as_ref().map(|d| d.iso.as_str()),
            Some("2021-03-12")
        );
        assert_eq!(
            doc.heard.value.as_ref().map(|d| d.iso.as_str()),
            Some("2022-01-05")
        );
        assert_eq!(
            doc.decided.value.as_ref().map(|d| d.iso.as_str()),
            Some("2022-02-14")
        );
        assert_eq!(doc.decided.evidence[0].page, 1);
    }

    #[test]
    fn citations_and_sections() {
        let lines = judgment();
        let doc = extract_legal(&lines, 2, DayMonthOrder::DayFirst);
        let statutes: Vec<&str> = doc.statutes.iter().map(|s| s.text.as_str()).collect();
        assert!(statutes.contains(&"Arms Act, 1959"), "{statutes:?}");
        assert!(
            statutes.contains(&"Section 10 of the Arms Act, 1959"),
            "{statutes:?}"
        );
        assert!(statutes.contains(&"Constitution of India"), "{statutes:?}");
        assert!(
            statutes.contains(&"Article 21 of the Constitution of India"),
            "{statutes:?}"
        );
        assert_eq!(doc.cited_cases.len(), 1, "{:?}", doc.cited_cases);
        assert_eq!(
            doc.cited_cases[0].text,
            "Maneka Gandhi v. Union of India, (1978) 1 SCC 248"
        );
        assert_eq!(doc.cited_cases[0].evidence[0].page, 2);
        let headings: Vec<Option<&str>> =
            doc.sections.iter().map(|s| s.heading.as_deref()).collect();
        assert!(headings.contains(&Some("JUDGMENT")), "{headings:?}");
        assert!(headings.contains(&Some("CONCLUSION")));
        let conclusion = doc
            .sections
            .iter()
            .find(|s| s.heading.as_deref() == Some("CONCLUSION"));
        assert_eq!(conclusion.map(|s| s.page), Some(2));
        assert!(conclusion.is_some_and(|s| s.paragraphs[0].text.ends_with("no order as to costs.")));
    }

    #[test]
    fn the_summary_takes_the_outcome() {
        let lines = judgment();
        let doc = extract_legal(&lines, 2, DayMonthOrder::DayFirst);
        assert!(!doc.summary.is_empty() && doc.summary.len() <= 5);
        assert!(
            doc.summary
                .iter()
                .any(|s| s.text.starts_with("We hold that") && s.page == 2),
            "{:?}",
            doc.summary
        );
    }

    #[test]
    fn an_empty_document_gives_an_empty_result() {
        let doc = extract_legal(&[], 0, DayMonthOrder::DayFirst);
        assert!(doc.sections.is_empty() && doc.summary.is_empty() && !doc.court.is_found());
    }
}
