//! "Nothing lost, nothing twice — proven" (issue 16, point 8): the station's sync against the
//! real router and the fault-injecting fake LLM, with the station killed (SIGKILL) at random
//! points, the router killed and restarted, and a fault proxy between them that cuts
//! connections mid-body and stalls them. At the end the two sides' databases are compared.
//!
//! Just past 600 lines: the chaos schedule and its report read as one program; the proxy, the
//! child processes, the parts and the final comparison live in `sync_chaos/`.
//!
//! ```text
//! cargo build -p router -p fake-llm --bins
//! dbus-run-session -- cargo run -p station --example sync_chaos -- \
//!     [--station-kills 100] [--router-kills 10] [--seed N] [--drain-s 180] [--keep]
//! ```
//!
//! About 4 minutes on 2 cores with the defaults; `--station-kills 10 --router-kills 2` for a
//! quick one. The work folder (both databases, `router/router.log`, `station.log`) is kept when
//! there is a finding, or with `--keep`.
//!
//! Every part is a real process on loopback:
//! - two `fake-llm` providers (Gemini's and OpenAI's wire formats) with a fault script: 429s,
//!   503s, answers slower than the router's backend timeout, answers cut mid-body;
//! - `review-router` (its SQLite ledger in a temp folder, the admin key from
//!   `REVIEW_ROUTER_ADMIN_KEY`), killed with SIGKILL and restarted `--router-kills` times;
//! - a fault proxy (in this program) between the station and the router: by a seeded RNG it
//!   cuts some connections mid-body, in either direction, and stalls some for a few seconds;
//! - gnome-keyring on the session bus of `dbus-run-session` (the station's device key);
//! - the station itself: this program again (`--station-mode`), which opens the station,
//!   connects once, and makes work without end (visit photos, each one new; review decisions,
//!   some undone), saying on stdout each thing it finished. It is killed with SIGKILL
//!   `--station-kills` times, 0.3–3 s into its life (one life in ten, before it is ready).
//!
//! Then the faults stop, the station is started once more (`--drain-mode`) until its outbox
//! has nothing left to send, and the program compares, reading both SQLite files: the router's
//! jobs with the station's job rows (each key once, done on both sides), the router's ledger
//! with its jobs (no job charged twice), the router's corrections with the station's decisions
//! (each hash once), the station's photos with those the station said it added, no cloud check
//! left pending; `PRAGMA integrity_check` and the audit chain (and the heads the router
//! witnessed of it). It prints what it did, a table of what it found, and `FINDINGS: none` or
//! the list; the exit status is 1 when there is a finding.
//!
//! Just past 600 lines: the run's plan, its kill loop and the drain; the parts, the proxy, the
//! child and the check are in `sync_chaos/`.
// A test program: a part that does not start is a crash with the reason (expect), and its
// report is what it prints (stdout).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

// the example's root is a crate root: its modules are found by path
#[path = "sync_chaos/check.rs"]
mod check;
#[path = "sync_chaos/child.rs"]
mod child;
#[path = "sync_chaos/parts.rs"]
mod parts;
#[path = "sync_chaos/proxy.rs"]
mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const USAGE: &str = "usage: sync_chaos [--station-kills N] [--router-kills N] [--seed N] \
[--drain-s SECONDS] [--keep]   (run under dbus-run-session, after \
`cargo build -p router -p fake-llm --bins`)";

