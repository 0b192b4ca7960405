//! Use cases of Passerelle: everything the web pages, the JSON API and the
//! CLI do goes through here. The authorization policy (`policy`) decides
//! every access to campus data; handlers never decide on their own.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod catalogue;
pub mod config;
pub mod demo;
pub mod error;
pub mod imports;
pub mod indexer;
pub mod listing;
pub mod mail;
pub mod maintenance;
pub mod map;
pub mod network;
pub mod observatory;
pub mod outcomes;
pub mod policy;
pub mod privacy;
pub mod reference;
pub mod survey;
pub mod synthetic;
pub mod totp;

use std::sync::Arc;

pub use config::Config;
pub use error::AppError;
pub use policy::{Action, Actor, Resource};
use search::SearchIndex;
use store::Store;

/// The rows the use cases return, for the pages, the API and the command
/// line, which do not depend on `store` themselves.
pub mod rows {
    pub use store::{
        AnswerRow, AuditRow, CampaignRow, CampusRow, DatasetRow, FormationRow, JoinRequestInput,
        JoinRequestRow, MemberRow, OccupationRow, PrivacyRequestRow, SkillRow, Upsert,
    };
}

/// Codes and names of the départements, shared.
type DepartementNames = Arc<Vec<(String, String)>>;

/// The application: the store, this server's search index and the
/// configuration. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Private: every access to campus data goes through a use case and
    /// its policy (`testing` builds expose it to tests, see [`App::store`]).
    store: Store,
    index: Arc<SearchIndex>,
    pub config: Arc<Config>,
    /// Names of the départements, read once: every catalogue search labels
    /// its facets with them. Cleared when reference data changes.
    departements: Arc<std::sync::RwLock<Option<DepartementNames>>>,
    /// The shipped list of common passwords, read on first use.
    common_passwords: Arc<std::sync::OnceLock<Arc<std::collections::HashSet<String>>>>,
    /// What sign-ins for unknown addresses verify against (see `accounts`).
    dummy_hash: Arc<std::sync::OnceLock<String>>,
    /// Computed observatory views, reused while the data do not change.
    observatory_cache: Arc<observatory::ObservatoryCache>,
    /// The one index writer of this server: catch-ups run one at a time,
    /// so concurrent requests never race for tantivy's writer lock.
    index_gate: Arc<tokio::sync::Mutex<()>>,
    /// Uncached observatory views are computed one at a time.
    observatory_builds: Arc<tokio::sync::Semaphore>,
}

impl App {
    /// Connects to the database, applies migrations and opens the search
    /// index, bringing it up to date with the change log.
    pub async fn open(config: Config) -> Result<Self, AppError> {
        // Rows the store stamps itself follow the application's clock.
        let clock = config.clock.clone();
        let store = Store::connect(&config.database_url)
            .await?
            .with_clock(std::sync::Arc::new(move || {
                clock
                    .now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }));
        store.migrate().await?;
        // A log without a head yet (new, or written before the key) gets one
        // signed now; a log that lost its head keeps that visible.
        store.seal_audit_head(&config.audit_key).await?;
        let index = match &config.index_dir {
            Some(dir) => SearchIndex::open(dir)?,
            None => SearchIndex::in_memory()?,
        };
        let app = Self {
            store,
            index: Arc::new(index),
            config: Arc::new(config),
            departements: Arc::default(),
            common_passwords: Arc::default(),
            dummy_hash: Arc::default(),
            observatory_cache: Arc::default(),
            index_gate: Arc::default(),
            observatory_builds: Arc::new(tokio::sync::Semaphore::new(1)),
        };
        app.catch_up_index().await?;
        Ok(app)
    }
}

impl App {
    /// The store, for tests that prepare or inspect data beneath the use
    /// cases. Not in production builds: pages, API and command line go
    /// through the use cases.
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn cached_departements(&self) -> Option<DepartementNames> {
        self.departements
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_cached_departements(&self, value: Option<DepartementNames>) {
        *self
            .departements
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
    }
}
