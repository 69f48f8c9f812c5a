//! The station as a child process: `--station-mode ROOT PROXY_URL CODE SEED` opens the station
//! in `ROOT/station`, connects it once (the same enrolment code every start: a start killed
//! mid-enrolment repeats the same enrolment), and makes work until it is killed: new visit
//! photos (the grocery fixture with a few random bytes after its JPEG end, so every one is a
//! new photo that decodes the same) and review decisions, some undone and decided again. Each
//! thing finished is one line on stdout, written after the station returned it (so committed):
//!
//! ```text
//! READY <visit>            CONNECTED
//! PHOTO <item> new|again <state> <pending rules>
//! DECIDED <task> <action> <hash>     UNDONE <task> <hash>
//! ERROR <what>: <message>
//! ```
//!
//! `--drain-mode ROOT PROXY_URL CODE SEED` opens the station and makes no work: it prints
//! `STATUS <queued> <uploading> <waiting> <retrying> <parked> <done> <online>` twice a second
//! until `verify` comes on stdin, then `AUDIT <intact> <decisions> <problem>` and ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use protocol::{DecisionInput, QueueQuery, RejectReason, WireEnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use station::{PhotoState, Station};

use super::Layout;

pub const REVIEWER: &str = "chaos";
const STATION_NAME: &str = "chaos-station";
const PHOTO: &str = "grocery/queries/Fruit/Passion-Fruit-Passion-Fruit_002.jpg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Work,
    Drain,
}

/// The store of the visits: a 'Fruit display' shot with one rule for the cloud LLM (as the
/// station tests' `visit_config`).
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

pub fn main(args: &[String], mode: Mode) -> ExitCode {
    let [root, url, code, seed] = args else {
        eprintln!("usage: sync_chaos --station-mode|--drain-mode ROOT PROXY_URL CODE SEED");
        return ExitCode::from(2);
    };
    let layout = Layout {
        root: PathBuf::from(root),
    };
    let seed: u64 = seed.parse().unwrap_or(0);
    // the station's warnings (a result for no job, a move refused…) go to station.log
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SYNC_CHAOS_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    eprintln!("--- {mode:?} process {} (seed {seed})", std::process::id());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let station = Station::open(&layout.station())
            .await
            .expect("the station opens");
        match mode {
            Mode::Work => work(&station, &layout, url, code, seed).await,
            Mode::Drain => drain(&station).await,
        }
    });
    ExitCode::SUCCESS
}

