//! The `import` and `export` grammar: each kind of file is handled by its
//! feature area's module.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use app::imports::SheetFormat;
use app::Config;
use clap::{Subcommand, ValueEnum};

use super::open;

#[derive(Subcommand)]
pub(crate) enum ImportCommand {
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
pub(crate) enum Format {
    Csv,
    Xlsx,
    Ods,
}

#[derive(Subcommand)]
pub(crate) enum ExportCommand {
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

/// `import KIND`: hands the file to its area's module.
pub(crate) async fn import(config: Config, c: ImportCommand) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    match c {
        ImportCommand::Referentiels { data } => {
            let dir = data.unwrap_or_else(|| app.config.data_dir.clone());
            super::reference::import_referentiels(&app, &dir).await?;
            Ok(ExitCode::SUCCESS)
        }
        ImportCommand::Lheo {
            file,
            campus,
            skip_invalid,
        } => super::catalogue::import_lheo(&app, &file, campus, skip_invalid).await,
        ImportCommand::Membres { file, campus } => {
            super::network::import_members(&app, &file, campus).await
        }
        ImportCommand::Formations { file, campus } => {
            super::catalogue::import_formations(&app, &file, campus).await
        }
        ImportCommand::Tension { file, period } => {
            super::observatory::import_tension(&app, file, period).await
        }
        ImportCommand::Inserjeunes { file, period } => {
            super::outcomes::import_inserjeunes(&app, file, period).await
        }
        ImportCommand::Postings { file } => super::observatory::import_postings(&app, &file).await,
    }
}

/// `export KIND`: hands the export to its area's module.
pub(crate) async fn export(config: Config, c: ExportCommand) -> anyhow::Result<()> {
    let app = open(config).await?;
    match c {
        ExportCommand::Lheo { campus } => super::catalogue::export_lheo(&app, campus).await,
        ExportCommand::Membres {
            campus,
            format,
            output,
        } => super::network::export_members(&app, campus, format, output).await,
        ExportCommand::Formations {
            campus,
            format,
            output,
        } => super::catalogue::export_formations(&app, campus, format, output).await,
    }
}

/// The spreadsheet format of a command-line option.
pub(crate) fn sheet_format(format: Format) -> SheetFormat {
    match format {
        Format::Csv => SheetFormat::Csv,
        Format::Xlsx => SheetFormat::Xlsx,
        Format::Ods => SheetFormat::Ods,
    }
}

/// Writes an exported file to `output`, or to standard output.
pub(crate) fn write_output(bytes: &[u8], output: Option<PathBuf>) -> anyhow::Result<()> {
    match output {
        Some(p) => {
            std::fs::write(&p, bytes).with_context(|| format!("écriture de {}", p.display()))
        }
        None => Ok(std::io::stdout().write_all(bytes)?),
    }
}
