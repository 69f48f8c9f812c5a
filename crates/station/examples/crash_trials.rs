//! "Crash at any moment" (issue 18, point 2): the station killed with SIGKILL at random
//! instants, 100 times in each of five kinds of work, and after every kill — before anything
//! opens the data again — the data checked: `PRAGMA integrity_check` ok, the audit chain
//! verified (the app's own read-only `--verify-audit`, seals included), every decision, file
//! and photo the station had reported saved there exactly once, no content stored as two
//! items, every blob whole under its hash, no export half-written under its name; then the
//! real app started on the data until its first screen answers.
//!
//! Past 600 lines: the five scenarios and the trial loop that drives them read as one program;
//! the app driver, the worker and the data checks live in `crash_trials/`.
//!
//! ```text
//! cargo build -p review-station -p router -p fake-llm --bins
//! cargo build -p station --examples
//! dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
//!     cargo run -p station --example crash_trials -- \
//!     [--kills 100] [--scenarios import,shift,visit,export,sync] [--seed N] \
//!     [--app-every 1] [--router-kills 10] [--keep]
//! ```
//!
//! The scenarios:
//! - `import`: the real app (`review-station DIR FILE…`, as "Open with" starts it) importing
//!   400 new photos, killed (its whole process group) at a random instant of the import; the
//!   files it listed as saved are read from its log. A life that finished its batch is killed
//!   anyway and the next gets a new batch of 400. At the end one life runs to the end.
//! - `shift`: a reviewer's shift — claims, approvals, rejections, one in four undone and
//!   decided again — by a worker process (this program, `--worker`) calling the same station
//!   services the app's commands call, saying each decision after it returned.
//! - `visit`: a store visit with photos arriving from a card folder (one new photo after
//!   another; those a killed life was adding are added again by the next).
//! - `export`: visit reports (PDF with thumbnails, CSV) and the evaluation set (CSV, JSONL)
//!   written again and again to the same names.
//! - `sync`: the `sync_chaos` program (station killed `--kills` times, the router
//!   `--router-kills` times, a fault proxy between them); its findings are taken into the table.
//!
//! `--check-only DATA_DIR` runs the checks on a data directory as it is (to see them find a
//! damage made by hand).
//!
//! Prints a table of trials and findings; exit status 1 when there is a finding. About
//! 25 minutes on 2 cores with the defaults; `--kills 5` for a quick look.
// A test program: a part that does not start is a crash with the reason (expect), and its
// report is what it prints (stdout).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "crash_trials/app.rs"]
mod app;
#[path = "crash_trials/check.rs"]
mod check;
#[path = "crash_trials/worker.rs"]
mod worker;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use app::AppEvent;
use check::{Acks, Verified};

const USAGE: &str = "usage: crash_trials [--kills N] [--scenarios import,shift,visit,export,sync] \
[--seed N] [--app-every N] [--router-kills N] [--keep]   (under dbus-run-session and xvfb-run, \
after `cargo build -p review-station -p router -p fake-llm --bins`)";

/// Files in one import batch.
const BATCH: usize = 400;
/// Open tasks made for the shift before it starts.
const SHIFT_TASKS: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    Import,
    Shift,
    Visit,
    Export,
    Sync,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::Import,
        Scenario::Shift,
        Scenario::Visit,
        Scenario::Export,
        Scenario::Sync,
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Import => "import",
            Scenario::Shift => "shift",
            Scenario::Visit => "visit",
            Scenario::Export => "export",
            Scenario::Sync => "sync",
        }
    }

    /// How long a worker life runs after it is ready, at most.
    fn window(self) -> (f64, f64) {
        match self {
            Scenario::Visit => (0.1, 3.0),
            Scenario::Export => (0.05, 2.5),
            _ => (0.05, 2.0),
        }
    }
}

