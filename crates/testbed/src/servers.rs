//! PostgreSQL and redis-server from Debian's packages, each started on a free loopback port with
//! a throwaway data directory and stopped by its PID when dropped: the router's shared stores
//! in tests and benchmarks (issue 20). Nothing here is a stand-in: the real servers or a failed
//! test that says which package to install.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer after it was started (a cold PostgreSQL on a busy
/// 2-core machine answers within a few seconds).
const STARTUP: Duration = Duration::from_secs(60);

/// A PostgreSQL server of its own (`initdb` into a temp folder, trust authentication on
/// 127.0.0.1 only), stopped by its PID when dropped.
#[allow(missing_debug_implementations)] // a handle on a running process: nothing to print
pub struct Postgres {
    child: Child,
    bin: PathBuf,
    port: u16,
    /// Owned by the unprivileged user the server runs as when the tests run as root.
    _data: tempfile::TempDir,
}

/// The superuser `initdb` creates; tests connect as it.
pub const POSTGRES_USER: &str = "review";

impl Postgres {
    /// Starts one. PostgreSQL refuses to run as root: under root (CI, containers) the server runs
    /// as the `postgres` user Debian's package creates, or `nobody`, through `setpriv`, which
    /// executes it in place so the PID kept here is the server's own.
    pub fn start() -> Self {
        let bin = postgres_bin_dir();
        let data = tempfile::Builder::new()
            .prefix("review-station-pg-")
            .tempdir()
            .expect("a temp folder for PostgreSQL");
        let run_as = if is_root() {
            Some(unprivileged_user())
        } else {
            None
        };
        if let Some(user) = &run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(data.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown {user} {}", data.path().display());
        }
        let cluster = data.path().join("cluster");
        let initdb = as_user(&run_as, &bin.join("initdb"))
            .args(["--no-sync", "--auth=trust", "--encoding=UTF8", "--locale=C"])
            .args(["--username", POSTGRES_USER, "--pgdata"])
            .arg(&cluster)
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let port = free_port();
        let child = as_user(&run_as, &bin.join("postgres"))
            .arg("-D")
            .arg(&cluster)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(data.path())
            // throwaway data: durability is not what these tests are about, and fsync on a
            // shared CI disk makes every commit cost milliseconds
            .args(["-c", "fsync=off", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let server = Self {
            child,
            bin,
            port,
            _data: data,
        };
        server.wait_until_ready();
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Creates a database and returns its URL (`postgres://review@127.0.0.1:PORT/NAME`).
    pub fn create_database(&self, name: &str) -> String {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a plain database name: {name}"
        );
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", POSTGRES_USER, name])
            .output()
            .expect("createdb runs");
        assert!(
            out.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{POSTGRES_USER}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// Runs one SQL statement with `psql` and returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", POSTGRES_USER, "-d", database])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn wait_until_ready(&self) {
        let started = Instant::now();
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                started.elapsed() < STARTUP,
                "PostgreSQL did not answer on 127.0.0.1:{} within {STARTUP:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: sessions ended, no checkpoint wait
        stop(&mut self.child, "INT");
    }
}

/// A redis-server of its own (no persistence, loopback only), stopped by its PID when dropped.
#[allow(missing_debug_implementations)] // a handle on a running process: nothing to print
pub struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    pub fn start() -> Self {
        let server = which("redis-server").unwrap_or_else(|| {
            panic!("redis-server is not installed: apt-get install redis-server (scripts/setup.sh --tests does)")
        });
        let dir = tempfile::Builder::new()
            .prefix("review-station-redis-")
            .tempdir()
            .expect("a temp folder for redis");
        let port = free_port();
        let child = Command::new(server)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = Self {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        while server.command(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                started.elapsed() < STARTUP,
                "redis-server did not answer on 127.0.0.1:{port} within {STARTUP:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends one command (RESP) and returns the first line of the reply (`+OK`, `:3`, `$5` …),
    /// `None` when nothing answers: enough for the tests to look at what the router left there.
    pub fn command(&self, args: &[&str]) -> Option<String> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            if stream.read(&mut byte).ok()? == 0 {
                return None;
            }
            reply.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&reply).trim_end().to_owned())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        stop(&mut self.child, "TERM");
    }
}

/// Signals the process by its PID, waits up to 10 s, then kills it.
fn stop(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A port nothing listens on now (the kernel's pick; the server binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The newest installed server: /usr/lib/postgresql/<major>/bin (Debian's layout).
fn postgres_bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: apt-get install postgresql (scripts/setup.sh --tests does)")
    })
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("setpriv");
            command
                .arg(format!("--reuid={user}"))
                .arg(format!("--regid={user}"))
                .args(["--init-groups", "--reset-env"])
                .arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `postgres` when Debian's package created it, else `nobody`.
fn unprivileged_user() -> String {
    let known = |name: &str| {
        Command::new("id")
            .arg(name)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if known("postgres") {
        "postgres".into()
    } else {
        "nobody".into()
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/usr/bin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
    }

    #[test]
    fn postgres_answers_on_loopback_and_stops_by_its_pid() {
        let pg = Postgres::start();
        let pid = pg.pid();
        let url = pg.create_database("checks");
        assert!(url.ends_with("/checks"), "{url}");
        pg.psql(
            "checks",
            "CREATE TABLE t (n bigint); INSERT INTO t VALUES (41), (1)",
        );
        assert_eq!(pg.psql("checks", "SELECT sum(n) FROM t"), "42");
        // the PID kept is the server's own (setpriv executes in place), and it is not root's
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "postgres");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_default();
        assert!(
            !uid.is_empty() && uid != "0",
            "postgres runs as uid {uid:?}"
        );
        drop(pg);
        assert!(!alive(pid), "postgres {pid} still runs after drop");
    }

    #[test]
    fn redis_answers_on_loopback_and_stops_by_its_pid() {
        let redis = Redis::start();
        let pid = redis.pid();
        assert_eq!(redis.command(&["SET", "k", "v"]).as_deref(), Some("+OK"));
        assert_eq!(redis.command(&["INCRBY", "n", "5"]).as_deref(), Some(":5"));
        assert_eq!(
            redis.command(&["CONFIG", "GET", "bind"]).as_deref(),
            Some("*2")
        );
        drop(redis);
        assert!(!alive(pid), "redis-server {pid} still runs after drop");
    }
}
