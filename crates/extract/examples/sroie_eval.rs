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
//!
//! Then a reliability table: per field, how many right and wrong results the default routing
//! policy (`config/policy.toml`, as the station routes) would accept and how many it would send
//! to review (confidence under the field's threshold, or a failed check).
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

/// Whether the label can be produced at all under the product match from the input lines: its
/// letters and digits lie inside one to seven consecutive lines (company, address), or one line
/// holds its amount (total) or calendar date (date). Generous on purpose — an upper bound on the
/// product score of any extractor that reads these lines, labels' typos included.
fn product_reachable(field: &str, want: &str, lines: &[Line]) -> bool {
    let texts: Vec<&str> = lines.iter().map(|l| l.text.trim()).collect();
    match field {
        "total" => find_amounts(want).last().is_some_and(|label| {
            texts
                .iter()
                .any(|t| find_amounts(t).iter().any(|a| a.value == label.value))
        }),
        "date" => label_date(want).is_some_and(|label| {
            texts.iter().any(|t| {
                find_dates(t, DayMonthOrder::DayFirst)
                    .iter()
                    .any(|d| d.value.iso == label)
            })
        }),
        _ => {
            let key = text_key(want);
            !key.is_empty()
                && (0..texts.len()).any(|i| {
                    (i + 1..=texts.len().min(i + 7))
                        .any(|j| text_key(&texts[i..j].join(" ")).contains(&key))
                })
        }
    }
}

/// A date label as an ISO date: as printed on receipts, or compact (`20180304`, how a few
/// SROIE labels write it).
fn label_date(want: &str) -> Option<String> {
    if let Some(d) = find_dates(want, DayMonthOrder::DayFirst).first() {
        return Some(d.value.iso.clone());
    }
    let w = want.trim();
    (w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit()) && w.starts_with("20"))
        .then(|| format!("{}-{}-{}", &w[..4], &w[4..6], &w[6..]))
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
        "date" => match (inv.date.value.as_ref(), label_date(want)) {
            (Some(got), Some(label)) => got.iso == label,
            _ => false,
        },
        _ => false,
    }
}

/// The result's field a SROIE key is compared with, by its name in the invoice schema.
fn schema_field(key: &str) -> &'static str {
    match key {
        "company" => "seller",
        "address" => "seller_address",
        "date" => "date",
        _ => "total",
    }
}

/// Whether the policy sends a result with this field to review because of the field itself.
fn routed(policy: &review::Policy, inv: &serde_json::Value, field: &str) -> bool {
    let f = &inv[field];
    let confidence = f["confidence"].as_f64().unwrap_or(0.0);
    let checks_passed = f["checks"]
        .as_array()
        .is_none_or(|c| c.iter().all(|c| c["passed"].as_bool() != Some(false)));
    let score = review::FieldScore {
        name: field.to_string(),
        confidence,
        checks_passed,
    };
    let route = policy.route(protocol::ResultKind::Invoice, &[score], None, "");
    route.reasons.iter().any(|r| {
        matches!(
            r,
            protocol::RoutingReason::LowConfidence | protocol::RoutingReason::ValidationFailed
        )
    })
}