#[derive(Debug, Clone)]
struct Args {
    station_kills: u32,
    router_kills: u32,
    seed: u64,
    /// How long the last start may take to empty the outbox.
    drain_s: u64,
    /// Keep the temp folder (databases, logs) for a look afterwards (kept anyway on a finding).
    keep: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        station_kills: 100,
        router_kills: 10,
        seed: rand::random::<u64>() % 1_000_000,
        drain_s: 180,
        keep: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut number = || -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{flag} needs a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--station-kills" => parsed.station_kills = u32::try_from(number()?).unwrap_or(100),
            "--router-kills" => parsed.router_kills = u32::try_from(number()?).unwrap_or(10),
            "--seed" => parsed.seed = number()?,
            "--drain-s" => parsed.drain_s = number()?,
            "--keep" => parsed.keep = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--station-mode") => return child::main(&args[1..], child::Mode::Work),
        Some("--drain-mode") => return child::main(&args[1..], child::Mode::Drain),
        _ => {}
    }
    let args = match parse(&args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let clean = runtime.block_on(run(args));
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What the station processes said they finished, over all their lives.
#[derive(Debug, Default)]
pub struct Tally {
    /// Item id → times the station said it added the photo (a photo added again after a kill,
    /// as a person would, says so again).
    pub photos: BTreeMap<i64, u32>,
    pub photos_new: u64,
    pub photos_again: u64,
    /// Photos that did not come out accepted (they queue no cloud check): `state` by item.
    pub photos_not_accepted: BTreeMap<String, u64>,
    /// Decision hashes (approve/reject) and undo hashes the station said it recorded.
    pub decisions: BTreeSet<String>,
    pub undos: BTreeSet<String>,
    /// Non-fatal errors the station reported, by what it was doing.
    pub errors: BTreeMap<String, u64>,
    pub error_examples: BTreeMap<String, String>,
    pub connects: u64,
}

impl Tally {
    fn take_line(&mut self, line: &str) -> Option<Event> {
        let mut words = line.split_whitespace();
        match words.next()? {
            "READY" => return Some(Event::Ready),
            "CONNECTED" => self.connects += 1,
            "PHOTO" => {
                let item: i64 = words.next()?.parse().ok()?;
                let again = words.next()? == "again";
                let state = words.next().unwrap_or("?").to_owned();
                *self.photos.entry(item).or_default() += 1;
                if again {
                    self.photos_again += 1;
                } else {
                    self.photos_new += 1;
                }
                if state != "accepted" {
                    *self.photos_not_accepted.entry(state).or_default() += 1;
                }
            }
            "DECIDED" => {
                let hash = words.nth(2)?;
                self.decisions.insert(hash.to_owned());
            }
            "UNDONE" => {
                let hash = words.nth(1)?;
                self.undos.insert(hash.to_owned());
            }
            "ERROR" => {
                let what = words.next().unwrap_or("?").trim_end_matches(':').to_owned();
                *self.errors.entry(what.clone()).or_default() += 1;
                self.error_examples
                    .entry(what)
                    .or_insert_with(|| line.chars().take(300).collect());
            }
            "STATUS" => {
                let n: Vec<u64> = words.take(6).filter_map(|w| w.parse().ok()).collect();
                if let [q, u, w, r, p, d] = n[..] {
                    return Some(Event::Status([q, u, w, r, p, d]));
                }
            }
            "AUDIT" => return Some(Event::Audit(line["AUDIT ".len()..].to_owned())),
            _ => {}
        }
        None
    }
}

/// Lines of a station process the parent acts on.
#[derive(Debug, Clone)]
enum Event {
    Ready,
    /// queued, uploading, waiting, retrying, parked, done
    Status([u64; 6]),
    Audit(String),
}

/// The work folder's layout (shared with the station processes).
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn station(&self) -> PathBuf {
        self.root.join("station")
    }
    pub fn card(&self) -> PathBuf {
        self.root.join("card")
    }
    pub fn card_done(&self) -> PathBuf {
        self.root.join("card-added")
    }
    pub fn router(&self) -> PathBuf {
        self.root.join("router")
    }
    pub fn station_log(&self) -> PathBuf {
        self.root.join("station.log")
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A station process: this program in `--station-mode` or `--drain-mode`, its stdout read into
/// the tally, the events the parent waits for sent on.
struct StationProcess {
    child: Child,
    events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    reader: tokio::task::JoinHandle<()>,
}

fn spawn_station(
    layout: &Layout,
    mode: &str,
    proxy_url: &str,
    code: &str,
    seed: u64,
    tally: &Arc<Mutex<Tally>>,
) -> StationProcess {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(layout.station_log())
        .expect("the station's log");
    let mut child = Command::new(std::env::current_exe().expect("this program's path"))
        .arg(mode)
        .arg(&layout.root)
        .arg(proxy_url)
        .arg(code)
        .arg(seed.to_string())
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("the station process starts");
    let stdout = child.stdout.take().expect("its stdout");
    let (tx, events) = tokio::sync::mpsc::unbounded_channel();
    let tally = Arc::clone(tally);
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let event = tally
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take_line(&line);
            if let Some(event) = event {
                let _ = tx.send(event);
            }
        }
    });
    StationProcess {
        child,
        events,
        reader,
    }
}

impl StationProcess {
    /// SIGKILL (`Child::start_kill` is SIGKILL on Unix), then reaped; stdout read to its end.
    async fn kill(mut self) -> Option<std::process::ExitStatus> {
        let exited_before = self.child.try_wait().ok().flatten();
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = self.reader.await;
        exited_before
    }
}

fn secs(rng: &mut StdRng, from: f64, to: f64) -> Duration {
    Duration::from_secs_f64(rng.gen_range(from..to))
}

