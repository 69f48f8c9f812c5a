//! Key-information extraction on SROIE receipts, scored with the ICDAR 2019 Task 3 protocol:
//! company, date, address and total; a field counts when it equals the label exactly after
//! trimming whitespace; precision, recall and F1 per field and over all fields. Beside it, the
//! *product* match: company and address equal after upper-casing and dropping whitespace and
//! punctuation, the total equal as a number (whatever the currency mark or separators), the
//! date equal as a calendar date — what a person using the result would call right.
//!
//! `cargo run --release -p extract --example sroie_eval -- SROIE_DIR [--ocr OCR.jsonl] [--misses]`
//!
//! Without `--ocr`, the receipts' own transcriptions (`box/*.csv`) are the input: that measures
//! the extraction alone. With `--ocr`, the lines come from the station's OCR
//! (`cargo run --release -p engine --example ocr_eval -- SROIE_DIR/img > OCR.jsonl`): that is
//! the offline pipeline end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use extract::amount::find_amounts;
use extract::date::{find_dates, DayMonthOrder};
use extract::invoice::{extract_invoice, Invoice, InvoiceOptions};
use extract::Line;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const FIELDS: [&str; 4] = ["company", "date", "address", "total"];

fn ground_truth_lines(csv: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(csv).unwrap_or_default();
    text.lines()
        .filter_map(|row| {
            let parts: Vec<&str> = row.splitn(9, ',').collect();
            if parts.len() < 9 {
                return None;
            }
            let n: Vec<f32> = parts[..8]
                .iter()
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            if n.len() != 8 {
                return None;
            }
            Some(Line {
                page: 1,
                polygon: [[n[0], n[1]], [n[2], n[3]], [n[4], n[5]], [n[6], n[7]]],
                text: parts[8].to_string(),
                confidence: 1.0,
            })
        })
        .collect()
}

