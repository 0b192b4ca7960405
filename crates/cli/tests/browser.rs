//! Real-browser test of the public pages.
//!
//! Starts `passerelle demo` on a free port with a fresh data directory, then runs
//! `node e2e/run.mjs`, which drives the system Chromium through playwright-core: user journeys
//! (search with a typo, formation → métier, métier search, facets, pagination), structure checks
//! and axe-core WCAG 2.1 A/AA audits of every page visited (see `e2e/run.mjs`).
//!
//! The test needs `node` on `PATH`, Chromium (`/usr/bin/chromium` or `$CHROMIUM`) and the npm
//! packages of `e2e/` (`npm ci` in `e2e/`). When one is missing it says so on stderr and passes,
//! so that `cargo test` stays usable on a bare machine; with `CI=true` a missing tool fails the
//! test instead, so that CI cannot silently stop testing in a browser.
//!
//! Run it with: `cargo test -p passerelle --test browser -- --nocapture`.

use std::env;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the demo import and the server start may take before the test gives up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// Upper bound for the whole browser run; playwright has its own, shorter, per-step timeouts.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(600);

/// Everything the browser run needs from the machine.
struct Tools {
    node: PathBuf,
    chromium: PathBuf,
    e2e_dir: PathBuf,
}

/// Finds node, Chromium and the e2e npm packages, or says which are missing.
fn find_tools() -> Result<Tools, String> {
    let e2e_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let e2e_dir = e2e_dir.canonicalize().unwrap_or(e2e_dir);
    let chromium = env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node = find_on_path("node");

    let mut missing = Vec::new();
    if node.is_none() {
        missing.push("`node` on PATH (Node.js ≥ 18)".to_string());
    }
    if !chromium.is_file() {
        missing.push(format!(
            "Chromium at {} (apt-get install chromium, or set CHROMIUM)",
            chromium.display()
        ));
    }
    for package in ["playwright-core", "axe-core"] {
        let manifest = e2e_dir
            .join("node_modules")
            .join(package)
            .join("package.json");
        if !manifest.is_file() {
            missing.push(format!(
                "{} (run `npm ci` in {})",
                manifest.parent().unwrap().display(),
                e2e_dir.display()
            ));
        }
    }
    match node {
        Some(node) if missing.is_empty() => Ok(Tools {
            node,
            chromium,
            e2e_dir,
        }),
        _ => Err(format!("browser test needs {}", missing.join(", "))),
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A port nobody listens on right now. The listener is dropped before the server binds the port,
/// which leaves a small window for another process to take it; acceptable for a test.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0 to pick a free port")
        .port()
}

/// A directory of its own for this run: the server's data directory and the logs.
fn unique_temp_dir() -> PathBuf {
    // A unique name, not a time.
    #[allow(clippy::disallowed_methods)]
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = env::temp_dir().join(format!("passerelle-browser-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).expect("create the test's temporary directory");
    dir
}

/// The running `passerelle demo` server. Dropping it (at the end of the test or while unwinding
/// from a failed assertion) kills the server; the temporary directory is removed after a success
/// and kept after a failure, so that its logs can be read.
struct Server {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let stdout = File::create(dir.join("server.stdout.log")).expect("create server stdout log");
        let stderr = File::create(dir.join("server.stderr.log")).expect("create server stderr log");
        // Output goes to files rather than pipes: the reference-data import prints thousands of
        // anomaly lines, which would fill an unread pipe and stall the server.
        let child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .arg("demo")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--listen")
            .arg(addr.to_string())
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start `passerelle demo`");
        Server {
            child,
            dir: dir.to_path_buf(),
            addr,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls `/healthz` until it answers 200, the server exits, or the timeout passes.
    fn wait_until_healthy(&mut self) {
        let started = Instant::now();
        loop {
            if healthz_ok(self.addr) {
                eprintln!(
                    "server ready at {} after {:.1} s",
                    self.base_url(),
                    started.elapsed().as_secs_f64()
                );
                return;
            }
            if let Some(status) = self.child.try_wait().expect("poll the server process") {
                panic!(
                    "`passerelle demo` exited with {status} before serving\n{}",
                    self.logs()
                );
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                panic!(
                    "`passerelle demo` did not answer /healthz within {} s\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    self.logs()
                );
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// The last lines of the server's output, for failure messages.
    fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["server.stdout.log", "server.stderr.log"] {
            let text = fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            out.push_str(&format!(
                "--- {name} (last 40 lines) ---\n{}\n",
                tail(&text, 40)
            ));
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!(
                "browser test failed; server logs kept in {}",
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// One raw HTTP/1.1 GET of `/healthz`; true when the answer is `200`.
fn healthz_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

/// The demo accounts the browser signs in with: a campus manager, and the
/// editor of the support lycée.
const DEMO_MANAGER: &str = "equipe.demo@example.org";
const DEMO_EDITOR: &str = "redaction.demo@example.org";

/// The generated password `passerelle demo` printed for `email` at first start
/// (`  EMAIL  ROLE  PASSWORD`), read from the server's log.
fn demo_password(dir: &Path, email: &str) -> String {
    let log = fs::read_to_string(dir.join("server.stdout.log")).unwrap_or_default();
    log.lines()
        .find(|l| l.trim_start().starts_with(email))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_default()
        .to_owned()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs `node e2e/run.mjs BASE_URL`, with its output in files of `dir`, and kills it if it
/// outlives [`BROWSER_TIMEOUT`]. Returns the exit status (None on timeout) and the output.
fn run_browser(tools: &Tools, base_url: &str, dir: &Path) -> (Option<ExitStatus>, String) {
    let out_path = dir.join("node.stdout.log");
    let err_path = dir.join("node.stderr.log");
    let mut child = Command::new(&tools.node)
        .arg(tools.e2e_dir.join("run.mjs"))
        .arg(base_url)
        .current_dir(&tools.e2e_dir)
        .env("CHROMIUM", &tools.chromium)
        .env("E2E_EMAIL", DEMO_MANAGER)
        .env("E2E_PASSWORD", demo_password(dir, DEMO_MANAGER))
        .env("E2E_EDITOR_EMAIL", DEMO_EDITOR)
        .env("E2E_EDITOR_PASSWORD", demo_password(dir, DEMO_EDITOR))
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create node stdout log"))
        .stderr(File::create(&err_path).expect("create node stderr log"))
        .spawn()
        .expect("start node");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll node") {
            break Some(status);
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(200));
    };
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    let output = if stderr.trim().is_empty() {
        stdout
    } else {
        format!("{stdout}\n--- node stderr ---\n{stderr}")
    };
    (status, output)
}

#[test]
fn pages_work_in_a_real_browser_and_pass_axe() {
    let tools = match find_tools() {
        Ok(tools) => tools,
        Err(message) => {
            if env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            eprintln!("SKIPPED: {message}");
            return;
        }
    };

    let dir = unique_temp_dir();
    let mut server = Server::start(&dir);
    server.wait_until_healthy();

    let (status, output) = run_browser(&tools, &server.base_url(), &dir);
    // Shown live with `--nocapture`, and by the harness when the test fails.
    println!("{output}");
    match status {
        Some(status) if status.success() => {}
        Some(status) => panic!(
            "e2e/run.mjs failed ({status}); its output:\n{output}\n{}",
            server.logs()
        ),
        None => panic!(
            "e2e/run.mjs did not finish within {} s; its output so far:\n{output}\n{}",
            BROWSER_TIMEOUT.as_secs(),
            server.logs()
        ),
    }
}
