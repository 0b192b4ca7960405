//! Reading the components of the tension indicator from a CSV file with the
//! header `code_rome,territory_type,territory_code,period,offers,jobseekers_a,outflow_rate,difficult_share`.
//! A file that is not UTF-8 or lacks a column is refused as a whole; a row
//! with a value that is not a number keeps it as missing, so that the
//! computation reports it as uncomputable with its line.

use domain::tension::{ComponentRow, Uncomputable};

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
) -> Result<(Vec<ComponentRow>, Vec<Uncomputable>), Vec<String>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
        .map_err(|e| vec![format!("{file} : le fichier n'est pas en UTF-8 ({e})")])?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| vec![format!("{file}, ligne 1 : en-tête illisible ({e})")])?
        .clone();
    let index: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| headers.iter().position(|h| h.trim() == *c))
        .collect();
    let missing: Vec<String> = COLUMNS
        .iter()
        .zip(&index)
        .filter(|(_, i)| i.is_none())
        .map(|(c, _)| {
            format!(
                "{file}, ligne 1 : colonne « {c} » absente (attendu : {})",
                COLUMNS.join(",")
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
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{file}, ligne {line} : {e}"));
                continue;
            }
        };
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
            errors.push(format!(
                "{file}, ligne {line} : period « {period} » : attendu une année AAAA"
            ));
            continue;
        };
        if text(0).is_empty() || text(1).is_empty() || text(2).is_empty() {
            errors.push(format!("{file}, ligne {line} : code_rome, territory_type et territory_code sont obligatoires"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_in_any_column_order_with_decimal_commas() {
        let csv = "period,code_rome,territory_type,territory_code,offers,jobseekers_a,outflow_rate,difficult_share\n\
                   2020,J1501,ze,0303,12,10,\"0,25\",0.5\n\
                   2021,J1501,ze,0303,x,10,0.3,\n";
        let (rows, notes) = read_components("t.csv", csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].outflow_rate, Some(0.25));
        assert_eq!(rows[1].offers, None);
        assert_eq!(rows[1].difficult_share, None);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, 3);
        assert!(notes[0].reason.contains("offers"));
    }

    #[test]
    fn refuses_missing_columns_bad_periods_and_other_encodings() {
        let err = read_components("t.csv", b"code_rome,period\nJ1501,2020\n").unwrap_err();
        assert!(
            err.iter().any(|e| e.contains("« offers » absente")),
            "{err:?}"
        );
        let csv = format!("{}\nJ1501,ze,0303,20,1,1,0.1,0.2\n", COLUMNS.join(","));
        let err = read_components("t.csv", csv.as_bytes()).unwrap_err();
        assert!(
            err[0].contains("ligne 2") && err[0].contains("AAAA"),
            "{err:?}"
        );
        assert!(read_components("t.csv", b"\xff\xfe").is_err());
    }
}
