//! Members of a campus, as spreadsheets.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use app::App;

use super::files::{sheet_format, write_output, Format};
use super::{campus_slug, finish_import, import_error, read};

/// `import membres`: a members spreadsheet, all or nothing.
pub(crate) async fn import_members(
    app: &App,
    file: &Path,
    campus: Option<String>,
) -> anyhow::Result<ExitCode> {
    let slug = campus_slug(app, campus).await?;
    finish_import(
        app.import_members_sheet(&file.display().to_string(), &read(file)?, &slug)
            .await,
    )
}

/// `export membres`: the members of a campus as a spreadsheet.
pub(crate) async fn export_members(
    app: &App,
    campus: Option<String>,
    format: Format,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let slug = campus_slug(app, campus).await?;
    let bytes = app
        .members_file(&slug, sheet_format(format))
        .await
        .map_err(import_error)?;
    write_output(&bytes, output)
}
