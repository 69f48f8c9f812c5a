//! The station as a worker process, `--worker shift|visit|export DIR SEED`: it opens the
//! station in `DIR/station` through the same services the app's commands call, and works
//! until it is killed. Each thing finished is one line on stdout, written after the station
//! returned it (so after its transaction committed) — what the app's screen would have shown
//! as saved:
//!
//! ```text
//! READY
//! DECIDED <task> <action> <hash>      UNDONE <task> <hash>        (shift, export's set-up)
//! PHOTO <item> new|again <file>                                 (visit, export's set-up)
//! EXPORTED <kind> <file>                                          (export)
//! ERROR <what>: <message>
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use protocol::{DecisionInput, QueueQuery, RejectReason, WireEnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use station::{ReportFormat, ReportProgress, ReportSink, Station};

use super::Scenario;

/// The store the visits are in: three categories from the test fixtures, one shot with a
/// rule for the cloud LLM (so each accepted photo also queues a cloud check).
pub fn stores_toml(refs: &Path) -> String {
    format!(
        "[[store]]\nid = 's1'\nname = 'Main Street'\n\
         [[store.category]]\nname = 'Fruit'\nreferences = '{0}/Fruit'\n\
         [[store.category]]\nname = 'Vegetables'\nreferences = '{0}/Vegetables'\n\
         [[store.category]]\nname = 'Packages'\nreferences = '{0}/Packages'\n\
         [[store.shot]]\nname = 'Fruit display'\ncategory = 'Fruit'\nrules = ['price tags are visible']\n\
         [[store.shot]]\nname = 'Vegetable aisle'\ncategory = 'Vegetables'\n",
        refs.display()
    )
}

/// Photos the export scenario's visit has before its exports start.
const EXPORT_PHOTOS: usize = 30;
/// Decisions the evaluation set has before the exports start.
const EXPORT_DECISIONS: usize = 20;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // the parent gone: nothing to tell anyone
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

fn first_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub fn main(args: &[String]) -> ExitCode {
    let [kind, root, seed] = args else {
        eprintln!("usage: crash_trials --worker shift|visit|export DIR SEED");
        return ExitCode::from(2);
    };
    let Some(scenario) = Scenario::parse(kind) else {
        eprintln!("unknown worker {kind:?}");
        return ExitCode::from(2);
    };
    let root = PathBuf::from(root);
    let seed: u64 = seed.parse().unwrap_or(0);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CRASH_TRIALS_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let station = Station::open(&root.join("station"))
            .await
            .expect("the station opens");
        let mut rng = StdRng::seed_from_u64(seed);
        // the reviewer's name, as the first screen asks it (kept in the session file)
        if station.session().local_reviewer().is_none() {
            station
                .session()
                .sign_in("crash")
                .expect("a reviewer signs in");
        }
        match scenario {
            Scenario::Shift => {
                say("READY");
                loop {
                    review(&station, &mut rng).await;
                    tokio::time::sleep(Duration::from_millis(rng.gen_range(5..60))).await;
                }
            }
            Scenario::Visit => {
                let visit = visit(&station).await;
                add_leftovers(&station, &root, visit).await;
                say("READY");
                loop {
                    add_new_photo(&station, &root, visit, &mut rng).await;
                    tokio::time::sleep(Duration::from_millis(rng.gen_range(5..80))).await;
                }
            }
            Scenario::Export => {
                let visit = visit(&station).await;
                add_leftovers(&station, &root, visit).await;
                export_setup(&station, &root, visit, &mut rng).await;
                say("READY");
                loop {
                    export(&station, &root, visit, &mut rng).await;
                }
            }
            Scenario::Import | Scenario::Sync => unreachable!("not a worker's scenario"),
        }
    })
}

async fn visit(station: &Arc<Station>) -> i64 {
    match station.visits().current_visit().await {
        Ok(Some(visit)) => visit.id,
        _ => {
            station
                .visits()
                .start_visit("s1", "crash", None)
                .await
                .expect("a visit starts")
                .id
        }
    }
}

pub fn card(root: &Path) -> PathBuf {
    root.join("card")
}

pub fn card_done(root: &Path) -> PathBuf {
    root.join("card-added")
}