/// What the run did, for the report.
#[derive(Debug, Default, Clone)]
pub struct Done {
    pub station_kills: u32,
    pub station_early_kills: u32,
    pub station_exits: Vec<String>,
    pub router_kills: u32,
    pub router_down: Duration,
    pub lives_ready: u32,
    pub chaos_time: Duration,
    pub drain_time: Duration,
    pub drain_last: Option<[u64; 6]>,
    pub drain_ended: String,
    pub audit: Option<String>,
}

async fn run(args: Args) -> bool {
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("sync-chaos-")
        .tempdir()
        .expect("a temp folder");
    let layout = Layout {
        root: work.path().to_path_buf(),
    };
    for dir in [
        layout.station(),
        layout.card(),
        layout.card_done(),
        layout.router(),
    ] {
        std::fs::create_dir_all(dir).expect("a work folder");
    }
    std::fs::write(
        layout.station().join("stores.toml"),
        child::stores_toml(&fixtures().join("grocery/references")),
    )
    .expect("stores.toml");
    println!(
        "sync_chaos: seed {}, {} station kills, {} router kills, work folder {}",
        args.seed,
        args.station_kills,
        args.router_kills,
        layout.root.display()
    );
    let mut rng = StdRng::seed_from_u64(args.seed);
    let bins = parts::Bins::find();
    let _keyring = testbed::GnomeKeyring::start();
    let fakes = parts::Fakes::start(&bins, &layout, args.seed).await;
    let mut router = parts::RouterProcess::start(&bins, &layout, &fakes).await;
    let code = router.enrolment_code().await;
    router.add_account(child::REVIEWER).await;
    let proxy = proxy::Proxy::start(router.address, args.seed ^ 0x5eed).await;
    let proxy_url = format!("http://{}", proxy.address);
    println!(
        "parts: fake LLMs at {} and {}, router at {} (pid {}), fault proxy at {}",
        fakes.gemini_url,
        fakes.openai_url,
        router.address,
        router.pid(),
        proxy.address
    );

    // which lives see the router killed (a life may see more than one)
    let lives = args.station_kills.max(1);
    let mut router_kills_in: BTreeMap<u32, u32> = BTreeMap::new();
    for _ in 0..args.router_kills {
        *router_kills_in.entry(rng.gen_range(0..lives)).or_default() += 1;
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut done = Done::default();
    let chaos_started = Instant::now();
    for life in 0..args.station_kills {
        let born = Instant::now();
        let mut station = spawn_station(
            &layout,
            "--station-mode",
            &proxy_url,
            &code,
            args.seed.wrapping_mul(1000).wrapping_add(u64::from(life)),
            &tally,
        );
        let before = {
            let t = tally.lock().unwrap_or_else(|p| p.into_inner());
            (
                t.photos_new + t.photos_again,
                t.decisions.len(),
                t.undos.len(),
            )
        };
        let router_kills = router_kills_in.get(&life).copied().unwrap_or(0);
        let router_rng = StdRng::seed_from_u64(rng.gen());
        let router_task = async {
            let mut rng = router_rng;
            let mut down = Duration::ZERO;
            for _ in 0..router_kills {
                tokio::time::sleep(secs(&mut rng, 0.2, 2.0)).await;
                router.kill().await;
                let off = secs(&mut rng, 0.5, 3.0);
                tokio::time::sleep(off).await;
                router.restart().await;
                down += off;
            }
            down
        };
        let early = rng.gen_bool(0.1);
        let early_at = secs(&mut rng, 0.0, 1.5);
        let late_at = secs(&mut rng, 0.3, 3.0);
        let station_task = async {
            let mut ready_at = None;
            if early {
                tokio::time::sleep(early_at).await;
            } else {
                let waited = tokio::time::timeout(Duration::from_secs(90), async {
                    while let Some(event) = station.events.recv().await {
                        if matches!(event, Event::Ready) {
                            return true;
                        }
                    }
                    false
                })
                .await;
                if matches!(waited, Ok(true)) {
                    ready_at = Some(born.elapsed());
                }
                tokio::time::sleep(late_at).await;
            }
            let killed_at = born.elapsed();
            let exited = station.kill().await;
            (ready_at, killed_at, exited)
        };
        let ((ready_at, killed_at, exited), down) = tokio::join!(station_task, router_task);
        done.station_kills += 1;
        done.station_early_kills += u32::from(early);
        done.lives_ready += u32::from(ready_at.is_some());
        done.router_kills += router_kills;
        done.router_down += down;
        if let Some(status) = exited {
            done.station_exits.push(format!(
                "life {life}: the station exited by itself ({status}) before it was killed (see station.log)"
            ));
        }
        let after = {
            let t = tally.lock().unwrap_or_else(|p| p.into_inner());
            (
                t.photos_new + t.photos_again,
                t.decisions.len(),
                t.undos.len(),
            )
        };
        let readiness = match (early, ready_at) {
            (true, _) => "killed early, ready or not".to_owned(),
            (false, Some(at)) => format!("ready at {:.2} s", at.as_secs_f64()),
            (false, None) => "NEVER READY".to_owned(),
        };
        let router_note = if router_kills > 0 {
            format!(
                "; router killed {router_kills}x, down {:.1} s",
                down.as_secs_f64()
            )
        } else {
            String::new()
        };
        println!(
            "life {:>3}/{}: station SIGKILLed {:.2} s after start ({readiness}){router_note}; +{} photos, +{} decisions, +{} undos; proxy cut {} stalled {}",
            life + 1,
            args.station_kills,
            killed_at.as_secs_f64(),
            after.0 - before.0,
            after.1 - before.1,
            after.2 - before.2,
            proxy.stats().cuts(),
            proxy.stats().stalled(),
        );
    }
    done.chaos_time = chaos_started.elapsed();

    // the faults stop; the station starts once more and sends what is left
    proxy.stop_faults();
    router.ensure_up().await;
    println!(
        "chaos over after {:.0} s: faults off, the station started once more to send what is left (at most {} s)",
        done.chaos_time.as_secs_f64(),
        args.drain_s
    );
    drain(&layout, &proxy_url, &code, &tally, args.drain_s, &mut done).await;
    let fake_stats = fakes.stats().await;
    router.stop().await;
    fakes.stop().await;

    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    let report = check::Inputs {
        layout: &layout,
        args: &args,
        done: &done,
        tally: &tally,
        proxy: proxy.stats(),
        fake_stats: &fake_stats,
        router_log: &router.log_path(),
        elapsed: started.elapsed(),
    }
    .check()
    .await;
    if args.keep || !report {
        let kept = work.keep();
        println!(
            "work folder kept: {} (databases, router/router.log, station.log)",
            kept.display()
        );
    }
    report
}

/// The last start: no work made, no faults, until nothing is left to send (or `limit_s`), then
/// the audit chain checked by the station itself.
async fn drain(
    layout: &Layout,
    proxy_url: &str,
    code: &str,
    tally: &Arc<Mutex<Tally>>,
    limit_s: u64,
    done: &mut Done,
) {
    let began = Instant::now();
    let mut station = spawn_station(layout, "--drain-mode", proxy_url, code, 0, tally);
    let mut last: Option<[u64; 6]> = None;
    let mut last_change = Instant::now();
    let limit = Duration::from_secs(limit_s);
    let mut printed = Instant::now();
    done.drain_ended = loop {
        let event = tokio::time::timeout(Duration::from_secs(5), station.events.recv()).await;
        match event {
            Ok(Some(Event::Status(counts))) => {
                if last != Some(counts) {
                    last = Some(counts);
                    last_change = Instant::now();
                }
                let [q, u, w, r, _, _] = counts;
                if q + u + w + r == 0 {
                    break "the outbox is empty of work".to_owned();
                }
                if printed.elapsed() > Duration::from_secs(10) {
                    printed = Instant::now();
                    println!(
                        "  draining: queued {q}, uploading {u}, waiting {w}, retrying {r}, parked {}, done {}",
                        counts[4], counts[5]
                    );
                }
                // nothing has moved for a while: the rows wait for something that will not come
                // (the checks below say what). Rows waiting for a result move when it comes;
                // retrying ones within the retry policy's cap (60 s) of their last failure.
                let still = last_change.elapsed();
                if q + u + r == 0 && still > Duration::from_secs(45) {
                    break format!(
                        "{w} rows still waiting for a result after 45 s without a change"
                    );
                }
                if still > Duration::from_secs(75) {
                    break format!(
                        "no change for 75 s: queued {q}, uploading {u}, waiting {w}, retrying {r}"
                    );
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break "the station process ended by itself".to_owned(),
            Err(_) => {}
        }
        if began.elapsed() > limit {
            break format!("not empty after {limit_s} s");
        }
    };
    done.drain_last = last;
    done.drain_time = began.elapsed();
    // the station checks its own audit chain, then ends cleanly
    if let Some(stdin) = station.child.stdin.as_mut() {
        let _ = stdin.write_all(b"verify\n").await;
        let _ = stdin.flush().await;
    }
    let audit = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = station.events.recv().await {
            if let Event::Audit(line) = event {
                return Some(line);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    done.audit = audit;
    let _ = tokio::time::timeout(Duration::from_secs(20), station.child.wait()).await;
    let _ = station.kill().await;
    println!(
        "drain: {} ({:.0} s)",
        done.drain_ended,
        done.drain_time.as_secs_f64()
    );
}
