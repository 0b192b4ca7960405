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

    /// Index directory for a database URL: beside an SQLite file, or under
    /// `./passerelle-data/index` for PostgreSQL (each server has its own).
    pub fn default_index_dir(database_url: &str) -> PathBuf {
        if let Some(path) = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
        {
            let p = PathBuf::from(path.split('?').next().unwrap_or(path));
            if let Some(parent) = p.parent() {
                return parent.join("index");
            }
        }
        PathBuf::from("passerelle-data/index")
    }
}
