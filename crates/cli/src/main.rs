//! The `passerelle` binary: serve the site, load the demonstration campus,
//! migrate, import and export, rebuild the search index.

mod commands;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::admin::AdminCommand;
use commands::audit::AuditCommand;
use commands::files::{ExportCommand, ImportCommand};
use commands::observatory::AnalyseCommand;
use commands::serve::{DemoArgs, ServeArgs};
use settings::config;

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

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let url = cli.database_url;
    match cli.command {
        Command::Serve(a) => commands::serve::serve_command(url, a).await?,
        Command::Demo(a) => commands::serve::demo(url, a).await?,
        Command::Migrate => commands::maintenance::migrate(config(url, false)?).await?,
        Command::Reindex => commands::maintenance::reindex(config(url, true)?).await?,
        Command::Import(c) => return commands::files::import(config(url, false)?, c).await,
        Command::Export(c) => commands::files::export(config(url, false)?, c).await?,
        Command::Admin(c) => commands::admin::admin(config(url, false)?, c).await?,
        Command::Backup { file } => {
            commands::maintenance::backup(config(url, false)?, &file).await?
        }
        Command::Restore { file } => {
            commands::maintenance::restore(config(url, false)?, &file).await?
        }
        Command::Purge => commands::maintenance::purge(config(url, false)?).await?,
        Command::Analyse(c) => return commands::observatory::analyse(url, c).await,
        Command::Audit(c) => return commands::audit::run(config(url, false)?, c).await,
    }
    Ok(ExitCode::SUCCESS)
}
