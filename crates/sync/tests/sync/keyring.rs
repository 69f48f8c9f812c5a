//! The device key in a real Secret Service: gnome-keyring on the D-Bus session bus of
//! `dbus-run-session` (the test command runs the tests under one), with a fresh login keyring in
//! a temp folder ([`GnomeKeyring`]). And the errors when there is no bus, or no Secret Service
//! on it: run in a child process (this test binary again), since the bus is read from the
//! environment, which a threaded test process must not change.

use std::process::{Child, Command, Stdio};

use sync::{new_device_key, DeviceKeys, KeyringError};
use testbed::GnomeKeyring;

const SERVICE: &str = "review-station-sync-tests";

/// The items the Secret Service holds for `service`, asked over D-Bus by another program.
fn items_for(service: &str, router: &str) -> String {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
        ])
        .args(["/org/freedesktop/secrets"])
        .args(["org.freedesktop.Secret.Service.SearchItems"])
        .arg(format!(
            "dict:string:string:service,{service},username,{router}"
        ))
        .output()
        .expect("dbus-send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_key_is_kept_in_the_secret_service() {
    let _keyring = GnomeKeyring::start();
    let keys = DeviceKeys::new(SERVICE);
    let router = "https://router.example.com/";
    let other = "https://other-router.example.com";
    assert_eq!(keys.load(router).await.unwrap(), None, "a fresh keyring");
    assert!(!keys.delete(router).await.unwrap(), "nothing to delete");

    let (first, _) = new_device_key();
    keys.store(router, &first).await.unwrap();
    assert_eq!(keys.load(router).await.unwrap(), Some(first.clone()));
    assert_eq!(
        keys.load("https://router.example.com").await.unwrap(),
        Some(first.clone()),
        "the same router however its address ends"
    );
    // it is in the service, where another program finds it (not in this process)
    assert!(
        items_for(SERVICE, "https://router.example.com")
            .contains("/org/freedesktop/secrets/collection/"),
        "stored as a Secret Service item"
    );
    assert_eq!(keys.load(other).await.unwrap(), None, "one key per router");
    assert!(
        !items_for(SERVICE, other).contains("/org/freedesktop/secrets/collection/"),
        "and none for another"
    );

    // enrolling again replaces the key
    let (second, _) = new_device_key();
    keys.store(router, &second).await.unwrap();
    assert_eq!(keys.load(router).await.unwrap(), Some(second));
    let (theirs, _) = new_device_key();
    keys.store(other, &theirs).await.unwrap();

    assert!(keys.delete(router).await.unwrap());
    assert_eq!(keys.load(router).await.unwrap(), None);
    assert!(!keys.delete(router).await.unwrap());
    assert_eq!(
        keys.load(other).await.unwrap(),
        Some(theirs),
        "the other stays"
    );
    assert!(keys.delete(other).await.unwrap());
}

/// Run by `without_a_secret_service_the_error_says_so` as a child, on the bus it is given: what
/// loading a key comes to.
#[tokio::test]
#[ignore = "a child of without_a_secret_service_the_error_says_so, on a bus of its choosing"]
async fn keyring_probe() {
    let outcome = DeviceKeys::new(SERVICE).load("https://probe.example").await;
    match outcome {
        Err(error) => println!("PROBE {}: {error}", kind(&error)),
        Ok(found) => println!("PROBE ok: {}", found.is_some()),
    }
}

fn kind(error: &KeyringError) -> &'static str {
    match error {
        KeyringError::NoSessionBus { .. } => "no-session-bus",
        KeyringError::NoSecretService { .. } => "no-secret-service",
        KeyringError::Locked { .. } => "locked",
        KeyringError::AccessDenied { .. } => "access-denied",
        KeyringError::Platform { .. } => "platform",
    }
}

fn probe(env: &[(&str, &str)], remove: &[&str]) -> String {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command.args([
        "--exact",
        "keyring::keyring_probe",
        "--ignored",
        "--nocapture",
    ]);
    for name in remove {
        command.env_remove(name);
    }
    let out = command
        .envs(env.iter().copied())
        .output()
        .expect("the child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find(|l| l.starts_with("PROBE "))
        .unwrap_or_else(|| panic!("the probe ran: {stdout}"))
        .to_owned()
}

#[test]
fn without_a_secret_service_the_error_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // no session bus at all: neither an address nor the default socket under XDG_RUNTIME_DIR
    let none = probe(
        &[("XDG_RUNTIME_DIR", dir.path().to_str().unwrap())],
        &["DBUS_SESSION_BUS_ADDRESS"],
    );
    assert!(none.starts_with("PROBE no-session-bus: "), "{none}");
    assert!(
        none.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
        "{none}"
    );
    assert!(none.contains("the station keeps working offline"), "{none}");
    let gone = format!("unix:path={}/no-bus-here", dir.path().display());
    let bogus = probe(&[("DBUS_SESSION_BUS_ADDRESS", &gone)], &[]);
    assert!(bogus.starts_with("PROBE no-session-bus: "), "{bogus}");

    // a bus, but nothing on it provides the Secret Service (and nothing can be activated)
    let bus = PrivateBus::start(dir.path());
    let missing = probe(&[("DBUS_SESSION_BUS_ADDRESS", &bus.address)], &[]);
    assert!(
        missing.starts_with("PROBE no-secret-service: "),
        "{missing}"
    );
    assert!(
        missing.contains("the station keeps working offline"),
        "{missing}"
    );
}

/// A D-Bus daemon of its own, with no service files: no name on it is ever activated.
struct PrivateBus {
    address: String,
    child: Child,
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PrivateBus {
    fn start(dir: &std::path::Path) -> Self {
        let socket = dir.join("bus");
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the bus's address");
        Self {
            address: line.trim().to_owned(),
            child,
        }
    }
}
