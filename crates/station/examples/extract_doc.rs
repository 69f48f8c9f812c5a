//! Imports files into a scratch data directory and prints each one's extracted result as JSON:
//! `cargo run -p station --example extract_doc -- [--kind invoice|legal] FILE...`
//! The CPU goes to stderr first: a scan's fields come from OCR, whose int8 detector runs
//! kernels that depend on it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use protocol::DocumentKind;
use station::{NoProgress, Station};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut kind = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--kind" => {
                kind = match args.next().as_deref() {
                    Some("legal") => Some(DocumentKind::Legal),
                    _ => Some(DocumentKind::Invoice),
                }
            }
            _ => files.push(std::path::PathBuf::from(a)),
        }
    }
    eprintln!("CPU: {}", engine::cpu::CpuInfo::detect());
    let dir = tempfile::tempdir().unwrap();
    let station = Station::open(dir.path()).await.unwrap();
    for file in files {
        let outcome = station.imports().import_one(&file).await;
        let Some(id) = outcome.item_id() else {
            println!("{}: not imported: {outcome:?}", file.display());
            continue;
        };
        if std::env::var_os("EXTRACT_DEBUG").is_some() {
            let page = station.analysis().read_text(id, 1, false).await.unwrap();
            let lines: Vec<extract::Line> = page
                .lines
                .iter()
                .map(|l| extract::Line {
                    page: 1,
                    polygon: l.polygon,
                    text: l.text.clone(),
                    confidence: l.confidence,
                })
                .collect();
            for row in extract::layout::rows(&lines) {
                let cells: Vec<String> = row
                    .cells
                    .iter()
                    .map(|c| format!("{}@{:.0}", c.text, c.left))
                    .collect();
                println!("{:>5.0} {cells:?}", row.top);
            }
        }
        let (job, _) = station.new_job();
        match station
            .documents()
            .extract_document(job, id, kind, &NoProgress)
            .await
        {
            Ok(result) => println!("{}", serde_json::to_string_pretty(&result).unwrap()),
            Err(e) => println!("{}: {e}", file.display()),
        }
    }
}
