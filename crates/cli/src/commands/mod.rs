//! The commands of the `passerelle` binary, one module per feature area
//! (`network`, `catalogue`, `reference`, `observatory`, `outcomes`,
//! `admin` for accounts and mail, `audit`), plus `serve` (the server and the
//! demonstration), `maintenance` (migrate, backup, restore, purge, reindex)
//! and `files` (the `import` and `export` grammar, dispatching to the
//! areas). Every command goes through `app`'s use cases; the helpers here
//! open the application and print what an import did.

pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod catalogue;
pub(crate) mod files;
pub(crate) mod maintenance;
pub(crate) mod network;
pub(crate) mod observatory;
pub(crate) mod outcomes;
pub(crate) mod reference;
pub(crate) mod serve;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use app::imports::{ImportError, ImportReport};
use app::{App, Config};

/// Opens the application with the audit key of the deployment, and refuses
/// to go on with a key that is not the one that seals the log (a server
/// writing with another key would break the chain for every key).
pub(crate) async fn open(mut config: Config) -> anyhow::Result<App> {
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
pub(crate) async fn open_for_audit(mut config: Config) -> anyhow::Result<App> {
    load_audit_key(&mut config, false)?;
    open_app(config).await
}

pub(crate) async fn open_app(config: Config) -> anyhow::Result<App> {
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
pub(crate) fn load_audit_key(config: &mut Config, create: bool) -> anyhow::Result<(PathBuf, bool)> {
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

/// An application error with every field problem spelt out.
pub(crate) fn app_error(e: app::AppError) -> anyhow::Error {
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

pub(crate) fn import_error(e: ImportError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Picks the campus: the one named, else the only one, else `demo`.
pub(crate) async fn campus_slug(app: &App, given: Option<String>) -> anyhow::Result<String> {
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

/// The bytes of a file to import, or why it cannot be read.
pub(crate) fn read(p: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("lecture de {}", p.display()))
}

/// Prints what an import of campus data did, or why it was refused (exit
/// code 2).
pub(crate) fn finish_import(result: Result<ImportReport, ImportError>) -> anyhow::Result<ExitCode> {
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

/// What one imported file did, for [`finish_files`].
pub(crate) struct FileOutcome<'a> {
    pub(crate) kind: &'a str,
    pub(crate) unchanged: bool,
    pub(crate) summary: String,
    pub(crate) notes: &'a [String],
}

/// Prints what each file of an import did (its left-out rows on standard
/// error), or why the import was refused.
pub(crate) fn finish_files<T>(
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
pub(crate) fn refused(file: &str, problems: &[String]) -> ExitCode {
    eprintln!("{file} refusé, rien n'a été importé :");
    for p in problems.iter().take(20) {
        eprintln!("  {p}");
    }
    if problems.len() > 20 {
        eprintln!("  … et {} autre(s) problème(s).", problems.len() - 20);
    }
    ExitCode::from(2)
}
