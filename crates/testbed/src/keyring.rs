//! gnome-keyring's Secret Service on the D-Bus session bus of `dbus-run-session` (the test
//! command runs the tests under one), with a fresh, unlocked login keyring in a temp folder.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// gnome-keyring-daemon (secrets only), stopped by its PID when dropped.
#[allow(missing_debug_implementations)] // a handle on running processes: nothing to print
pub struct GnomeKeyring {
    child: Child,
    _home: tempfile::TempDir,
    /// One Secret Service per bus: the tests of one binary that need it take turns.
    _turn: std::sync::MutexGuard<'static, ()>,
}

static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for GnomeKeyring {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GnomeKeyring {
    /// Starts one on the session bus, which must be the tests' own: it refuses a bus with other
    /// services on it, as a desktop's has (it would replace the person's own keyring there).
    pub fn start() -> Self {
        // a test that failed while holding its turn must not fail every later one
        let turn = TURN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "no D-Bus session bus: run the tests under one, as scripts/test.sh does \
             (dbus-run-session -- cargo test)"
        );
        // the daemon started here takes org.freedesktop.secrets on this bus (replacing any
        // keyring there): never on a desktop session's, where it would stand in for the person's
        // own keyring. A bus of the tests' own has no well-known names but the bus's and those
        // of a gnome-keyring it started by activation or an earlier test started; a desktop's or
        // a systemd user bus always has others.
        let others: Vec<String> = names_on_the_bus()
            .into_iter()
            .filter(|n| !n.starts_with(':') && !OURS.contains(&n.as_str()))
            .collect();
        assert!(
            others.is_empty(),
            "this D-Bus session has services on it ({others:?}), as a desktop's has: run the \
             tests on a bus of their own (dbus-run-session -- cargo test)"
        );
        let home = tempfile::tempdir().expect("tempdir");
        let dir = |name: &str| {
            let path = home.path().join(name);
            std::fs::create_dir_all(&path).expect("a folder");
            path
        };
        // --replace: the bus may have started one already by activation (its .service file),
        // with the real home's keyrings; this one has a fresh login keyring, unlocked
        let mut child = Command::new("gnome-keyring-daemon")
            .args([
                "--foreground",
                "--replace",
                "--components=secrets",
                "--unlock",
            ])
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", dir("data"))
            .env("XDG_CONFIG_HOME", dir("config"))
            .env("XDG_RUNTIME_DIR", dir("run"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (installed by scripts/setup.sh)");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"the-tests-login-password")
            .expect("the password");
        drop(stdin);
        let started = Instant::now();
        while !owns_secrets(child.id()) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "gnome-keyring-daemon did not take org.freedesktop.secrets on the bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            _home: home,
            _turn: turn,
        }
    }
}

/// The well-known names a bus of the tests' own may have: the bus's, and gnome-keyring's.
const OURS: [&str; 3] = [
    "org.freedesktop.DBus",
    "org.freedesktop.secrets",
    "org.gnome.keyring",
];

/// Asks the bus itself (never the Secret Service, which the bus would start by activation from
/// its .service file, with this user's real keyrings).
fn ask_the_bus(args: &[&str]) -> Option<String> {
    Command::new("dbus-send")
        .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus"])
        .args(["/org/freedesktop/DBus"])
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

fn names_on_the_bus() -> Vec<String> {
    let reply = ask_the_bus(&["org.freedesktop.DBus.ListNames"]).expect("the bus lists its names");
    reply
        .lines()
        .filter_map(|l| l.trim().strip_prefix("string \""))
        .map(|n| n.trim_end_matches('"').to_owned())
        .collect()
}

/// Whether process `pid` owns org.freedesktop.secrets (asked without activating anything).
pub fn owns_secrets(pid: u32) -> bool {
    ask_the_bus(&[
        "org.freedesktop.DBus.GetConnectionUnixProcessID",
        "string:org.freedesktop.secrets",
    ])
    .is_some_and(|reply| reply.contains(&format!("uint32 {pid}")))
}
