//! Configuration, read once at start and passed in, so that tests control it.

use std::path::PathBuf;

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
    /// Token that enables API writes until accounts exist; `None` disables
    /// writes through the API.
    pub admin_token: Option<String>,
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
