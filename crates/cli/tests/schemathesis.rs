//! The API against its own OpenAPI document, with schemathesis (property-
//! based requests generated from the document): every operation, anonymous
//! and with a write token, must answer without a server error and only with
//! statuses, content types and bodies the document describes. Needs the
//! `st` command (`pip install schemathesis`); prints SKIPPED without it, and
//! fails instead when `CI=true`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_passerelle");

/// The checks that make the contract: no 5xx, documented statuses, content
/// types, bodies and headers.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn passerelle(work: &Path, url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(work)
        .env("DATABASE_URL", url)
        // The anonymous limit would answer most generated requests with 429.
        .env("PASSERELLE_API_RATE", "0")
        .env("PASSERELLE_LOG", "warn")
        // The demo's accounts and a token are enough: no second factor.
        .env("PASSERELLE_REQUIRE_TOTP", "0");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn the_api_keeps_its_openapi_contract() {
    if Command::new("st").arg("--version").output().is_err() {
        let msg = "schemathesis (st) is not installed: pip install schemathesis";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}: required when CI=true");
        }
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let work = std::env::temp_dir().join(format!("passerelle-schemathesis-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let url = format!("sqlite://{}", work.join("passerelle.db").display());
    let out = passerelle(&work, &url)
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(&work)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = passerelle(&work, &url)
        .args([
            "admin",
            "create-token",
            "--email",
            "admin.reseau@example.org",
            "--write",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let port = free_port();
    let _server = Server(
        passerelle(&work, &url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Meanwhile, slow clients: a connection that never finishes its headers
    // and one left idle after a request are both closed by the server.
    let slow = std::thread::spawn(move || slow_clients_are_cut(port));
    let schema = format!("http://127.0.0.1:{port}/api/v1/openapi.json");
    for auth in [None, Some(format!("Authorization: Bearer {token}"))] {
        let mut st = Command::new("st");
        st.args([
            "run",
            &schema,
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--seed",
            "20261207",
        ])
        .args(["--request-timeout", "30", "--no-color"]);
        if let Some(h) = &auth {
            st.args(["--header", h]);
        }
        let out = st.output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis ({}) found failures:\n{report}\n{}",
            if auth.is_some() {
                "with a write token"
            } else {
                "anonymous"
            },
            String::from_utf8_lossy(&out.stderr)
        );
    }
    slow.join().expect("slow clients");
    let _ = std::fs::remove_dir_all(&work);
}

/// Connections that trickle their headers or stay idle are closed after the
/// server's header-read timeout (10 s), not held open.
fn slow_clients_are_cut(port: u16) {
    use std::io::{Read, Write};
    let closed_within = |mut s: std::net::TcpStream, what: &str| {
        s.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("{what}: still open after {:?} ({e})", start.elapsed()),
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{what}");
    };
    let mut trickle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    closed_within(trickle, "unfinished headers");
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    closed_within(idle, "idle keep-alive connection");
}
