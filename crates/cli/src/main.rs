//! The `passerelle` binary: serve the site, load the demonstration campus,
//! migrate, import and export, rebuild the search index.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};

use app::imports::ImportError;
use app::{App, Config};
use ingest::sheet::SheetFormat;

/// Passerelle, the information system of a Campus des métiers et des
/// qualifications.
#[derive(Parser)]
#[command(name = "passerelle", version, about, long_about = None)]
struct Cli {
    /// Database: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site and the API.
    Serve(ServeArgs),
    /// Create the demonstration campus (reference data included) if missing, then serve.
    Demo(DemoArgs),
    /// Apply the database migrations.
    Migrate,
    /// Import data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export data.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Rebuild the search index from the database.
    Reindex,
    /// Accounts and API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Observatory computations.
    #[command(subcommand)]
    Analyse(AnalyseCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of the whole database to FILE (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup {
        /// The backup file to create (it holds personal data: keep it safe).
        file: PathBuf,
    },
    /// Apply the retention periods now (`serve` does it daily): clear old personal fields of the
    /// audit log, remove expired sessions, erase inactive learner accounts.
    Purge,
    /// Replace the whole database by the backup in FILE. Stop the servers first.
    Restore {
        /// A file written by `passerelle backup`.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AnalyseCommand {
    /// The tension indicator per métier × territory × period (docs/OBSERVATORY.md).
    Tension {
        /// Compute from this CSV of components alone (the database is not read):
        /// code_rome,territory_type,territory_code,period,offers,jobseekers_a,outflow_rate,difficult_share
        #[arg(long)]
        components: Option<PathBuf>,
        /// Reference period of the standardisation, FIRST..LAST (years, inclusive).
        #[arg(long)]
        reference: Option<String>,
        /// Campus whose data to use (without --components).
        #[arg(long)]
        campus: Option<String>,
        /// Tension period to show (YYYY; default: the latest).
        #[arg(long)]
        period: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Demand against the campus' supply per métier (docs/OBSERVATORY.md).
    Gap {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long)]
        period: Option<String>,
        /// What if the campus opened PLACES places of certification CODE: CODE=PLACES.
        #[arg(long)]
        what_if: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Skills most asked in the postings per métier, and those the campus' certifications do not cover.
    Skills {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Graduate outcomes (InserJeunes) of the campus' formations, with their quadrant.
    Outcomes {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Benchmark helper: time the counting step and the skills matching on a postings file,
    /// and write the commune → zone d'emploi table for the DuckDB baseline.
    #[command(hide = true)]
    BenchPostings {
        file: PathBuf,
        /// Where to write commune,zone (CSV).
        #[arg(long)]
        areas_out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum AnalyseFormat {
    Table,
    Csv,
    Json,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's chain and its signed head: exit 0 when they hold
    /// (printing the head to anchor), 1 naming the first broken entry.
    Verify {
        /// A head noted earlier with `passerelle audit head`: also check that
        /// its entry is still in the chain (no rollback below it).
        #[arg(long, value_name = "SEQ:MAC")]
        head: Option<app::audit::HeadAnchor>,
    },
    /// Print the audit log's signed head, SEQ:MAC, to keep outside the
    /// database (a log, a ticket, an e-mail) for `audit verify --head`.
    Head,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account and print its generated password (shown once).
    CreateUser {
        /// E-mail address, the sign-in identifier.
        #[arg(long)]
        email: String,
        /// network_admin, campus_manager, member_editor, observer or learner.
        #[arg(long)]
        role: String,
        /// Campus of the role (every role but network_admin).
        #[arg(long)]
        campus: Option<String>,
        /// Member organisation id (member_editor).
        #[arg(long)]
        member: Option<i64>,
        /// Name shown in the interface (default: the address).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the mail waiting in the outbox (reset links, invitations), newest first.
    Outbox {
        /// How many mails to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Send the mail waiting in the outbox now, through PASSERELLE_SMTP_URL (`serve` does it every 10 s).
    SendMail,
    /// Create an API token for an account and print it (shown once).
    CreateToken {
        /// E-mail address of the account.
        #[arg(long)]
        email: String,
        /// Allow writes (default: read-only).
        #[arg(long)]
        write: bool,
        /// Name of the token, to recognise it in the account page.
        #[arg(long, default_value = "ligne de commande")]
        name: String,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve plain HTTP on an address other than loopback (session cookies
    /// are `Secure`: browsers only send them over HTTPS or to localhost).
    #[arg(long)]
    allow_plain_http: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the SQLite database (`DIR/passerelle.db`), unless DATABASE_URL is set.
    #[arg(long, default_value = "passerelle-data")]
    data_dir: PathBuf,
    /// Load the data and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
    #[command(subcommand)]
    what: Option<DemoCommand>,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Write synthetic job postings (JSON lines, France Travail format, labelled synthetic)
    /// drawn from the reference data; the same seed gives the same file.
    Postings {
        /// How many postings.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Output file (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Last month of creation dates (YYYY-MM); the 12 months before it are covered.
        #[arg(long, default_value = "2026-11")]
        until: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load the reference data shipped in data/ (territories, ROME 4.0, Certif Info, RNCP).
    Referentiels {
        /// Directory of the shipped reference data.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Import training offers from a LHÉO file (1.3, 2.2, 2.3 or léger).
    Lheo {
        file: PathBuf,
        /// Campus receiving the offers (default: the only campus, or `demo`).
        #[arg(long)]
        campus: Option<String>,
        /// Import the valid offers and report the rejected ones instead of refusing the file.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Import members from a spreadsheet (CSV, XLSX or ODS).
    Membres {
        file: PathBuf,
        #[arg(long)]
        campus: Option<String>,
    },
    /// Import formations from a spreadsheet (CSV, XLSX or ODS).
    Formations {
        file: PathBuf,
        #[arg(long)]
        campus: Option<String>,
    },
    /// Import a published tension file: indicators per bassin d'emploi, BMO per FAP or per
    /// bassin, the France Travail statistics table, the DARES FAP → ROME table, communes →
    /// bassins (docs/OBSERVATORY.md). Without FILE: the files shipped in data/observatoire/.
    Tension {
        file: Option<PathBuf>,
        /// Edition of a BMO file (YYYY), which the file does not say.
        #[arg(long)]
        period: Option<String>,
    },
    /// Import job postings (France Travail « offres d'emploi v2 », JSON array or JSON lines).
    Postings { file: PathBuf },
    /// Import graduate outcomes: InserJeunes per formation × région or per establishment, or
    /// a BCN table that names their codes. Without FILE: the files shipped in data/inserjeunes/.
    Inserjeunes {
        file: Option<PathBuf>,
        /// Millésime of an establishment file (AAAA_AAAA) when its name does not say it.
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Xlsx,
    Ods,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write the published formations as LHÉO 2.3 on standard output.
    Lheo {
        #[arg(long)]
        campus: Option<String>,
    },
    /// Write the members of a campus as a spreadsheet.
    Membres {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Output file (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write the formations of a campus as a spreadsheet.
    Formations {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// mimalloc rather than the system allocator: imports and the search index
/// allocate and free millions of small strings, and glibc's malloc spent a
/// third of a 200,000-row import consolidating and unlinking chunks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PASSERELLE_LOG")
                .unwrap_or_else(|_| "warn,web=info,app=info,passerelle=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("erreur : {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Configuration from the environment; `follow_index` for the commands that
/// own the on-disk search index (serve, demo, reindex). A setting that is
/// present but malformed stops the command with its name, rather than being
/// silently replaced by the default.
fn config(database_url: Option<String>, follow_index: bool) -> anyhow::Result<Config> {
    let database_url = database_url.unwrap_or_else(|| app::config::DEFAULT_DATABASE_URL.to_owned());
    let mut config = Config::new(database_url.clone(), Config::default_data_dir());
    config.index_dir = follow_index.then(|| Config::default_index_dir(&database_url));
    config.follow_index = follow_index;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let flag = |name: &str| -> anyhow::Result<Option<bool>> {
        match var(name).as_deref().map(str::trim) {
            None => Ok(None),
            Some("1") => Ok(Some(true)),
            Some("0") => Ok(Some(false)),
            Some(other) => anyhow::bail!("{name} vaut « {other} » : attendu 0 ou 1"),
        }
    };
    // Set when a proxy in front terminates TLS: adds HSTS.
    config.https = flag("PASSERELLE_HTTPS")?.unwrap_or(false);
    if let Some(url) = var("PASSERELLE_SMTP_URL") {
        config.smtp = Some(app::config::Smtp {
            url,
            from: var("PASSERELLE_MAIL_FROM")
                .unwrap_or_else(|| "Passerelle <ne-pas-repondre@localhost>".into()),
        });
    }
    if let Some(url) = var("PASSERELLE_PUBLIC_URL") {
        config.public_url = url.trim_end_matches('/').to_owned();
    }
    // Waives the second factor of network admins and campus managers (the
    // demonstration does; the sign-in page says so).
    config.require_totp = flag("PASSERELLE_REQUIRE_TOTP")?.unwrap_or(true);
    // Anonymous API requests per second and burst per address; "0" disables
    // the limit (benchmarks).
    match var("PASSERELLE_API_RATE").as_deref().map(str::trim) {
        Some("0") => config.api_rate = None,
        Some(v) => {
            let parsed = v
                .split_once(',')
                .and_then(|(r, b)| {
                    Some((r.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
                })
                .filter(|(r, b)| r.is_finite() && b.is_finite() && *r > 0.0 && *b >= 1.0);
            let Some((per_second, burst)) = parsed else {
                anyhow::bail!("PASSERELLE_API_RATE vaut « {v} » : attendu DÉBIT,RAFALE (par exemple 20,60) ou 0");
            };
            config.api_rate = Some(app::config::ApiRate { per_second, burst });
        }
        None => {}
    }
    // The reverse proxies whose X-Forwarded-For is believed (docs/SECURITY.md).
    if let Some(list) = var("PASSERELLE_TRUSTED_PROXIES") {
        config.trusted_proxies = list
            .split(',')
            .map(|p| p.parse())
            .collect::<Result<_, String>>()
            .map_err(|e| anyhow::anyhow!("PASSERELLE_TRUSTED_PROXIES : {e}"))?;
    }
    let positive = |name: &str| -> anyhow::Result<Option<i64>> {
        var(name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        anyhow::anyhow!("{name} vaut « {v} » : attendu un nombre entier positif")
                    })
            })
            .transpose()
    };
    // Failed sign-ins allowed per account and per address in 15 minutes.
    if let Some(n) = positive("PASSERELLE_SIGNIN_LIMIT_ACCOUNT")? {
        config.throttle.per_account = n;
    }
    if let Some(n) = positive("PASSERELLE_SIGNIN_LIMIT_ADDRESS")? {
        config.throttle.per_address = n;
    }
    if let Some(n) = positive("PASSERELLE_SIGNUP_LIMIT_ADDRESS")? {
        config.throttle.signups_per_address = n;
    }
    // Retention periods, in days (see docs/SECURITY.md).
    if let Some(d) = positive("PASSERELLE_RETENTION_AUDIT_DAYS")? {
        config.retention.audit_personal = chrono::Duration::days(d.min(36_500));
    }
    if let Some(d) = positive("PASSERELLE_RETENTION_LEARNER_DAYS")? {
        config.retention.inactive_learner = chrono::Duration::days(d.min(36_500));
    }
    Ok(config)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(a) => {
            let config = config(cli.database_url, true)?;
            check_transport(a.listen, config.https, a.allow_plain_http)?;
            let app = open(config).await?;
            serve(app, a.listen).await?;
        }
        Command::Demo(DemoArgs {
            what:
                Some(DemoCommand::Postings {
                    count,
                    seed,
                    output,
                    until,
                }),
            ..
        }) => {
            let app = open(config(cli.database_url, false)?).await?;
            let (y, m) = until
                .split_once('-')
                .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
                .filter(|(_, m)| (1..=12).contains(m))
                .with_context(|| format!("--until « {until} » : attendu AAAA-MM"))?;
            let data = app.generator_data(&[], &[]).await.map_err(app_error)?;
            let started = Instant::now();
            match &output {
                Some(path) => {
                    let f = std::fs::File::create(path)
                        .with_context(|| format!("création de {}", path.display()))?;
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                    data.write(&mut w, count, seed, (y, m))?;
                    w.flush()?;
                    eprintln!(
                        "{count} offres synthétiques écrites dans {} en {:.1} s.",
                        path.display(),
                        started.elapsed().as_secs_f64()
                    );
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::new(stdout.lock());
                    data.write(&mut w, count, seed, (y, m))?;
                    w.flush()?;
                }
            }
        }
        Command::Demo(a) => {
            let url = cli.database_url.unwrap_or_else(|| {
                format!("sqlite://{}", a.data_dir.join("passerelle.db").display())
            });
            let mut config = config(Some(url), true)?;
            config.require_totp = false;
            if !a.no_serve {
                check_transport(a.listen, config.https, false)?;
            }
            let app = open(config).await?;
            let dir = app.config.data_dir.clone();
            import_referentiels(&app, &dir).await?;
            if app.seed_demo().await.map_err(import_error)? {
                println!("Campus de démonstration « demo » créé.");
            } else {
                println!("Campus de démonstration « demo » déjà présent : réutilisé.");
            }
            app.seed_demo_observatory().await.map_err(import_error)?;
            let accounts = app.seed_demo_accounts().await.map_err(app_error)?;
            if !accounts.is_empty() {
                println!("Comptes de démonstration (mots de passe générés, affichés cette fois seulement) :");
                for a in &accounts {
                    println!("  {:<32} {:<28} {}", a.email, a.role_label, a.password);
                }
            }
            if !a.no_serve {
                serve(app, a.listen).await?;
            }
        }
        Command::Migrate => {
            app::maintenance::migrate(&config(cli.database_url, false)?.database_url).await?;
            println!("Migrations appliquées.");
        }
        Command::Reindex => {
            let app = open(config(cli.database_url, true)?).await?;
            let n = app.rebuild_index().await?;
            println!("Index de recherche reconstruit : {n} documents.");
        }
        Command::Import(c) => return import(config(cli.database_url, false)?, c).await,
        Command::Admin(c) => admin(config(cli.database_url, false)?, c).await?,
        Command::Backup { file } => {
            let config = config(cli.database_url, false)?;
            app::maintenance::backup(&config.database_url, &file)
                .await
                .with_context(|| format!("sauvegarde vers {}", file.display()))?;
            let app = open(config).await?;
            app.audit(&app::Actor::operator(), app::audit::Event::new("backup"))
                .await
                .map_err(app_error)?;
            println!(
                "Sauvegarde écrite : {} (données personnelles : à protéger).",
                file.display()
            );
        }
        Command::Restore { file } => {
            let config = config(cli.database_url, false)?;
            app::maintenance::restore(&config.database_url, &file)
                .await
                .with_context(|| format!("restauration depuis {}", file.display()))?;
            let app = open(config).await?;
            app.audit(&app::Actor::operator(), app::audit::Event::new("restore"))
                .await
                .map_err(app_error)?;
            println!(
                "Base restaurée depuis {}. Avec PostgreSQL, lancez `passerelle reindex` sur chaque serveur.",
                file.display()
            );
        }
        Command::Purge => {
            let app = open(config(cli.database_url, false)?).await?;
            match app.purge().await.map_err(app_error)? {
                Some(r) => println!(
                    "Purge faite : {} entrées du journal anonymisées, {} sessions expirées supprimées, \
                     {} compteurs de tentatives supprimés, {} comptes d'apprenants inactifs effacés.",
                    r.audit_entries_cleared, r.sessions_removed, r.throttle_removed, r.learners_erased
                ),
                None => println!("Une purge est déjà en cours sur un autre serveur : rien à faire."),
            }
        }
        Command::Analyse(AnalyseCommand::Tension {
            components: Some(file),
            reference,
            format,
            ..
        }) => return analyse_tension(file, reference, format),
        Command::Analyse(c) => return analyse(config(cli.database_url, false)?, c).await,
        Command::Audit(AuditCommand::Verify { head }) => {
            let app = open_for_audit(config(cli.database_url, false)?).await?;
            let v = app
                .verify_audit_with(head.as_ref())
                .await
                .map_err(app_error)?;
            match v.broken {
                None => {
                    println!(
                        "Journal d'audit intègre : {} entrées vérifiées (clé {}).",
                        v.entries,
                        app.config.audit_key.fingerprint()
                    );
                    if let Some(h) = &head {
                        println!("La tête ancrée n° {} est toujours dans la chaîne.", h.seq);
                    }
                    if let Some(h) = &v.head {
                        println!("Tête signée : {h}");
                    }
                }
                Some((seq, why)) => {
                    eprintln!(
                        "Journal d'audit altéré : entrée n° {seq} — {why} ({} entrées intègres avant elle).",
                        v.entries
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Audit(AuditCommand::Head) => {
            let app = open_for_audit(config(cli.database_url, false)?).await?;
            match app.audit_head().await.map_err(app_error)? {
                Ok(h) => {
                    println!("{h}");
                    eprintln!(
                        "Tête du journal d'audit (entrée n° {}, clé {}) : à garder hors de la base ; \
                         `passerelle audit verify --head {h}` vérifiera qu'elle est toujours dans la chaîne.",
                        h.seq,
                        app.config.audit_key.fingerprint()
                    );
                }
                Err(why) => {
                    eprintln!(
                        "Tête du journal d'audit inutilisable : {why}. Lancez `passerelle audit verify`."
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Export(c) => export(config(cli.database_url, false)?, c).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the application with the audit key of the deployment, and refuses
/// to go on with a key that is not the one that seals the log (a server
/// writing with another key would break the chain for every key).
async fn open(mut config: Config) -> anyhow::Result<App> {
    let (key_file, created) = load_audit_key(&mut config, true)?;
    let app = open_app(config).await?;
    if !app.audit_key_fits().await.map_err(app_error)? {
        if created {
            // Nothing was sealed with it: the real key is elsewhere.
            let _ = std::fs::remove_file(&key_file);
        }
        bail!(
            "la clé du journal d'audit {}{} n'est pas celle qui a signé ce journal : tous les serveurs \
             d'une même base doivent partager le même fichier de clé (PASSERELLE_AUDIT_KEY_FILE). \
             `passerelle audit verify` en dit plus",
            key_file.display(),
            if created { " (absente, elle venait d'être créée)" } else { "" }
        );
    }
    Ok(app)
}

/// Opens the application to check the audit log: the key file must exist,
/// and a key that does not fit is reported by the verification itself.
async fn open_for_audit(mut config: Config) -> anyhow::Result<App> {
    load_audit_key(&mut config, false)?;
    open_app(config).await
}

async fn open_app(config: Config) -> anyhow::Result<App> {
    let url = app::maintenance::redact(&config.database_url);
    App::open(config)
        .await
        .with_context(|| format!("ouverture de la base {url}"))
}

/// Puts the audit key in the configuration, read from
/// `PASSERELLE_AUDIT_KEY_FILE`, else from the default file of the database
/// (`audit.key` beside an SQLite file, `./passerelle-data/audit.key` for
/// PostgreSQL); created when missing if `create`. Returns the file and
/// whether it was created. The key itself is never printed.
fn load_audit_key(config: &mut Config, create: bool) -> anyhow::Result<(PathBuf, bool)> {
    let path = std::env::var_os("PASSERELLE_AUDIT_KEY_FILE")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || Config::default_audit_key_file(&config.database_url),
            PathBuf::from,
        );
    if !create && !path.exists() {
        bail!(
            "clé du journal d'audit introuvable : {} (PASSERELLE_AUDIT_KEY_FILE)",
            path.display()
        );
    }
    let (key, created) = app::config::load_or_create_audit_key(&path)
        .with_context(|| format!("clé du journal d'audit {}", path.display()))?;
    config.audit_key = std::sync::Arc::new(key);
    Ok((path, created))
}

/// Session cookies are `Secure`: plain HTTP only works on loopback, where
/// browsers accept them. Anywhere else, HTTPS (through a proxy) or an
/// explicit choice.
fn check_transport(listen: SocketAddr, https: bool, allow_plain_http: bool) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() && !https && !allow_plain_http {
        bail!(
            "refus de servir en HTTP simple sur {listen} : les cookies de session exigent HTTPS. \
             Placez Passerelle derrière un proxy TLS (PASSERELLE_HTTPS=1) ou, en connaissance de cause, \
             passez --allow-plain-http"
        );
    }
    Ok(())
}

async fn serve(app: App, listen: SocketAddr) -> anyhow::Result<()> {
    app.spawn_index_follower(Duration::from_secs(2));
    app.spawn_daily_purge();
    app.spawn_mail_sender();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    println!("Passerelle écoute sur http://{listen}");
    web::serve(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn admin(config: Config, c: AdminCommand) -> anyhow::Result<()> {
    let app = open(config).await?;
    match c {
        AdminCommand::CreateUser {
            email,
            role,
            campus,
            member,
            name,
        } => {
            let Some(role) = domain::accounts::Role::from_name(&role) else {
                bail!("rôle inconnu « {role} » : network_admin, campus_manager, member_editor, observer ou learner");
            };
            let campus_id = match &campus {
                Some(slug) => Some(app.campus(slug).await?.id),
                None => None,
            };
            let account = app::accounts::NewAccount {
                display_name: name.unwrap_or_else(|| email.clone()),
                email,
                password: None,
                grants: vec![app::policy::Grant {
                    role,
                    campus_id,
                    member_id: member,
                }],
            };
            let (id, password) = app
                .create_account(&app::Actor::operator(), &account)
                .await
                .map_err(app_error)?;
            println!("Compte {id} créé. Mot de passe (affiché cette fois seulement) :");
            println!("{}", password.unwrap_or_default());
        }
        AdminCommand::Outbox { limit } => {
            for m in app
                .outbox(&app::Actor::operator(), limit)
                .await
                .map_err(app_error)?
            {
                println!(
                    "--- n° {} — {} — à : {} — {}\nObjet : {}\n\n{}",
                    m.id,
                    m.created_at,
                    m.to_address,
                    if m.sent_at.is_some() {
                        "envoyé"
                    } else {
                        "en attente"
                    },
                    m.subject,
                    m.body
                );
            }
        }
        AdminCommand::SendMail => {
            if app.config.smtp.is_none() {
                bail!("PASSERELLE_SMTP_URL n'est pas défini : le courrier reste dans la file d'attente");
            }
            let sent = app.send_outbox().await.map_err(app_error)?;
            println!("{sent} message(s) envoyé(s).");
        }
        AdminCommand::CreateToken { email, write, name } => {
            let token = app
                .create_token_for(&email, &name, write)
                .await
                .map_err(app_error)?;
            println!("{token}");
        }
    }
    Ok(())
}

/// A value with six decimals, without the « -0.000000 » of rounding noise.
fn six_decimals(v: f64) -> String {
    format!("{:.6}", (v * 1e6).round() / 1e6 + 0.0)
}

/// Parses `FIRST..LAST`.
fn year_range(text: &str) -> anyhow::Result<std::ops::RangeInclusive<i32>> {
    let (a, b) = text.split_once("..").with_context(|| {
        format!("--reference « {text} » : attendu PREMIÈRE..DERNIÈRE, par exemple 2019..2021")
    })?;
    let (a, b): (i32, i32) = (
        a.trim()
            .parse()
            .with_context(|| format!("--reference : année « {a} » invalide"))?,
        b.trim()
            .parse()
            .with_context(|| format!("--reference : année « {b} » invalide"))?,
    );
    if b < a {
        bail!("--reference : {b} précède {a}");
    }
    Ok(a..=b)
}

fn analyse_tension(
    file: PathBuf,
    reference: Option<String>,
    format: AnalyseFormat,
) -> anyhow::Result<ExitCode> {
    let reference = year_range(
        reference
            .as_deref()
            .context("--reference PREMIÈRE..DERNIÈRE est obligatoire avec --components")?,
    )?;
    let name = file.display().to_string();
    let bytes = std::fs::read(&file).with_context(|| format!("lecture de {name}"))?;
    let (rows, notes) = match ingest::tension::read_components(&name, &bytes) {
        Ok(r) => r,
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    let (out, uncomputable) = domain::tension::compute(&rows, &reference);
    // One line per left-out row, the reading problem first when there is one.
    let mut reported = std::collections::BTreeMap::new();
    for u in notes.into_iter().chain(uncomputable) {
        reported.entry(u.line).or_insert(u.reason);
    }
    for (line, reason) in &reported {
        eprintln!("{name}, ligne {line} : ligne non calculable — {reason}");
    }
    if let AnalyseFormat::Json = format {
        let stdout = std::io::stdout();
        let mut w = stdout.lock();
        serde_json::to_writer_pretty(&mut w, &out)?;
        writeln!(w)?;
    } else {
        let text = |v: String| serde_json::Value::String(v);
        let rows: Vec<Vec<serde_json::Value>> = out
            .iter()
            .map(|r| {
                vec![
                    text(r.code_rome.clone()),
                    text(r.territory_type.clone()),
                    text(r.territory_code.clone()),
                    text(r.period.to_string()),
                    text(six_decimals(r.c1)),
                    text(six_decimals(r.z_c1)),
                    text(six_decimals(r.z_c2)),
                    text(six_decimals(r.z_c3)),
                    text(six_decimals(r.indicator)),
                    text(r.level.to_string()),
                ]
            })
            .collect();
        print_records(
            &[
                "code_rome",
                "territory_type",
                "territory_code",
                "period",
                "c1",
                "z_c1",
                "z_c2",
                "z_c3",
                "indicator",
                "level",
            ],
            &rows,
            format,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An application error with every field problem spelt out.
fn app_error(e: app::AppError) -> anyhow::Error {
    match e {
        app::AppError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|f| format!("{} : {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        e => anyhow::anyhow!("{e}"),
    }
}

fn import_error(e: ImportError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Picks the campus: the one named, else the only one, else `demo`.
async fn campus_slug(app: &App, given: Option<String>) -> anyhow::Result<String> {
    if let Some(s) = given {
        return Ok(s);
    }
    let campuses = app.campuses().await?;
    match campuses.as_slice() {
        [only] => Ok(only.slug.clone()),
        _ if campuses.iter().any(|c| c.slug == app::demo::DEMO_SLUG) => {
            Ok(app::demo::DEMO_SLUG.into())
        }
        [] => bail!("aucun campus : lancez d'abord `passerelle demo` ou créez un campus"),
        _ => bail!("plusieurs campus : précisez --campus"),
    }
}

async fn import_referentiels(app: &App, dir: &Path) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(6);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let step = |msg: &str| {
        bar.inc(1);
        bar.set_message(msg.to_owned());
    };
    let reports = app
        .import_referentiels(dir, &step)
        .await
        .map_err(import_error)?;
    bar.finish_and_clear();
    let mut changed = false;
    for r in &reports {
        match r.outcome {
            app::maintenance::DatasetOutcome::Unchanged => {
                println!("{} ({}) : inchangé, rien à faire.", r.title, r.version)
            }
            app::maintenance::DatasetOutcome::Loaded { rows } => {
                changed = true;
                println!("{} ({}) : {rows} lignes chargées", r.title, r.version);
                for (what, n) in &r.counts {
                    println!("  {n:>8} {what}");
                }
                if !r.issues.is_empty() {
                    println!(
                        "  {} anomalies écartées (rapport de qualité), par exemple :",
                        r.issues.len()
                    );
                    for i in r.issues.iter().take(5) {
                        println!("    {}:{} {} : {}", i.file, i.line, i.field, i.message);
                    }
                }
            }
        }
    }
    if changed {
        println!(
            "Données de référence importées en {:.1} s.",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("Données de référence déjà à jour : aucune modification.");
    }
    Ok(())
}

async fn import(config: Config, c: ImportCommand) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("lecture de {}", p.display()));
    let result = match c {
        ImportCommand::Referentiels { data } => {
            let dir = data.unwrap_or_else(|| app.config.data_dir.clone());
            import_referentiels(&app, &dir).await?;
            return Ok(ExitCode::SUCCESS);
        }
        ImportCommand::Lheo {
            file,
            campus,
            skip_invalid,
        } => {
            let slug = campus_slug(&app, campus).await?;
            app.import_lheo(
                &file.display().to_string(),
                &read(&file)?,
                &slug,
                skip_invalid,
            )
            .await
        }
        ImportCommand::Membres { file, campus } => {
            let slug = campus_slug(&app, campus).await?;
            app.import_members_sheet(&file.display().to_string(), &read(&file)?, &slug)
                .await
        }
        ImportCommand::Formations { file, campus } => {
            let slug = campus_slug(&app, campus).await?;
            app.import_formations_sheet(&file.display().to_string(), &read(&file)?, &slug)
                .await
        }
        ImportCommand::Tension { file, period } => {
            let results = match file {
                Some(file) => {
                    let name = file.display().to_string();
                    app.import_tension(&name, &read(&file)?, period.as_deref())
                        .await
                        .map(|r| vec![(name, r)])
                }
                None => app.import_shipped_tension().await,
            };
            return finish_files(results, |r| FileOutcome {
                kind: &r.kind,
                unchanged: r.unchanged,
                summary: format!(
                    "{} ligne(s) importée(s), {} ligne(s) ignorée(s).",
                    r.rows,
                    r.notes.len()
                ),
                notes: &r.notes,
            });
        }
        ImportCommand::Inserjeunes { file, period } => {
            let results = match file {
                Some(file) => {
                    let name = file.display().to_string();
                    app.import_inserjeunes(&name, &read(&file)?, period.as_deref())
                        .await
                        .map(|r| vec![(name, r)])
                }
                None => app.import_shipped_outcomes().await,
            };
            return finish_files(results, |r| FileOutcome {
                kind: r.kind,
                unchanged: r.unchanged,
                summary: format!(
                    "{} ligne(s) importée(s), {} sans libellé BCN.",
                    r.rows, r.unlabelled
                ),
                notes: &[],
            });
        }
        ImportCommand::Postings { file } => {
            let name = file.display().to_string();
            // Streamed from the disk: the file is never held whole.
            let size = std::fs::metadata(&file)
                .with_context(|| format!("lecture de {name}"))?
                .len();
            let started = Instant::now();
            return match app.import_postings_file(&name, &file).await {
                Ok(r) => {
                    let s = started.elapsed().as_secs_f64();
                    println!(
                        "Import terminé : {} offre(s) lue(s) — {} nouvelle(s), {} mise(s) à jour, {} inchangée(s) ; \
                         {} doublon(s) d'une offre déjà connue sous un autre identifiant ; {} sans commune reconnue.",
                        r.read, r.new, r.updated, r.unchanged, r.duplicates, r.unplaced
                    );
                    println!(
                        "{:.1} s, {:.0} offres/s, {:.1} Mo/s.",
                        s,
                        r.read as f64 / s.max(1e-9),
                        size as f64 / 1e6 / s.max(1e-9)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(ImportError::Refused { file, problems }) => Ok(refused(&file, &problems)),
                Err(e) => Err(import_error(e)),
            };
        }
    };
    match result {
        Ok(r) => {
            println!(
                "Import terminé : {} créé(s), {} mis à jour, {} inchangé(s).",
                r.created, r.updated, r.unchanged
            );
            if r.changed_nothing() {
                println!("Rien n'a changé : le fichier était déjà importé.");
            }
            for o in &r.outside_created {
                println!("Organisation extérieure enregistrée : {o}");
            }
            if !r.quality.is_empty() {
                println!(
                    "Rapport de qualité ({} problème(s), offres enregistrées) :",
                    r.quality.len()
                );
                for q in &r.quality {
                    println!("  {q}");
                }
            }
            if !r.rejected.is_empty() {
                println!("{} offre(s) rejetée(s) :", r.rejected.len());
                for q in &r.rejected {
                    println!("  {q}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Refused { file, problems }) => {
            eprintln!(
                "{file} refusé, rien n'a été enregistré ({} problème(s)) :",
                problems.len()
            );
            for p in problems {
                eprintln!("  {p}");
            }
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(import_error(e)),
    }
}

async fn export(config: Config, c: ExportCommand) -> anyhow::Result<()> {
    let app = open(config).await?;
    match c {
        ExportCommand::Lheo { campus } => {
            let (xml, skipped) = app
                .export_lheo(campus.as_deref())
                .await
                .map_err(import_error)?;
            std::io::stdout().write_all(&xml)?;
            for s in skipped {
                eprintln!("offre non exportée : {s}");
            }
        }
        ExportCommand::Membres {
            campus,
            format,
            output,
        } => {
            let slug = campus_slug(&app, campus).await?;
            let table = app.members_table(&slug).await.map_err(import_error)?;
            write_table(&table, format, output)?;
        }
        ExportCommand::Formations {
            campus,
            format,
            output,
        } => {
            let slug = campus_slug(&app, campus).await?;
            let table = app.formations_table(&slug).await.map_err(import_error)?;
            write_table(&table, format, output)?;
        }
    }
    Ok(())
}

fn write_table(
    table: &ingest::sheet::Table,
    format: Format,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let format = match format {
        Format::Csv => SheetFormat::Csv,
        Format::Xlsx => SheetFormat::Xlsx,
        Format::Ods => SheetFormat::Ods,
    };
    let mut buf = Vec::new();
    ingest::sheet::write_table(table, format, &mut buf).map_err(|e| anyhow::anyhow!("{e}"))?;
    match output {
        Some(p) => {
            std::fs::write(&p, buf).with_context(|| format!("écriture de {}", p.display()))?
        }
        None => std::io::stdout().write_all(&buf)?,
    }
    Ok(())
}

/// Prints records as a table (tab-separated), CSV or JSON (an array of
/// objects with the same keys).
fn print_records(
    columns: &[&'static str],
    rows: &[Vec<serde_json::Value>],
    format: AnalyseFormat,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    match format {
        AnalyseFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| (*c).to_owned())
                        .zip(r.iter().cloned())
                        .collect()
                })
                .collect();
            serde_json::to_writer_pretty(&mut w, &objects)?;
            writeln!(w)?;
        }
        AnalyseFormat::Csv | AnalyseFormat::Table => {
            let delimiter = if matches!(format, AnalyseFormat::Csv) {
                b','
            } else {
                b'\t'
            };
            let mut csv = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(w);
            csv.write_record(columns)?;
            for r in rows {
                csv.write_record(r.iter().map(|v| match v {
                    serde_json::Value::Null => String::new(),
                    // Labels come from files and people: never a formula.
                    serde_json::Value::String(s) => domain::text::spreadsheet_safe(s).into_owned(),
                    serde_json::Value::Number(n) => match n.as_f64() {
                        Some(f) if n.is_f64() => format!("{:.2}", f),
                        _ => n.to_string(),
                    },
                    other => other.to_string(),
                }))?;
            }
            csv.flush()?;
        }
    }
    Ok(())
}

/// What one imported file did, for [`finish_files`].
struct FileOutcome<'a> {
    kind: &'a str,
    unchanged: bool,
    summary: String,
    notes: &'a [String],
}

/// Prints what each file of an import did (its left-out rows on standard
/// error), or why the import was refused.
fn finish_files<T>(
    results: Result<Vec<(String, T)>, ImportError>,
    describe: impl Fn(&T) -> FileOutcome<'_>,
) -> anyhow::Result<ExitCode> {
    match results {
        Ok(results) => {
            for (name, r) in &results {
                let o = describe(r);
                for n in o.notes {
                    eprintln!("{n}");
                }
                if o.unchanged {
                    println!(
                        "{name} ({}) : déjà importé à l'identique, rien à faire.",
                        o.kind
                    );
                } else {
                    println!("{name} ({}) : {}", o.kind, o.summary);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Refused { file, problems }) => Ok(refused(&file, &problems)),
        Err(e) => Err(import_error(e)),
    }
}

/// Says why a file was refused (its first 20 problems) and gives exit code 2.
fn refused(file: &str, problems: &[String]) -> ExitCode {
    eprintln!("{file} refusé, rien n'a été importé :");
    for p in problems.iter().take(20) {
        eprintln!("  {p}");
    }
    if problems.len() > 20 {
        eprintln!("  … et {} autre(s) problème(s).", problems.len() - 20);
    }
    ExitCode::from(2)
}

/// Prints one table of the observatory, its warnings on standard error.
fn print_observatory(
    o: &app::observatory::Observatory,
    kind: app::observatory::TableKind,
    format: AnalyseFormat,
) -> anyhow::Result<()> {
    for w in &o.warnings {
        eprintln!("{w}");
    }
    let (columns, rows) = o.records(kind);
    print_records(&columns, &rows, format)
}

/// `analyse tension|gap|skills` on a campus' data.
async fn analyse(config: Config, c: AnalyseCommand) -> anyhow::Result<ExitCode> {
    if let AnalyseCommand::BenchPostings { file, areas_out } = c {
        return bench_postings(config, &file, &areas_out).await;
    }
    let app = open(config).await?;
    let operator = app::Actor::operator();
    match c {
        AnalyseCommand::Tension {
            campus,
            period,
            format,
            reference,
            ..
        } => {
            if reference.is_some() {
                bail!("--reference ne s'emploie qu'avec --components FILE");
            }
            let slug = campus_slug(&app, campus).await?;
            let o = app
                .observatory_for(&operator, &slug, None, period.as_deref(), false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Tension, format)?;
        }
        AnalyseCommand::Gap {
            campus,
            period,
            what_if,
            format,
        } => {
            let slug = campus_slug(&app, campus).await?;
            let what_if = match what_if {
                None => None,
                Some(text) => Some(app::observatory::WhatIf::parse(&text).with_context(|| {
                    format!("--what-if « {text} » : attendu CODE_CERTIFICATION=PLACES, par exemple 12345=15")
                })?),
            };
            let o = app
                .observatory_for(&operator, &slug, what_if, period.as_deref(), false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Gap, format)?;
        }
        AnalyseCommand::Skills { campus, format } => {
            let slug = campus_slug(&app, campus).await?;
            let o = app
                .observatory_for(&operator, &slug, None, None, false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Skills, format)?;
        }
        AnalyseCommand::Outcomes { campus, format } => {
            let slug = campus_slug(&app, campus).await?;
            let o = app
                .observatory_for(&operator, &slug, None, None, false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Outcomes, format)?;
        }
        AnalyseCommand::BenchPostings { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Times the counting step (parse and count per ROME × zone d'emploi ×
/// month, on every core) and the skills matching alone (one core), and
/// writes the commune → zone table the DuckDB baseline joins with.
async fn bench_postings(config: Config, file: &Path, areas_out: &Path) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    let zones = app.commune_zones().await?;
    let mut out = csv::Writer::from_path(areas_out)?;
    out.write_record(["commune", "zone"])?;
    for (code, ze) in &zones {
        out.write_record([code, ze])?;
    }
    out.flush()?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let area = |c: &str| zones.get(c).map(String::as_str);
    // Timed as DuckDB is (bench/observatory.sh): from the file on disk to the
    // counted groups, median of five runs; the groups' checksum (FNV-1a 64 of
    // "rome\tzone\tmonth\tcount", summed) is recomputed there from DuckDB's.
    let mut runs = Vec::new();
    let mut counts = Default::default();
    for _ in 0..5 {
        let started = Instant::now();
        let bytes =
            std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
        counts = ingest::postings::count_by_rome_area_month(&bytes, &area, threads);
        runs.push(started.elapsed().as_secs_f64());
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let count_s = sorted[sorted.len() / 2];
    let fnv = |t: String| domain::checksum::fnv1a_64(t.as_bytes());
    let checksum = counts.iter().fold(0u64, |acc, ((r, z, m), n)| {
        acc.wrapping_add(fnv(format!("{r}\t{z}\t{m}\t{n}")))
    });
    let bytes = std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
    let mb = bytes.len() as f64 / 1e6;
    let total: u64 = counts.values().sum();
    let runs: Vec<String> = runs.iter().map(|r| format!("{r:.3}")).collect();
    println!(
        "count_seconds={count_s:.3} runs={} groups={} postings={total} mb={mb:.1} threads={threads} checksum={checksum:016x}",
        runs.join(","),
        counts.len()
    );
    // Skills matching alone: the descriptions and titles, one core.
    let matcher = app.skill_matcher().await.map_err(app_error)?;
    let texts: Vec<String> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .map(|v| {
            format!(
                "{} {}",
                v["intitule"].as_str().unwrap_or(""),
                v["description"].as_str().unwrap_or("")
            )
        })
        .collect();
    let text_mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    let mut scratch = domain::skills::MatchScratch::default();
    let mut found = Vec::new();
    let started = Instant::now();
    let mut hits = 0usize;
    for t in &texts {
        found.clear();
        matcher.find(&[t], &mut scratch, &mut found);
        hits += found.len();
    }
    let match_s = started.elapsed().as_secs_f64();
    println!(
        "match_seconds={match_s:.3} text_mb={text_mb:.1} match_mb_per_s={:.1} labels={} hits={hits}",
        text_mb / match_s.max(1e-9),
        matcher.len()
    );
    Ok(ExitCode::SUCCESS)
}
