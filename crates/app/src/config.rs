//! Configuration, read once at start and passed in, so that tests control it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use domain::audit::AuditKey;

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
    /// The secret that seals the audit log's entries and signs its head
    /// (see `domain::audit`). The CLI reads it from the key file
    /// ([`Config::default_audit_key_file`], or `PASSERELLE_AUDIT_KEY_FILE`);
    /// every server of one database must hold the same. [`Config::new`]
    /// draws a random key that lives as long as this process — right for
    /// tests, while a log sealed with it cannot be verified after a restart.
    /// Never printed (its `Debug` shows a fingerprint).
    pub audit_key: Arc<AuditKey>,
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
            audit_key: Arc::new(random_audit_key()),
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
            // The system clock itself.
            #[allow(clippy::disallowed_methods)]
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

    /// The audit key file for a database URL: `audit.key` in the directory
    /// of an SQLite file, or `./passerelle-data/audit.key` for PostgreSQL
    /// (where every server must hold a copy of the same file).
    pub fn default_audit_key_file(database_url: &str) -> PathBuf {
        if let Some(path) = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
        {
            let p = Path::new(path.split('?').next().unwrap_or(path));
            if let Some(dir) = p.parent().filter(|_| p != Path::new(":memory:")) {
                return dir.join("audit.key");
            }
        }
        PathBuf::from("passerelle-data/audit.key")
    }
}

/// A new audit key from the operating system's CSPRNG.
pub fn random_audit_key() -> AuditKey {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; AuditKey::LEN];
    OsRng.fill_bytes(&mut bytes);
    AuditKey::from_bytes(bytes)
}

/// Reads the audit key file (64 hexadecimal digits), or creates it with a
/// new random key, readable by its owner only, when it does not exist; says
/// whether it created it. Two processes starting at once end up with the same
/// key: the file is written aside, then linked into place only if nobody
/// else did first. A key file that other accounts may read is refused.
pub fn load_or_create_audit_key(path: &Path) -> std::io::Result<(AuditKey, bool)> {
    use std::io::{Error, ErrorKind, Write};
    match read_audit_key(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        other => return other.map(|k| (k, false)),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let key = random_audit_key();
    // A unique temporary file name, not a time.
    #[allow(clippy::disallowed_methods)]
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}-{nanos}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok((key, true)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((read_audit_key(path)?, false)),
        Err(e) => Err(Error::new(
            e.kind(),
            format!(
                "création de la clé du journal d'audit {} : {e}",
                path.display()
            ),
        )),
    }
}

fn read_audit_key(path: &Path) -> std::io::Result<AuditKey> {
    use std::io::{Error, ErrorKind};
    let text = std::fs::read_to_string(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "la clé du journal d'audit {} est accessible à d'autres comptes (mode {mode:o}) : \
                     chmod 600 {}",
                    path.display(),
                    path.display()
                ),
            ));
        }
    }
    AuditKey::from_hex(&text).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "clé du journal d'audit {} illisible : attendu 64 chiffres hexadécimaux \
                 (par exemple `openssl rand -hex 32`)",
                path.display()
            ),
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_key_file_is_created_once_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("passerelle-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/audit.key");
        let (key, created) = load_or_create_audit_key(&path).unwrap();
        assert!(created);
        let (again, created) = load_or_create_audit_key(&path).unwrap();
        assert!(!created);
        assert_eq!(key, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_or_create_audit_key(&path).unwrap_err();
            assert!(err.to_string().contains("chmod 600"), "{err}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, "pas une clé").unwrap();
        let err = load_or_create_audit_key(&path).unwrap_err();
        assert!(err.to_string().contains("64 chiffres"), "{err}");
        assert!(!err.to_string().contains("pas une"), "{err}");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.join("sub")).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_default_key_file_sits_beside_the_sqlite_database() {
        assert_eq!(
            Config::default_audit_key_file("sqlite://./passerelle-data/passerelle.db"),
            PathBuf::from("./passerelle-data/audit.key")
        );
        assert_eq!(
            Config::default_audit_key_file("postgres://u@h/db"),
            PathBuf::from("passerelle-data/audit.key")
        );
        assert_eq!(
            Config::default_audit_key_file("sqlite::memory:"),
            PathBuf::from("passerelle-data/audit.key")
        );
        let config = Config::new("sqlite::memory:", PathBuf::from("data"));
        assert!(!format!("{config:?}").contains(&config.audit_key.to_hex()));
    }
}
