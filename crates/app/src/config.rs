//! Configuration, read once at start and passed in, so that tests control it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// Default database: an SQLite file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./passerelle-data/passerelle.db";

/// Settings of one Passerelle process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Where this server keeps its search index; `None` keeps it in memory
    /// (tests).
    pub index_dir: Option<PathBuf>,
    /// Whether this process keeps its search index current. Servers do; a
    /// one-shot command (import, export) does not touch the index, because
    /// the running servers follow the change log themselves and hold its
    /// writer lock.
    pub follow_index: bool,
    /// The reference data shipped with the project (`data/`).
    pub data_dir: PathBuf,
    /// Where "now" comes from: the system clock, or a clock tests move.
    pub clock: Clock,
    /// Cost of password hashing (Argon2id).
    pub password_cost: PasswordCost,
    /// Session lifetimes.
    pub sessions: SessionLimits,
    /// Sign-in throttling.
    pub throttle: Throttle,
    /// How long personal data is kept, per category.
    pub retention: Retention,
    /// Whether network admins and campus managers must use a TOTP second
    /// factor (enrolled at their first sign-in). The demonstration waives it
    /// and says so on the sign-in page.
    pub require_totp: bool,
    /// Rate limit of anonymous API requests per address, per server; `None`
    /// disables it (benchmarks do, and say so).
    pub api_rate: Option<ApiRate>,
    /// The SMTP server mail is sent through; `None` keeps it in the outbox.
    pub smtp: Option<Smtp>,
    /// The address people reach the site at, for links sent by mail.
    pub public_url: String,
    /// Whether the site is served over HTTPS (directly or behind a proxy
    /// that terminates TLS): adds HSTS. Session cookies are `Secure` anyway.
    pub https: bool,
    /// The reverse proxies whose `X-Forwarded-For` is believed. Empty (the
    /// default): the client is the peer of the connection, whatever the
    /// headers say.
    pub trusted_proxies: Vec<IpNet>,
}

impl Config {
    /// A configuration with the production defaults for everything but the
    /// database and the data directory.
    pub fn new(database_url: impl Into<String>, data_dir: PathBuf) -> Self {
        Self {
            database_url: database_url.into(),
            index_dir: None,
            follow_index: true,
            data_dir,
            clock: Clock::System,
            password_cost: PasswordCost::default(),
            sessions: SessionLimits::default(),
            throttle: Throttle::default(),
            retention: Retention::default(),
            require_totp: true,
            public_url: "http://127.0.0.1:8080".into(),
            api_rate: Some(ApiRate::default()),
            smtp: None,
            https: false,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The source of the current time.
#[derive(Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that only moves when told (tests).
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A manual clock set at `at`.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock::Manual(Arc::new(Mutex::new(at)))
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Manual(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(t) = self {
            *t.lock().unwrap_or_else(PoisonError::into_inner) += by;
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clock::System => f.write_str("Clock::System"),
            Clock::Manual(_) => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

/// Argon2id parameters. The default is OWASP's recommendation (19 MiB,
/// 2 passes, 1 lane); tests lower it to keep the suite fast, nothing else
/// should.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordCost {
    /// The cheapest parameters Argon2 accepts, for tests only.
    pub fn for_tests() -> Self {
        Self {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// How long a session lives (ASVS 5.0 level 2: 30 minutes idle, 12 hours
/// in all, then the person signs in again).
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Ends a session unused for this long.
    pub idle: Duration,
    /// Ends a session this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

/// Limits on failed sign-ins, counted in the database so that they hold
/// across servers. Benchmarks may raise them (and say so).
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// Length of a counting window.
    pub window: Duration,
    /// Failed sign-ins allowed per account in a window.
    pub per_account: i64,
    /// Failed sign-ins allowed per address (IPv4 /24, IPv6 /48) in a window.
    pub per_address: i64,
    /// Accounts a learner may create from one address (prefix) per hour.
    pub signups_per_address: i64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            window: Duration::minutes(15),
            per_account: 5,
            per_address: 50,
            signups_per_address: 10,
        }
    }
}

impl Config {
    /// Finds the shipped `data/` directory: `PASSERELLE_DATA`, else `./data`,
    /// else the one of the source tree this binary was built from.
    pub fn default_data_dir() -> PathBuf {
        if let Ok(d) = std::env::var("PASSERELLE_DATA") {
            return PathBuf::from(d);
        }
        let local = PathBuf::from("data");
        if local.join("SOURCES.md").exists() {
            return local;
        }
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
    }

    /// Index directory for a database URL: `NAME-index` beside an SQLite
    /// file `NAME.db`, or `./passerelle-data/index` for PostgreSQL (each
    /// server has its own).
    pub fn default_index_dir(database_url: &str) -> PathBuf {
        if let Some(path) = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
        {
            // Named after the database file, so that two databases in one
            // directory never share an index.
            let p = PathBuf::from(path.split('?').next().unwrap_or(path));
            let stem = p
                .file_stem()
                .map_or_else(|| "passerelle".into(), |s| s.to_string_lossy().into_owned());
            return p.with_file_name(format!("{stem}-index"));
        }
        PathBuf::from("passerelle-data/index")
    }
}

/// Retention periods per category of personal data, applied by
/// `passerelle purge` (and daily by `serve`). See `docs/SECURITY.md`.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Who did what and from where, in the audit log: the entries stay, their
    /// personal fields are cleared after this long.
    pub audit_personal: Duration,
    /// Learner accounts with no activity for this long are erased.
    pub inactive_learner: Duration,
    /// Sign-in throttle counters.
    pub throttle: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            audit_personal: Duration::days(365),
            inactive_learner: Duration::days(3 * 365),
            throttle: Duration::days(1),
        }
    }
}

/// An address or a network (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`), as given
/// in `PASSERELLE_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this network. An IPv4 address written as
    /// IPv6-mapped (`::ffff:10.0.0.7`) is compared as IPv4.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = addr
            .parse()
            .map_err(|_| format!("« {s} » n'est pas une adresse IP"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("« {s} » : le préfixe doit aller de 0 à {max}"))?,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// A token bucket: `per_second` requests on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiRate {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for ApiRate {
    fn default() -> Self {
        Self {
            per_second: 20.0,
            burst: 60.0,
        }
    }
}

/// How to send mail: an SMTP URL as lettre reads it (`smtps://user:password@host`,
/// `smtp://host:587?tls=required`, `smtp://localhost:25` for a local relay) and
/// the sender address.
#[derive(Clone)]
pub struct Smtp {
    pub url: String,
    pub from: String,
}

impl std::fmt::Debug for Smtp {
    // The URL may hold the server's password: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("url", &store::redact(&self.url))
            .field("from", &self.from)
            .finish()
    }
}