#[derive(Debug, Clone)]
struct Args {
    kills: u32,
    scenarios: Vec<Scenario>,
    seed: u64,
    app_every: u32,
    router_kills: u32,
    keep: bool,
    app: PathBuf,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let here = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/examples/crash_trials → target/<profile>/review-station
    let app = here
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("review-station"))
        .ok_or("no folder for the app")?;
    let mut parsed = Args {
        kills: 100,
        scenarios: Scenario::ALL.to_vec(),
        seed: rand::random::<u64>() % 1_000_000,
        app_every: 1,
        router_kills: 10,
        keep: false,
        app,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut number = || -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{flag} needs a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--kills" => parsed.kills = u32::try_from(number()?).unwrap_or(100),
            "--seed" => parsed.seed = number()?,
            "--app-every" => parsed.app_every = u32::try_from(number()?).unwrap_or(1).max(1),
            "--router-kills" => parsed.router_kills = u32::try_from(number()?).unwrap_or(10),
            "--keep" => parsed.keep = true,
            "--scenarios" => {
                let list = it
                    .next()
                    .ok_or(format!("--scenarios needs a list\n{USAGE}"))?;
                parsed.scenarios = list
                    .split(',')
                    .map(|s| Scenario::parse(s.trim()).ok_or(format!("unknown scenario {s:?}")))
                    .collect::<Result<_, _>>()?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A grocery photo from the fixtures with random bytes after its JPEG end: a new file (a new
/// hash) that decodes as the fixture does.
pub fn unique_photo(rng: &mut StdRng) -> Vec<u8> {
    const PHOTOS: [&str; 3] = [
        "grocery/queries/Fruit/Passion-Fruit-Passion-Fruit_002.jpg",
        "grocery/queries/Vegetables/Pepper-Green-Bell-Pepper_002.jpg",
        "grocery/queries/Packages/Sour-Milk-Arla-Sour-Milk_002.jpg",
    ];
    let mut bytes = std::fs::read(fixtures().join(PHOTOS[rng.gen_range(0..PHOTOS.len())]))
        .expect("a fixture photo");
    bytes.extend((0..16).map(|_| rng.gen::<u8>()));
    bytes
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--worker") => return worker::main(&args[1..]),
        Some("--check-only") => return check_only(&args[1..]),
        _ => {}
    }
    let args = match parse(&args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if !args.app.is_file() {
        eprintln!(
            "the app is not built at {} (cargo build -p review-station)",
            args.app.display()
        );
        return ExitCode::from(2);
    }
    if std::env::var_os("DISPLAY").is_none() {
        eprintln!("no DISPLAY: run under xvfb-run\n{USAGE}");
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if runtime.block_on(run(args)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--check-only DATA_DIR`: the checks made after each kill, on a data directory as it is
/// (to see them find a damage made by hand).
fn check_only(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: crash_trials --check-only DATA_DIR");
        return ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let checked = runtime.block_on(check::after_kill(
        Path::new(dir),
        &Acks::default(),
        &mut Verified::default(),
    ));
    println!("{} items, {} decisions", checked.items, checked.decisions);
    for finding in &checked.findings {
        println!("FINDING {finding}");
    }
    if checked.findings.is_empty() {
        println!("FINDINGS: none");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// One scenario's line in the table.
#[derive(Debug, Default)]
struct Row {
    lives: u32,
    kills: u32,
    /// Kills before the worker or the app said it was ready.
    early: u32,
    /// Import lives that had finished their batch when the kill came.
    after_finish: u32,
    saved: String,
    checks: u32,
    /// Starts of the real app that reached the first screen, of `opens` tried.
    opened: Vec<Duration>,
    opens: u32,
    findings: Vec<String>,
    notes: Vec<String>,
    took: Duration,
}

async fn run(args: Args) -> bool {
    let work = tempfile::Builder::new()
        .prefix("crash-trials-")
        .tempdir()
        .expect("a work folder");
    println!(
        "crash_trials: seed {}, {} kills per scenario, work folder {}",
        args.seed,
        args.kills,
        work.path().display()
    );
    // a Secret Service for the audit key (sealed chains are what is verified)
    let _keyring = testbed::GnomeKeyring::start();
    let mut rows = BTreeMap::new();
    for (n, scenario) in args.scenarios.iter().enumerate() {
        let root = work.path().join(scenario.name());
        std::fs::create_dir_all(root.join("station")).expect("a scenario folder");
        let seed = args.seed + n as u64 * 1_000_003;
        let started = Instant::now();
        println!("--- {} ---", scenario.name());
        let mut row = match scenario {
            Scenario::Import => import(&args, &root, seed).await,
            Scenario::Sync => sync(&args, &root, seed).await,
            _ => workers(&args, *scenario, &root, seed).await,
        };
        row.took = started.elapsed();
        println!(
            "{}: {} kills, {} findings, {:.0} s",
            scenario.name(),
            row.kills,
            row.findings.len(),
            row.took.as_secs_f64()
        );
        rows.insert(*scenario, row);
    }
    let clean = print(&rows);
    if !clean || args.keep {
        let kept = work.keep();
        println!("work folder kept: {}", kept.display());
    }
    clean
}

fn median_ms(times: &[Duration]) -> String {
    if times.is_empty() {
        return "-".into();
    }
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    format!("{:.0}", ms[ms.len() / 2])
}

fn print(rows: &BTreeMap<Scenario, Row>) -> bool {
    println!();
    println!(
        "{:<8} {:>5} {:>6} {:>7} {:>8}  {:<44} {:>6} {:>11} {:>8} {:>6}",
        "scenario",
        "lives",
        "kills",
        "early",
        "finished",
        "saved (as the station reported it)",
        "checks",
        "app opened",
        "open ms",
        "time s"
    );
    for (scenario, row) in rows {
        println!(
            "{:<8} {:>5} {:>6} {:>7} {:>8}  {:<44} {:>6} {:>11} {:>8} {:>6.0}",
            scenario.name(),
            row.lives,
            row.kills,
            row.early,
            row.after_finish,
            row.saved,
            row.checks,
            format!("{}/{}", row.opened.len(), row.opens),
            median_ms(&row.opened),
            row.took.as_secs_f64()
        );
    }
    println!(
        "(early: killed before ready; finished: an import life killed after its batch was done)"
    );
    for (scenario, row) in rows {
        for note in &row.notes {
            println!("note [{}]: {note}", scenario.name());
        }
    }
    let findings: Vec<String> = rows
        .iter()
        .flat_map(|(s, row)| {
            row.findings
                .iter()
                .map(move |f| format!("[{}] {f}", s.name()))
        })
        .collect();
    if findings.is_empty() {
        println!("FINDINGS: none");
        true
    } else {
        println!("FINDINGS: {}", findings.len());
        for finding in findings.iter().take(60) {
            println!("  {finding}");
        }
        false
    }
}

/// The checks after a kill, into the row (findings prefixed by the trial).
async fn check_trial(
    args: &Args,
    root: &Path,
    trial: u32,
    acks: &Acks,
    verified: &mut Verified,
    row: &mut Row,
    open_app: bool,
) {
    let data = root.join("station");
    let checked = check::after_kill(&data, acks, verified).await;
    let mut findings = checked.findings;
    findings.extend(check::exports_whole(&root.join("exports")));
    if checked.leftover_temp_files > 0 && trial + 1 == args.kills {
        row.notes.push(format!(
            "{} temporary blob files left by killed lives in blobs/tmp",
            checked.leftover_temp_files
        ));
    }
    row.checks += 1;
    if open_app {
        row.opens += 1;
        match app::opens(&args.app, &data, &root.join("app.log")).await {
            Ok(took) => row.opened.push(took),
            Err(why) => findings.push(why),
        }
    }
    for finding in findings {
        println!("  trial {trial}: FINDING {finding}");
        row.findings.push(format!("trial {trial}: {finding}"));
    }
}

fn secs(rng: &mut StdRng, (from, to): (f64, f64)) -> Duration {
    Duration::from_secs_f64(rng.gen_range(from..to))
}

/// Shift, visit and export: a worker process per life.
async fn workers(args: &Args, scenario: Scenario, root: &Path, seed: u64) -> Row {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut row = Row::default();
    for dir in ["card", "card-added", "exports"] {
        std::fs::create_dir_all(root.join(dir)).expect("a folder");
    }
    std::fs::write(
        root.join("station/stores.toml"),
        worker::stores_toml(&fixtures().join("grocery/references")),
    )
    .expect("stores.toml");
    if scenario == Scenario::Shift {
        open_tasks(&root.join("station"), SHIFT_TASKS).await;
    }
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut verified = Verified::default();
    let log = root.join("worker.log");
    for trial in 0..args.kills {
        row.lives += 1;
        let early = rng.gen_bool(0.1);
        let mut child = Command::new(std::env::current_exe().expect("this program"))
            .args(["--worker", scenario.name()])
            .arg(root)
            .arg(rng.gen::<u32>().to_string())
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .expect("the worker log"),
            ))
            .kill_on_drop(true)
            .spawn()
            .expect("a worker starts");
        let stdout = child.stdout.take().expect("its stdout");
        let (ready_tx, mut ready) = tokio::sync::mpsc::unbounded_channel();
        let tally = Arc::clone(&acks);
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let is_ready = tally
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take_line(&line);
                if is_ready {
                    let _ = ready_tx.send(());
                }
            }
        });
        if early {
            tokio::time::sleep(secs(&mut rng, (0.0, 0.5))).await;
            row.early += 1;
        } else {
            match tokio::time::timeout(Duration::from_secs(180), ready.recv()).await {
                Ok(Some(())) => tokio::time::sleep(secs(&mut rng, scenario.window())).await,
                _ => {
                    let status = child.try_wait().ok().flatten();
                    row.findings.push(format!(
                        "trial {trial}: the worker never got ready (exit {status:?}; see worker.log)"
                    ));
                }
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            row.findings.push(format!(
                "trial {trial}: the worker ended by itself ({status})"
            ));
        }
        // SIGKILL (`start_kill` is SIGKILL on Unix)
        let _ = child.start_kill();
        let _ = child.wait().await;
        let _ = reader.await;
        row.kills += 1;
        let snapshot = std::mem::take(&mut *acks.lock().unwrap_or_else(|p| p.into_inner()));
        check_trial(
            args,
            root,
            trial,
            &snapshot,
            &mut verified,
            &mut row,
            trial % args.app_every == 0,
        )
        .await;
        *acks.lock().unwrap_or_else(|p| p.into_inner()) = snapshot;
    }
    let acks = acks.lock().unwrap_or_else(|p| p.into_inner());
    row.saved = match scenario {
        Scenario::Shift => format!(
            "{} decisions, {} undos",
            acks.decisions.len(),
            acks.undos.len()
        ),
        Scenario::Visit => format!("{} photos", acks.photos.len()),
        _ => format!(
            "{} exports ({})",
            acks.exports.values().sum::<u64>(),
            acks.exports
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    for (what, n) in &acks.errors {
        row.notes.push(format!(
            "{n} × error while {what} (e.g. {})",
            acks.error_examples.get(what).map_or("", String::as_str)
        ));
    }
    row
}

/// `n` open invoice tasks over tiny photos, through the store (the shift's queue).
async fn open_tasks(dir: &Path, n: usize) {
    let store = store::Store::open(dir).await.expect("the store opens");
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let bytes = format!("shift photo {i}").into_bytes();
        let sha = store.blobs().put(&bytes).expect("a blob");
        let item = match store
            .record_item(
                &store::NewItem {
                    blob: Some(sha),
                    media_type: Some("image/jpeg".into()),
                    file_name: format!("p{i}.jpg"),
                    source_path: format!("/photos/p{i}.jpg"),
                    byte_len: bytes.len() as u64,
                    status: store::ItemStatus::Analyzed,
                    verdict: Some("pass".into()),
                    error_code: None,
                    error_message: None,
                    format: Some("jpeg".into()),
                    width: Some(640),
                    height: Some(480),
                    kind: "photo".into(),
                    page_count: None,
                },
                None,
            )
            .await
            .expect("an item")
        {
            store::Recorded::New(id) | store::Recorded::Duplicate(id) => id,
        };
        tasks.push(store::NewTask {
            item_id: item,
            kind: protocol::ResultKind::Invoice,
            store_id: "s1".into(),
            confidence: 0.5,
            reasons: "[]".into(),
            due_at: None,
            model_output: "{}".into(),
            versions: "{}".into(),
        });
    }
    store.enqueue_tasks(&tasks).await.expect("the tasks");
    store.close().await;
}

/// A batch of new photos for the import, in their own folder.
fn import_batch(root: &Path, batch: u32, rng: &mut StdRng) -> Vec<PathBuf> {
    let dir = root.join(format!("batch-{batch:03}"));
    std::fs::create_dir_all(&dir).expect("a batch folder");
    (0..BATCH)
        .map(|i| {
            let path = dir.join(format!("photo-{i:03}.jpg"));
            std::fs::write(&path, unique_photo(rng)).expect("a photo");
            path
        })
        .collect()
}

/// The real app importing batches of 400 photos, killed during the import.
async fn import(args: &Args, root: &Path, seed: u64) -> Row {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut row = Row::default();
    let data = root.join("station");
    let log = root.join("app.log");
    let mut acks = Acks::default();
    let mut verified = Verified::default();
    let mut batch_no = 0;
    let mut batch = import_batch(root, batch_no, &mut rng);
    // how long a whole import takes (measured on lives that finished; a guess at first)
    let mut full = Duration::from_secs(8);
    let mut trial = 0;
    while row.kills - row.after_finish < args.kills && row.lives < args.kills * 3 {
        row.lives += 1;
        let mut app = app::spawn(&args.app, &data, &batch, &log);
        row.opens += 1;
        let mut finished = false;
        let ready = app
            .wait_for(
                Duration::from_secs(60),
                |e| matches!(e, AppEvent::Ready | AppEvent::CannotOpen(_)),
                |e| take(&mut acks, &mut row, e, &mut finished),
            )
            .await;
        match ready {
            Ok(AppEvent::Ready) => row.opened.push(app.started.elapsed()),
            other => row
                .findings
                .push(format!("life {}: no first screen: {other:?}", row.lives)),
        }
        let ready_at = Instant::now();
        let kill_after = secs(&mut rng, (0.0, full.as_secs_f64()));
        while !finished {
            let left = kill_after.saturating_sub(ready_at.elapsed());
            if left.is_zero() {
                break;
            }
            match tokio::time::timeout(left, app.events.recv()).await {
                Ok(Some(event)) => take(&mut acks, &mut row, event, &mut finished),
                Ok(None) | Err(_) => break,
            }
        }
        if finished {
            full = ready_at.elapsed().max(Duration::from_secs(1));
        }
        for event in app.kill().await {
            take(&mut acks, &mut row, event, &mut finished);
        }
        row.kills += 1;
        if finished {
            row.after_finish += 1;
            whole_batch(&batch, &acks, &mut row);
            batch_no += 1;
            batch = import_batch(root, batch_no, &mut rng);
        }
        check_trial(args, root, trial, &acks, &mut verified, &mut row, false).await;
        trial += 1;
    }
    // the last life runs its import to the end
    let mut app = app::spawn(&args.app, &data, &batch, &log);
    let mut finished = false;
    let end = app
        .wait_for(
            Duration::from_secs(600),
            |e| matches!(e, AppEvent::ImportFinished | AppEvent::CannotOpen(_)),
            |e| take(&mut acks, &mut row, e, &mut finished),
        )
        .await;
    for event in app.kill().await {
        take(&mut acks, &mut row, event, &mut finished);
    }
    match end {
        Ok(AppEvent::ImportFinished) => whole_batch(&batch, &acks, &mut row),
        other => row.findings.push(format!(
            "the last life did not finish its import: {other:?}"
        )),
    }
    check_trial(args, root, trial, &acks, &mut verified, &mut row, false).await;
    row.saved = format!(
        "{} files in {} batches of {BATCH}",
        acks.imported.len(),
        batch_no + 1
    );
    row
}

/// A line of the app's log during an import.
fn take(acks: &mut Acks, row: &mut Row, event: AppEvent, finished: &mut bool) {
    match event {
        AppEvent::Imported {
            path,
            item: Some(item),
        } => {
            if let Some(was) = acks.imported.insert(path.clone(), item) {
                if was != item {
                    row.findings.push(format!(
                        "{path} was shown as item {was}, then as item {item}"
                    ));
                }
            }
        }
        AppEvent::ImportFinished => *finished = true,
        _ => {}
    }
}

/// Every file of a finished batch was shown saved.
fn whole_batch(batch: &[PathBuf], acks: &Acks, row: &mut Row) {
    let missing = batch
        .iter()
        .filter(|p| !acks.imported.contains_key(&p.display().to_string()))
        .count();
    if missing > 0 {
        row.findings.push(format!(
            "a finished import of {} files showed {missing} of them not saved",
            batch.len()
        ));
    }
}

/// The `sync_chaos` program beside this one, its findings taken over.
async fn sync(args: &Args, root: &Path, seed: u64) -> Row {
    let mut row = Row::default();
    let program = std::env::current_exe()
        .expect("this program")
        .with_file_name("sync_chaos");
    if !program.is_file() {
        row.findings.push(format!(
            "{} is not built (cargo build -p station --example sync_chaos)",
            program.display()
        ));
        return row;
    }
    // a session bus of its own: the app's runs left desktop services (portals) on this one,
    // where sync_chaos rightly refuses to start a keyring
    let output = Command::new("dbus-run-session")
        .arg("--")
        .arg(&program)
        .args(["--station-kills", &args.kills.to_string()])
        .args(["--router-kills", &args.router_kills.to_string()])
        .args(["--seed", &seed.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await;
    let Ok(output) = output else {
        row.findings.push(format!(
            "{} did not start (cargo build -p station --examples)",
            program.display()
        ));
        return row;
    };
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(root.join("sync_chaos.txt"), &text).expect("its report kept");
    row.kills = args.kills + args.router_kills;
    row.lives = row.kills + 1;
    row.checks = 1;
    // its table, as it printed it, after ours
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.trim().strip_prefix("FINDINGS:") {
            if rest.trim() != "none" {
                row.findings.push(format!("sync_chaos: {}", rest.trim()));
            }
        } else if line.trim_start().starts_with("- ") && !row.findings.is_empty() {
            row.findings.push(line.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("corrections: station / router") {
            row.saved = format!("decisions/corrections {}", value.trim())
                .chars()
                .take(44)
                .collect();
        }
        if !line.starts_with("life ") && !line.trim().is_empty() {
            row.notes.push(format!("sync_chaos | {line}"));
        }
    }
    if !output.status.success() && row.findings.is_empty() {
        row.findings
            .push(format!("sync_chaos ended with {}", output.status));
    }
    row.notes.push(format!(
        "sync_chaos's own table: {}",
        root.join("sync_chaos.txt").display()
    ));
    row
}
