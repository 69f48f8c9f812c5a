//! A TLS server whose certificate nobody trusts: `openssl s_server` with a self-signed
//! certificate made for the test (no key is kept in the repository).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SelfSigned {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for SelfSigned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SelfSigned {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            // a server's certificate (not a CA), issued under a name no system root has (Debian's
            // snakeoil certificate is "localhost", which webpki would try as the issuer): only
            // its issuer is unknown, as with any self-signed certificate
            .args([
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=review-sync-tests.invalid",
            ])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("the openssl command (the TLS test makes its certificate with it)");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            probe.local_addr().expect("an address").port()
        };
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            // s_server reads commands from stdin and stops at its end: held open
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "openssl s_server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            url: format!("https://127.0.0.1:{port}"),
            child,
            _dir: dir,
        }
    }
}