/// Connected once for good: a start that finds no connection (the first, or one killed before
/// the connection was recorded) connects with the code; the key already in the keyring makes a
/// repeat the same enrolment.
async fn connect(station: &Arc<Station>, url: &str, code: &str) {
    for _ in 0..120 {
        match station.sync().status().await {
            Ok(status) if status.connection.is_some() => return,
            Ok(_) => {}
            Err(error) => say(&format!("ERROR status: {}", first_line(&error))),
        }
        match station.sync().connect(url, code, STATION_NAME).await {
            Ok(_) => {
                say("CONNECTED");
                return;
            }
            Err(error) => {
                say(&format!("ERROR connect: {}", first_line(&error)));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    panic!("the station could not connect in a minute");
}

/// Signs the run's account in, unless a session from an earlier life is still there: the first
/// time it enrols the authenticator (the otpauth URL kept beside the router, as a phone keeps
/// it); later with a code from it, the next step's (one use per step).
async fn sign_in(station: &Arc<Station>, layout: &Layout) {
    let account = station.account();
    let url_file = layout.router().join("totp-url.txt");
    for attempt in 0..6 {
        match account.status().await {
            Ok(status) if !status.sign_in_required => return,
            Ok(_) => {}
            Err(error) => say(&format!("ERROR account: {}", first_line(&error))),
        }
        let challenge = match account
            .login_password(REVIEWER, super::parts::PASSWORD)
            .await
        {
            Ok(challenge) => challenge,
            Err(error) => {
                say(&format!("ERROR sign-in: {}", first_line(&error)));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (url, offset) = match challenge.otpauth_url {
            Some(url) => {
                std::fs::write(&url_file, &url).expect("the otpauth URL is kept");
                (url, 0)
            }
            None => (
                std::fs::read_to_string(&url_file).expect("the otpauth URL kept"),
                30,
            ),
        };
        let code = testbed::totp_code(&url, offset);
        match account
            .login_code(&challenge.challenge, Some(&code), None)
            .await
        {
            Ok(_) => {
                say("SIGNED IN");
                return;
            }
            Err(error) => {
                say(&format!(
                    "ERROR code (attempt {attempt}): {}",
                    first_line(&error)
                ));
                // the step was used by an earlier life: the next one comes within 30 s
                tokio::time::sleep(Duration::from_secs(31)).await;
            }
        }
    }
    panic!("the account could not sign in");
}

async fn work(station: &Arc<Station>, layout: &Layout, url: &str, code: &str, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    connect(station, url, code).await;
    sign_in(station, layout).await;
    let visit = match station.visits().current_visit().await {
        Ok(Some(visit)) => visit,
        _ => station
            .visits()
            .start_visit("s1", REVIEWER, None)
            .await
            .expect("a visit starts"),
    };
    say(&format!("READY {}", visit.id));
    // photos a killed life was adding: added again, as the person at the station would
    let mut leftovers: Vec<PathBuf> = std::fs::read_dir(layout.card())
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
        add_photo(station, layout, visit.id, &path).await;
    }
    let template = std::fs::read(super::fixtures().join(PHOTO)).expect("the fixture photo");
    let mut n = 0u64;
    loop {
        if rng.gen_bool(0.45) {
            n += 1;
            let name = format!("photo-{seed}-{n}.jpg");
            let mut bytes = template.clone();
            // after the JPEG's end marker: decodes the same, hashes differently
            bytes.extend((0..16).map(|_| rng.gen::<u8>()));
            let partial = layout.card().join(format!(".partial-{name}"));
            let path = layout.card().join(&name);
            std::fs::write(&partial, &bytes).expect("a photo written");
            std::fs::rename(&partial, &path).expect("a photo in place");
            add_photo(station, layout, visit.id, &path).await;
        } else {
            review(station, &mut rng).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..120))).await;
    }
}

async fn add_photo(station: &Arc<Station>, layout: &Layout, visit: i64, path: &Path) {
    match station.visits().add_visit_photo(visit, path).await {
        Ok(photo) => {
            let Some(item) = photo.item_id else {
                say(&format!(
                    "ERROR photo: {} kept no item: {:?}",
                    path.display(),
                    photo.error
                ));
                return;
            };
            let state = match photo.state {
                PhotoState::Accepted => "accepted",
                PhotoState::Extra => "extra",
                PhotoState::Retake => "retake",
                PhotoState::Unreadable => "unreadable",
            };
            say(&format!(
                "PHOTO {item} {} {state} {}",
                if photo.duplicate { "again" } else { "new" },
                photo.pending_rules
            ));
            if let Some(name) = path.file_name() {
                let _ = std::fs::rename(path, layout.card_done().join(name));
            }
        }
        // left on the card: the next life adds it again
        Err(error) => say(&format!("ERROR photo: {}", first_line(&error))),
    }
}

async fn review(station: &Arc<Station>, rng: &mut StdRng) {
    let review = station.review();
    let task = match review.claim_next(&QueueQuery::default(), &[]).await {
        Ok(Some(task)) => task,
        Ok(None) => {
            tokio::time::sleep(Duration::from_millis(150)).await;
            return;
        }
        Err(error) => {
            say(&format!("ERROR claim: {}", first_line(&error)));
            return;
        }
    };
    let decide = |rng: &mut StdRng| {
        if rng.gen_bool(0.7) {
            DecisionInput::Approve
        } else {
            let reasons = <RejectReason as WireEnum>::ALL;
            DecisionInput::Reject {
                reason_code: reasons[rng.gen_range(0..reasons.len())],
            }
        }
    };
    let first = decide(rng);
    match review
        .decide(task.id, first, rng.gen_range(300..3000))
        .await
    {
        Ok(record) => say(&format!(
            "DECIDED {} {} {}",
            task.id,
            record.action.as_str(),
            record.hash
        )),
        Err(error) => {
            say(&format!("ERROR decide: {}", first_line(&error)));
            return;
        }
    }
    if rng.gen_bool(0.25) {
        match review.undo_decision(task.id).await {
            Ok(record) => say(&format!("UNDONE {} {}", task.id, record.hash)),
            Err(error) => {
                say(&format!("ERROR undo: {}", first_line(&error)));
                return;
            }
        }
        let again = decide(rng);
        match review
            .decide(task.id, again, rng.gen_range(300..3000))
            .await
        {
            Ok(record) => say(&format!(
                "DECIDED {} {} {}",
                task.id,
                record.action.as_str(),
                record.hash
            )),
            Err(error) => say(&format!("ERROR decide: {}", first_line(&error))),
        }
    }
}

async fn drain(station: &Arc<Station>) {
    let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    loop {
        tokio::select! {
            command = commands.recv() => {
                if command.as_deref().is_none_or(|c| c.trim() == "verify") {
                    break;
                }
            }
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                match station.sync().status().await {
                    Ok(s) => say(&format!(
                        "STATUS {} {} {} {} {} {} {}",
                        s.counts.queued,
                        s.counts.uploading,
                        s.counts.waiting,
                        s.counts.retrying,
                        s.counts.parked,
                        s.counts.done,
                        if s.online { "online" } else { "offline" }
                    )),
                    Err(error) => say(&format!("ERROR status: {}", first_line(&error))),
                }
            }
        }
    }
    match station.review().verify_audit().await {
        Ok(check) => say(&format!(
            "AUDIT {} {} {}",
            check.intact,
            check.decisions,
            check.problem.as_deref().unwrap_or("-")
        )),
        Err(error) => say(&format!(
            "AUDIT false 0 the check failed: {}",
            first_line(&error)
        )),
    }
}
