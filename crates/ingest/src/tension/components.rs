//! Reading the components of the tension indicator from a CSV file with the
//! header `code_rome,territory_type,territory_code,period,offers,jobseekers_a,outflow_rate,difficult_share`.
//! A file that is not UTF-8 or lacks a column is refused as a whole; a row
//! with a value that is not a number keeps it as missing, so that the
//! computation reports it as uncomputable with its line.

use domain::tension::{ComponentRow, Uncomputable};

use super::read_csv;
use crate::Problem;

/// The columns, in any order.
pub const COLUMNS: [&str; 8] = [
    "code_rome",
    "territory_type",
    "territory_code",
    "period",
    "offers",
    "jobseekers_a",
    "outflow_rate",
    "difficult_share",
];

/// Reads the rows; `Err` lists what makes the file unreadable (file and
/// line named). Values that are not numbers come back in the second list,
/// with their line and field, and their row keeps them as missing.
pub fn read_components(
    file: &str,
    bytes: &[u8],
) -> Result<(Vec<ComponentRow>, Vec<Uncomputable>), Vec<Problem>> {
    let text =
        std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)).map_err(|e| {
            vec![Problem::file(
                file,
                format!("le fichier n'est pas en UTF-8 ({e})"),
            )]
        })?;
    let (headers, records) = read_csv(file, text.as_bytes(), Some(b','))?;
    let index: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| headers.iter().position(|h| h.trim() == *c))
        .collect();
    let missing: Vec<Problem> = COLUMNS
        .iter()
        .zip(&index)
        .filter(|(_, i)| i.is_none())
        .map(|(c, _)| {
            Problem::line(
                file,
                1usize,
                format!("colonne « {c} » absente (attendu : {})", COLUMNS.join(",")),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let col = |k: usize| index[k].expect("checked");
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    for (line, record) in records {
        let text = |k: usize| record.get(col(k)).unwrap_or("").trim().to_owned();
        let mut number = |k: usize| {
            let raw = text(k);
            if raw.is_empty() {
                return None;
            }
            // Decimal commas, as French public files write them.
            match raw.replace(',', ".").parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    notes.push(Uncomputable {
                        line,
                        reason: format!("{} : « {raw} » n'est pas un nombre", COLUMNS[k]),
                    });
                    None
                }
            }
        };
        let (offers, jobseekers, outflow, difficult) = (number(4), number(5), number(6), number(7));
        let period = text(3);
        let Ok(year) = period.parse::<i32>().map_err(|_| ()).and_then(|y| {
            if period.len() == 4 {
                Ok(y)
            } else {
                Err(())
            }
        }) else {
            errors.push(Problem::line(
                file,
                line,
                format!("period « {period} » : attendu une année AAAA"),
            ));
            continue;
        };
        if text(0).is_empty() || text(1).is_empty() || text(2).is_empty() {
            errors.push(Problem::line(
                file,
                line,
                "code_rome, territory_type et territory_code sont obligatoires",
            ));
            continue;
        }
        rows.push(ComponentRow {
            line,
            code_rome: text(0),
            territory_type: text(1),
            territory_code: text(2),
            period: year,
            offers,
            jobseekers_a: jobseekers,
            outflow_rate: outflow,
            difficult_share: difficult,
        });
    }
    if errors.is_empty() {
        Ok((rows, notes))
    } else {
        Err(errors)
    }
}