/// Right and wrong results, accepted or routed to review.
#[derive(Default, Clone, Copy)]
struct Reliability {
    right_accepted: u32,
    right_routed: u32,
    wrong_accepted: u32,
    wrong_routed: u32,
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
    let mut product_ceiling: HashMap<&str, u32> = HashMap::new();
    let mut exact: HashMap<&str, Tally> = HashMap::new();
    let mut folded: HashMap<&str, Tally> = HashMap::new();
    let mut product: HashMap<&str, Tally> = HashMap::new();
    let mut unlabelled: HashMap<&str, u32> = HashMap::new();
    let policy_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/policy.toml");
    let policy = review::Policy::from_toml(&std::fs::read_to_string(&policy_path).unwrap())
        .expect("config/policy.toml");
    let mut reliability: HashMap<&str, Reliability> = HashMap::new();
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
        let inv_json = serde_json::to_value(&inv).unwrap();
        if std::env::var("SROIE_DEBUG").is_ok_and(|d| d == stem) {
            for key in ["subtotal", "taxes", "rounding", "total", "checks"] {
                println!("{key}: {}", inv_json[key]);
            }
        }
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
            *product_ceiling.entry(field).or_default() +=
                u32::from(!want.is_empty() && product_reachable(field, &want, &lines));
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
            // An empty label is an annotation left out (receipt 033 prints `NETT TOTAL: $8.20`
            // under an empty total): the product match cannot call an answer to it right or
            // wrong, so it scores neither; the ICDAR score counts it as the protocol does
            if want.is_empty() {
                *unlabelled.entry(field).or_default() += 1;
                continue;
            }
            let t = product.entry(field).or_default();
            t.predicted += u32::from(!got.is_empty());
            t.expected += 1;
            let right = !got.is_empty() && product_match(field, &want, &inv);
            t.correct += u32::from(right);
            if std::env::var_os("SROIE_CONFIDENCES").is_some() && !got.is_empty() {
                let f = &inv_json[schema_field(field)];
                let failed: Vec<String> = f["checks"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter(|c| c["passed"].as_bool() == Some(false))
                            .map(|c| format!("{} ({})", c["name"], c["detail"]))
                            .collect()
                    })
                    .unwrap_or_default();
                let recognition: Vec<f32> = f["evidence"]
                    .as_array()
                    .map(|e| {
                        e.iter()
                            .filter_map(|e| e["line"].as_u64())
                            .filter_map(|i| lines.get(i as usize))
                            .map(|l| l.confidence)
                            .collect()
                    })
                    .unwrap_or_default();
                eprintln!(
                    "conf\t{stem}\t{field}\t{right}\t{:.3}\t{}\t{recognition:?}",
                    f["confidence"].as_f64().unwrap_or(0.0),
                    failed.join(",")
                );
            }
            if !got.is_empty() {
                let r = reliability.entry(field).or_default();
                match (right, routed(&policy, &inv_json, schema_field(field))) {
                    (true, false) => r.right_accepted += 1,
                    (true, true) => r.right_routed += 1,
                    (false, false) => r.wrong_accepted += 1,
                    (false, true) => r.wrong_routed += 1,
                }
            }
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
        "{:<10} {:>9} {:>9} {:>9}   {:>9} (ignoring case)   {:>9} (labels reachable by copying input lines)   {:>9} {:>9} {:>9} (product match)   {:>9} (product ceiling)",
        "field", "precision", "recall", "F1", "F1", "ceiling", "precision", "recall", "F1", "ceiling"
    );
    let mut reachable_total = 0;
    let mut product_reachable_total = 0;
    let mut all = Tally::default();
    let mut all_folded = Tally::default();
    let mut all_product = Tally::default();
    for field in FIELDS {
        let t = exact[field];
        let tf = folded[field];
        let (p, r, f) = t.prf();
        let reach = ceiling.get(field).copied().unwrap_or(0);
        reachable_total += reach;
        let product_reach = product_ceiling.get(field).copied().unwrap_or(0);
        product_reachable_total += product_reach;
        let tp = product.get(field).copied().unwrap_or_default();
        let (pp, pr, pf) = tp.prf();
        println!(
            "{field:<10} {p:>9.3} {r:>9.3} {f:>9.3}   {:>9.3}   {:>9.3}   {pp:>9.3} {pr:>9.3} {pf:>9.3}   {:>9.3}",
            tf.prf().2,
            f64::from(reach) / f64::from(t.expected.max(1)),
            f64::from(product_reach) / f64::from(t.expected.max(1))
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
        "{:<10} {p:>9.3} {r:>9.3} {f:>9.3}   {:>9.3}   {:>9.3}   {pp:>9.3} {pr:>9.3} {pf:>9.3}   {:>9.3}",
        "overall",
        all_folded.prf().2,
        f64::from(reachable_total) / f64::from(all.expected.max(1)),
        f64::from(product_reachable_total) / f64::from(all.expected.max(1))
    );
    println!(
        "product match overall: {} right of {} labelled fields, {} answered (F1 {pf:.4})",
        all_product.correct, all_product.expected, all_product.predicted
    );
    let unlabelled: Vec<String> = FIELDS
        .iter()
        .filter_map(|f| unlabelled.get(f).map(|n| format!("{n} {f}")))
        .collect();
    if !unlabelled.is_empty() {
        println!(
            "unlabelled (empty label): {}; the ICDAR columns count an answer there as wrong, the product columns skip it",
            unlabelled.join(", ")
        );
    }
    println!();
    println!(
        "Reliability (product match) under the default policy, {}: per field found, right or wrong, accepted or routed to review",
        policy_path.display()
    );
    println!(
        "{:<10} {:>9} {:>14} {:>14} {:>14} {:>14} {:>18} {:>18}",
        "field",
        "threshold",
        "right accepted",
        "right routed",
        "wrong accepted",
        "wrong routed",
        "right accepted %",
        "wrong routed %"
    );
    let mut all = Reliability::default();
    let pct = |a: u32, b: u32| 100.0 * f64::from(a) / f64::from((a + b).max(1));
    for field in FIELDS {
        let r = reliability.get(field).copied().unwrap_or_default();
        let k = policy.kind(protocol::ResultKind::Invoice);
        let threshold = k
            .fields
            .get(schema_field(field))
            .copied()
            .unwrap_or(k.default);
        println!(
            "{field:<10} {threshold:>9.2} {:>14} {:>14} {:>14} {:>14} {:>17.1}% {:>17.1}%",
            r.right_accepted,
            r.right_routed,
            r.wrong_accepted,
            r.wrong_routed,
            pct(r.right_accepted, r.right_routed),
            pct(r.wrong_routed, r.wrong_accepted)
        );
        all.right_accepted += r.right_accepted;
        all.right_routed += r.right_routed;
        all.wrong_accepted += r.wrong_accepted;
        all.wrong_routed += r.wrong_routed;
    }
    println!(
        "{:<10} {:>9} {:>14} {:>14} {:>14} {:>14} {:>17.1}% {:>17.1}%   (targets: right accepted >= 70 %, wrong routed >= 90 %)",
        "all",
        "",
        all.right_accepted,
        all.right_routed,
        all.wrong_accepted,
        all.wrong_routed,
        pct(all.right_accepted, all.right_routed),
        pct(all.wrong_routed, all.wrong_accepted)
    );
}