/// The lines of each image, and the CPUs the OCR ran on (ocr_eval records its CPU per image:
/// the int8 detector's kernels depend on it).
fn ocr_lines(jsonl: &Path) -> (HashMap<String, Vec<Line>>, BTreeSet<String>) {
    let text = std::fs::read_to_string(jsonl).expect("read the OCR JSONL");
    let mut out = HashMap::new();
    let mut cpus = BTreeSet::new();
    for row in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(row).expect("a JSON line");
        cpus.insert(v["cpu"].as_str().unwrap_or("CPU not recorded").to_string());
        let Some(image) = v["image"].as_str() else {
            continue;
        };
        let stem = Path::new(image)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let lines = v["lines"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| {
                        let b = l["box"].as_array()?;
                        let p = |i: usize, j: usize| b.get(i)?.get(j)?.as_f64().map(|x| x as f32);
                        Some(Line {
                            page: 1,
                            polygon: [
                                [p(0, 0)?, p(0, 1)?],
                                [p(1, 0)?, p(1, 1)?],
                                [p(2, 0)?, p(2, 1)?],
                                [p(3, 0)?, p(3, 1)?],
                            ],
                            text: l["text"].as_str()?.to_string(),
                            confidence: l["score"].as_f64().unwrap_or(1.0) as f32,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(stem, lines);
    }
    (out, cpus)
}

/// Whether a label can be produced by copying text from the input lines at all: it equals
/// one to seven consecutive lines joined by spaces, or (company, date, total) lies inside
/// them. SROIE's address labels often differ from the dataset's own transcription of the
/// same print (spacing, punctuation, typos), so this bounds what any extractor that copies
/// printed text can score.
fn reachable(field: &str, want: &str, lines: &[Line]) -> bool {
    let texts: Vec<&str> = lines.iter().map(|l| l.text.trim()).collect();
    (0..texts.len()).any(|i| {
        (i + 1..=texts.len().min(i + 7)).any(|j| {
            let joined = texts[i..j].join(" ");
            joined == want || field != "address" && joined.contains(want)
        })
    })
}

/// Letters and digits only, upper-cased: `Sdn. Bhd.` and `SDN BHD` are one name.
fn text_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether the extracted field means what the label means (see the module comment).
fn product_match(field: &str, want: &str, inv: &Invoice) -> bool {
    match field {
        "company" => inv
            .seller
            .printed
            .as_deref()
            .is_some_and(|g| !text_key(g).is_empty() && text_key(g) == text_key(want)),
        "address" => inv
            .seller_address
            .printed
            .as_deref()
            .is_some_and(|g| !text_key(g).is_empty() && text_key(g) == text_key(want)),
        "total" => match (inv.total.value.as_ref(), find_amounts(want).last()) {
            (Some(got), Some(label)) => got.0 == label.value,
            _ => false,
        },
        "date" => match (
            inv.date.value.as_ref(),
            find_dates(want, DayMonthOrder::DayFirst).first(),
        ) {
            (Some(got), Some(label)) => *got == label.value,
            _ => false,
        },
        _ => false,
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    predicted: u32,
    expected: u32,
    correct: u32,
}

impl Tally {
    fn prf(self) -> (f64, f64, f64) {
        let p = f64::from(self.correct) / f64::from(self.predicted.max(1));
        let r = f64::from(self.correct) / f64::from(self.expected.max(1));
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let mut ocr: Option<PathBuf> = None;
    let mut misses = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ocr" => ocr = args.next().map(PathBuf::from),
            "--misses" => misses = true,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.expect("usage: sroie_eval SROIE_DIR [--ocr OCR.jsonl] [--misses]");
    let (ocr, ocr_cpus) = match ocr.map(|p| ocr_lines(&p)) {
        Some((lines, cpus)) => (Some(lines), cpus),
        None => (None, BTreeSet::new()),
    };
    let mut keys: Vec<PathBuf> = std::fs::read_dir(dir.join("key"))
        .expect("SROIE_DIR/key")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    keys.sort();
    let mut ceiling: HashMap<&str, u32> = HashMap::new();
    let mut exact: HashMap<&str, Tally> = HashMap::new();
    let mut folded: HashMap<&str, Tally> = HashMap::new();
    let mut product: HashMap<&str, Tally> = HashMap::new();
    let started = std::time::Instant::now();
    for key in &keys {
        let stem = key.file_stem().unwrap().to_string_lossy().to_string();
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(key).unwrap()).unwrap();
        let lines = match &ocr {
            Some(map) => map.get(&stem).cloned().unwrap_or_default(),
            None => ground_truth_lines(&dir.join("box").join(format!("{stem}.csv"))),
        };
        if std::env::var("SROIE_DEBUG").is_ok_and(|d| d == stem) {
            for row in extract::layout::rows(&lines) {
                println!("{:>6.0}-{:<6.0} {:?}", row.top, row.bottom, row.text());
            }
        }
        let inv = extract_invoice(&lines, &InvoiceOptions::default());
        let predicted = [
            inv.seller.printed.clone(),
            inv.date.printed.clone(),
            inv.seller_address.printed.clone(),
            inv.total.printed.clone(),
        ];
        for (field, got) in FIELDS.iter().zip(predicted) {
            let want = truth[*field].as_str().unwrap_or("").trim().to_string();
            let got = got.unwrap_or_default().trim().to_string();
            *ceiling.entry(field).or_default() +=
                u32::from(!want.is_empty() && reachable(field, &want, &lines));
            for (tallies, fold) in [(&mut exact, false), (&mut folded, true)] {
                let t = tallies.entry(field).or_default();
                let norm = |s: &str| {
                    if fold {
                        s.to_uppercase()
                    } else {
                        s.to_string()
                    }
                };
                t.predicted += u32::from(!got.is_empty());
                t.expected += u32::from(!want.is_empty());
                t.correct += u32::from(!got.is_empty() && norm(&got) == norm(&want));
            }
            let t = product.entry(field).or_default();
            t.predicted += u32::from(!got.is_empty());
            t.expected += u32::from(!want.is_empty());
            let right = !got.is_empty() && product_match(field, &want, &inv);
            t.correct += u32::from(right);
            if misses && !right {
                let evidence: Vec<String> = match *field {
                    "total" => inv
                        .total
                        .evidence
                        .iter()
                        .map(|e| format!("{}@{:.0}", e.text, e.polygon[0][1]))
                        .collect(),
                    "date" => inv.date.evidence.iter().map(|e| e.text.clone()).collect(),
                    _ => Vec::new(),
                };
                println!("{stem} {field}: got {got:?}, want {want:?} {evidence:?}");
            }
        }
    }
    let source = if ocr.is_some() {
        format!(
            "station OCR on {}",
            ocr_cpus.into_iter().collect::<Vec<_>>().join(" + ")
        )
    } else {
        "ground-truth transcriptions".to_string()
    };
    println!(
        "SROIE key fields, {} receipts, input: {source}, {:.1} ms per receipt (extraction only)",
        keys.len(),
        started.elapsed().as_secs_f64() * 1000.0 / keys.len().max(1) as f64
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9}   {:>9} (ignoring case)   {:>9} (labels reachable by copying input lines)   {:>9} {:>9} {:>9} (product match)",
        "field", "precision", "recall", "F1", "F1", "ceiling", "precision", "recall", "F1"
    );
    let mut reachable_total = 0;
    let mut all = Tally::default();
    let mut all_folded = Tally::default();
    let mut all_product = Tally::default();
    for field in FIELDS {
        let t = exact[field];
        let tf = folded[field];
        let (p, r, f) = t.prf();
        let reach = ceiling.get(field).copied().unwrap_or(0);
        reachable_total += reach;
        let tp = product[field];
        let (pp, pr, pf) = tp.prf();
        println!(
            "{field:<10} {p:>9.3} {r:>9.3} {f:>9.3}   {:>9.3}   {:>9.3}   {pp:>9.3} {pr:>9.3} {pf:>9.3}",
            tf.prf().2,
            f64::from(reach) / f64::from(t.expected.max(1))
        );
        all_product.predicted += tp.predicted;
        all_product.expected += tp.expected;
        all_product.correct += tp.correct;
        all.predicted += t.predicted;
        all.expected += t.expected;
        all.correct += t.correct;
        all_folded.predicted += tf.predicted;
        all_folded.expected += tf.expected;
        all_folded.correct += tf.correct;
    }
    let (p, r, f) = all.prf();
    let (pp, pr, pf) = all_product.prf();
    println!(
        "{:<10} {p:>9.3} {r:>9.3} {f:>9.3}   {:>9.3}   {:>9.3}   {pp:>9.3} {pr:>9.3} {pf:>9.3}",
        "overall",
        all_folded.prf().2,
        f64::from(reachable_total) / f64::from(all.expected.max(1))
    );
}
