//! Graduate outcomes (InserJeunes).

use std::path::PathBuf;
use std::process::ExitCode;

use app::App;

use super::{finish_files, read, FileOutcome};

/// `import inserjeunes`: one file, or the shipped ones.
pub(crate) async fn import_inserjeunes(
    app: &App,
    file: Option<PathBuf>,
    period: Option<String>,
) -> anyhow::Result<ExitCode> {
    let results = match file {
        Some(file) => {
            let name = file.display().to_string();
            app.import_inserjeunes(&name, &read(&file)?, period.as_deref())
                .await
                .map(|r| vec![(name, r)])
        }
        None => app.import_shipped_outcomes().await,
    };
    finish_files(results, |r| FileOutcome {
        kind: r.kind,
        unchanged: r.unchanged,
        summary: format!(
            "{} ligne(s) importée(s), {} sans libellé BCN.",
            r.rows, r.unlabelled
        ),
        notes: &[],
    })
}
