//! Formations of a campus: LHÉO and spreadsheets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use app::App;

use super::files::{sheet_format, write_output, Format};
use super::{campus_slug, finish_import, import_error, read};

/// `import lheo`: a LHÉO catalogue, all or nothing (or skipping the invalid
/// offers, reported).
pub(crate) async fn import_lheo(
    app: &App,
    file: &Path,
    campus: Option<String>,
    skip_invalid: bool,
) -> anyhow::Result<ExitCode> {
    let slug = campus_slug(app, campus).await?;
    finish_import(
        app.import_lheo(
            &file.display().to_string(),
            &read(file)?,
            &slug,
            skip_invalid,
        )
        .await,
    )
}

/// `import formations`: a formations spreadsheet, all or nothing.
pub(crate) async fn import_formations(
    app: &App,
    file: &Path,
    campus: Option<String>,
) -> anyhow::Result<ExitCode> {
    let slug = campus_slug(app, campus).await?;
    finish_import(
        app.import_formations_sheet(&file.display().to_string(), &read(file)?, &slug)
            .await,
    )
}

/// `export lheo`: the published formations as LHÉO 2.3 on standard output,
/// the offers left out on standard error.
pub(crate) async fn export_lheo(app: &App, campus: Option<String>) -> anyhow::Result<()> {
    let (xml, skipped) = app
        .export_lheo(campus.as_deref())
        .await
        .map_err(import_error)?;
    std::io::stdout().write_all(&xml)?;
    for s in skipped {
        eprintln!("offre non exportée : {s}");
    }
    Ok(())
}

/// `export formations`: the formations of a campus as a spreadsheet.
pub(crate) async fn export_formations(
    app: &App,
    campus: Option<String>,
    format: Format,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let slug = campus_slug(app, campus).await?;
    let bytes = app
        .formations_file(&slug, sheet_format(format))
        .await
        .map_err(import_error)?;
    write_output(&bytes, output)
}
