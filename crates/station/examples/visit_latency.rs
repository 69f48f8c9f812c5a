//! How fast a photo landing in a visit's watched folder gets its verdicts: copies each photo
//! of `PHOTOS_DIR` (recursively, one at a time, as a phone sync would) into the watched
//! folder of a fresh visit and measures from the end of the copy to the photo's quality and
//! category verdicts arriving. Prints p50 / p95 / max and the split of states.
//!
//! `cargo run --release -p station --example visit_latency -- REFERENCES_DIR PHOTOS_DIR [N]`
//!
//! `REFERENCES_DIR` holds one folder of reference photos per category (e.g.
//! `tests/fixtures/grocery/references`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use station::{FolderState, Station, VisitPhoto, VisitSink};

#[derive(Default)]
struct Arrivals(Mutex<Vec<(Instant, VisitPhoto)>>);

impl VisitSink for Arrivals {
    fn photo(&self, _: i64, photo: &VisitPhoto) {
        self.0.lock().unwrap().push((Instant::now(), photo.clone()));
    }
    fn folder(&self, _: i64, _: &FolderState) {}
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let refs = std::fs::canonicalize(args.next().expect("REFERENCES_DIR")).unwrap();
    let photos_dir = PathBuf::from(args.next().expect("PHOTOS_DIR"));
    let limit: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(50);
    let mut categories: Vec<String> = std::fs::read_dir(&refs)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    categories.sort();
    let data = tempfile::tempdir().unwrap();
    let card = tempfile::tempdir().unwrap();
    let mut config = String::from("[[store]]\nid = 'bench'\nname = 'Bench'\n");
    for c in &categories {
        config.push_str(&format!(
            "[[store.category]]\nname = '{c}'\nreferences = '{}'\n[[store.shot]]\nname = '{c}'\ncategory = '{c}'\n",
            refs.join(c).display()
        ));
    }
    std::fs::write(data.path().join("stores.toml"), config).unwrap();
    let station = Station::open(data.path()).await.unwrap();
    let visit = station
        .visits()
        .start_visit("bench", "bench", Some(card.path()))
        .await
        .unwrap();
    let arrivals = Arc::new(Arrivals::default());
    station
        .visits()
        .watch_visit(visit.id, arrivals.clone())
        .await
        .unwrap();
    // the watch loads the engine and the categories before taking photos
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut photos: Vec<PathBuf> = walk(&photos_dir);
    photos.sort();
    photos.truncate(limit);
    let mut latencies = Vec::new();
    for (i, photo) in photos.iter().enumerate() {
        let bytes = std::fs::read(photo).unwrap();
        let dest = card.path().join(format!("IMG_{i:04}.jpg"));
        std::fs::write(&dest, &bytes).unwrap();
        let copied = Instant::now();
        let deadline = copied + Duration::from_secs(30);
        loop {
            let got = arrivals.0.lock().unwrap().len();
            if got > i || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if let Some((at, _)) = arrivals.0.lock().unwrap().get(i) {
            latencies.push(at.duration_since(copied).as_secs_f64() * 1000.0);
        }
    }
    if std::env::var_os("VISIT_DEBUG").is_some() {
        let arrived: Vec<VisitPhoto> = arrivals
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, p)| p.clone())
            .take(5)
            .collect();
        for p in arrived {
            let c = station
                .analysis()
                .latest_category(p.item_id.unwrap())
                .await
                .unwrap();
            println!(
                "{} {:?} {:?} {:?}",
                p.file_name,
                p.state,
                p.reasons,
                c.map(|c| (c.verdict.similarity, c.verdict.scores, c.verdict.thresholds))
            );
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let arrived: Vec<(Instant, VisitPhoto)> = arrivals.0.lock().unwrap().clone();
    let count = |s: station::PhotoState| arrived.iter().filter(|(_, p)| p.state == s).count();
    println!(
        "{} photos from {}: copy → verdicts p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (station's own time p50 {:.0} ms); accepted {}, extra {}, retake {}, unreadable {}",
        latencies.len(),
        photos_dir.display(),
        pct(0.5),
        pct(0.95),
        latencies.last().copied().unwrap_or(0.0),
        {
            let mut own: Vec<f64> = arrived.iter().map(|(_, p)| p.latency_ms).collect();
            own.sort_by(f64::total_cmp);
            own.get(own.len() / 2).copied().unwrap_or(0.0)
        },
        count(station::PhotoState::Accepted),
        count(station::PhotoState::Extra),
        count(station::PhotoState::Retake),
        count(station::PhotoState::Unreadable),
    );
    // the reports of this visit, timed; kept in REPORT_DIR when it is set
    let out = tempfile::tempdir().unwrap();
    let dir =
        std::env::var_os("REPORT_DIR").map_or_else(|| out.path().to_path_buf(), PathBuf::from);
    for format in [station::ReportFormat::Csv, station::ReportFormat::Pdf] {
        let name = if format == station::ReportFormat::Csv {
            "visit.csv"
        } else {
            "visit.pdf"
        };
        let started = Instant::now();
        let written = station
            .visits()
            .export_visit_report(
                station.new_job().0,
                visit.id,
                &dir.join(name),
                format,
                &Quiet,
            )
            .await
            .unwrap();
        println!(
            "{name}: {} photos, {} bytes in {:.0} ms",
            written.photos,
            written.bytes,
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
}

struct Quiet;
impl station::ReportSink for Quiet {
    fn progress(&self, _: &station::ReportProgress) {}
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg"))
        {
            out.push(path);
        }
    }
    out
}