/// Photos a killed life was adding: added again, as the person at the station would.
async fn add_leftovers(station: &Arc<Station>, root: &Path, visit: i64) {
    let mut leftovers: Vec<PathBuf> = std::fs::read_dir(card(root))
        .expect("the card folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    leftovers.sort();
    for path in leftovers {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.as_deref().is_some_and(|n| n.starts_with(".partial")) {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        add_photo(station, root, visit, &path).await;
    }
}

/// A new photo on the card (a fixture photo with a few random bytes after its JPEG end: it
/// decodes the same and hashes differently), then added to the visit.
async fn add_new_photo(station: &Arc<Station>, root: &Path, visit: i64, rng: &mut StdRng) {
    let name = format!("photo-{:016x}.jpg", rng.gen::<u64>());
    let bytes = super::unique_photo(rng);
    let partial = card(root).join(format!(".partial-{name}"));
    let path = card(root).join(&name);
    std::fs::write(&partial, &bytes).expect("a photo written");
    std::fs::rename(&partial, &path).expect("a photo in place");
    add_photo(station, root, visit, &path).await;
}

async fn add_photo(station: &Arc<Station>, root: &Path, visit: i64, path: &Path) {
    match station.visits().add_visit_photo(visit, path).await {
        Ok(photo) => {
            let Some(item) = photo.item_id else {
                say(&format!("ERROR photo: {} kept no item", path.display()));
                return;
            };
            let name = path.file_name().unwrap_or_default();
            say(&format!(
                "PHOTO {item} {} {}",
                if photo.duplicate { "again" } else { "new" },
                name.to_string_lossy()
            ));
            let _ = std::fs::rename(path, card_done(root).join(name));
        }
        // left on the card: the next life adds it again
        Err(error) => say(&format!("ERROR photo: {}", first_line(&error))),
    }
}

fn decision(rng: &mut StdRng) -> DecisionInput {
    if rng.gen_bool(0.7) {
        DecisionInput::Approve
    } else {
        let reasons = <RejectReason as WireEnum>::ALL;
        DecisionInput::Reject {
            reason_code: reasons[rng.gen_range(0..reasons.len())],
        }
    }
}

/// One task of a shift: claimed, decided; one in four undone and decided again.
async fn review(station: &Arc<Station>, rng: &mut StdRng) {
    let review = station.review();
    let task = match review.claim_next(&QueueQuery::default(), &[]).await {
        Ok(Some(task)) => task,
        Ok(None) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        Err(error) => {
            say(&format!("ERROR claim: {}", first_line(&error)));
            return;
        }
    };
    let decide = |rng: &mut StdRng| {
        let input = decision(rng);
        let ms = rng.gen_range(300..3000);
        async move {
            match review.decide(task.id, input, ms).await {
                Ok(record) => {
                    say(&format!(
                        "DECIDED {} {} {}",
                        task.id,
                        record.action.as_str(),
                        record.hash
                    ));
                    true
                }
                Err(error) => {
                    say(&format!("ERROR decide: {}", first_line(&error)));
                    false
                }
            }
        }
    };
    if !decide(rng).await || !rng.gen_bool(0.25) {
        return;
    }
    match review.undo_decision(task.id).await {
        Ok(record) => say(&format!("UNDONE {} {}", task.id, record.hash)),
        Err(error) => {
            say(&format!("ERROR undo: {}", first_line(&error)));
            return;
        }
    }
    decide(rng).await;
}

/// The export scenario's material: a visit with photos and some decisions (made once, by the
/// first lives; a life killed during the set-up finishes it in the next).
async fn export_setup(station: &Arc<Station>, root: &Path, visit: i64, rng: &mut StdRng) {
    loop {
        let photos = station
            .visits()
            .visit_state(visit, 0, 1)
            .await
            .map(|s| s.photos_total)
            .unwrap_or(0);
        if usize::try_from(photos).unwrap_or(0) >= EXPORT_PHOTOS {
            break;
        }
        add_new_photo(station, root, visit, rng).await;
    }
    for _ in 0..EXPORT_DECISIONS {
        let decided = station
            .insights()
            .review_metrics()
            .await
            .map(|m| m.decisions);
        if decided.is_ok_and(|n| usize::try_from(n).unwrap_or(0) >= EXPORT_DECISIONS) {
            break;
        }
        review(station, rng).await;
    }
}

struct Quiet;
impl ReportSink for Quiet {
    fn progress(&self, _: &ReportProgress) {}
}

/// One export of four kinds, each to its own file name (written again and again).
async fn export(station: &Arc<Station>, root: &Path, visit: i64, rng: &mut StdRng) {
    let dir = root.join("exports");
    let (kind, result) = match rng.gen_range(0..4) {
        0 | 1 => {
            let (format, name) = if rng.gen_bool(0.6) {
                (ReportFormat::Pdf, "visit-report.pdf")
            } else {
                (ReportFormat::Csv, "visit-report.csv")
            };
            let (job, _cancel) = station.new_job();
            let written = station
                .visits()
                .export_visit_report(job, visit, &dir.join(name), format, &Quiet)
                .await
                .map(|_| ());
            (name, written)
        }
        2 => {
            let name = "evaluation.csv";
            let written = station
                .insights()
                .export_evaluation(&dir.join(name), station::EvaluationFormat::Csv)
                .await
                .map(|_| ());
            (name, written)
        }
        _ => {
            let name = "evaluation.jsonl";
            let written = station
                .insights()
                .export_evaluation(&dir.join(name), station::EvaluationFormat::Jsonl)
                .await
                .map(|_| ());
            (name, written)
        }
    };
    match result {
        Ok(()) => say(&format!("EXPORTED {kind}")),
        Err(error) => say(&format!("ERROR export: {}", first_line(&error))),
    }
}
