//! Parsers of the reference data shipped in `data/` (see `data/SOURCES.md`):
//! territories, ROME 4.0, Certif Info and RNCP. Each loader reads the
//! gzip-compressed files of one data set from the data directory, checks
//! them, and returns the rows of [`domain::refdata`] with a [`DatasetInfo`]
//! (provenance and a checksum of the compressed bytes) and the
//! [`QualityIssue`]s that did not block the import.
//!
//! ```text
//! load_territories(dir) -> Territories   territoires/*.json.gz, territoires/*.csv.gz
//! load_rome(dir)        -> Rome          rome4/unix_*_v460_utf8.csv.gz
//! load_certifinfo(dir, &rome.known_codes()) -> Certifications   certifinfo/certif_info.csv.gz
//! load_rncp(dir, &rome.known_codes())       -> Rncp             rncp/rncp_*.v1.4.csv.gz
//! load_all(dir)         -> Referentiels  all four, territories on a second thread
//! ```
//!
//! Policy, so that the same file always gives the same answer:
//! - A file that cannot be trusted as a whole stops the load with a
//!   [`RefError`] naming the file, the line and the field: missing, not gzip,
//!   truncated or corrupt gzip, not UTF-8, header without an expected column,
//!   wrong number of fields, a duplicate key with different content, a number
//!   or date that cannot be read, a row pointing to an unknown parent (a
//!   commune in an unknown département).
//! - A row that is fine but whose link cannot be made (a malformed, truncated
//!   or pseudo ROME code `X1100`, a ROME code unknown to ROME 4.0, a commune
//!   without coordinates) becomes a [`QualityIssue`] and the link is left out.
//! - Rows repeated with the same content are merged without a word; the
//!   publishers' exports repeat rows for columns this project does not keep.
//!
//! Columns are found by name, so their order may change. Parsing streams each
//! CSV file from its gzip decoder with one reused record buffer; only the JSON
//! files are decompressed whole (they are parsed in place, borrowing strings).

mod certifinfo;
mod rncp;
mod rome;
pub(crate) mod source;
mod territoires;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use certifinfo::{load_certifinfo, Certifications};
pub use domain::refdata::{DatasetInfo, QualityIssue};
pub use rncp::{load_rncp, Rncp};
pub use rome::{load_rome, Rome};
pub use territoires::{load_territories, Territories};

/// Why a reference file could not be loaded. Messages are in French, because
/// they are shown as is to the administrator who runs the import, and always
/// say which file, and where in it, is at fault.
#[derive(Debug, thiserror::Error)]
pub enum RefError {
    /// A file the data set needs is not in the data directory.
    #[error("fichier {file} introuvable dans {}", .dir.display())]
    MissingFile {
        /// Path of the file relative to the data directory.
        file: String,
        /// The data directory that was searched.
        dir: PathBuf,
    },
    /// The file exists but the system refused to read it.
    #[error("fichier {file} : lecture impossible : {source}")]
    Io {
        /// Path of the file relative to the data directory.
        file: String,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The file does not start like a gzip file.
    #[error("fichier {file} : ce n'est pas un fichier gzip (les données livrées sont compressées en .gz)")]
    NotGzip {
        /// Path of the file relative to the data directory.
        file: String,
    },
    /// The gzip data stop early or do not decompress.
    #[error("fichier {file} : données gzip illisibles : {reason}")]
    CorruptGzip {
        /// Path of the file relative to the data directory.
        file: String,
        /// What went wrong and how far reading got.
        reason: String,
    },
    /// Bytes that are not UTF-8, typically a Latin-1 or Windows-1252 export.
    #[error(
        "fichier {file}, ligne {line}{} : le texte n'est pas en UTF-8 (probablement Latin-1 ou Windows-1252 ; réencoder le fichier en UTF-8)",
        field_part(.field)
    )]
    NotUtf8 {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line of the first bad byte (of its record for CSV files).
        line: u64,
        /// Column holding the bad bytes, when known.
        field: Option<String>,
    },
    /// The header lacks columns the loader needs.
    #[error("fichier {file}, ligne 1 : en-tête inattendu, colonne(s) manquante(s) : {missing} (attendues : {expected} ; trouvées : {found})")]
    Header {
        /// Path of the file relative to the data directory.
        file: String,
        /// The needed columns that are absent.
        missing: String,
        /// All the columns the loader needs.
        expected: String,
        /// The columns of the file.
        found: String,
    },
    /// A record with more or fewer fields than the header.
    #[error("fichier {file}, ligne {line} : {found} champs au lieu de {expected} comme l'en-tête (séparateur ou guillemet en trop ?)")]
    FieldCount {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line where the record starts.
        line: u64,
        /// Number of fields of the header.
        expected: u64,
        /// Number of fields of the record.
        found: u64,
    },
    /// A key seen twice with different content.
    #[error("fichier {file}, ligne {line}, champ {field} : clé « {key} » en double (déjà ligne {first_line}, avec un contenu différent)")]
    DuplicateKey {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line of the second occurrence.
        line: u64,
        /// Column of the key.
        field: String,
        /// The repeated key.
        key: String,
        /// Line of the first occurrence.
        first_line: u64,
    },
    /// A value that cannot be read as what the column holds.
    #[error("fichier {file}, ligne {line}, champ {field} : « {value} » n'est pas {expected}")]
    InvalidValue {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line of the record.
        line: u64,
        /// Column of the value.
        field: String,
        /// The value as found.
        value: String,
        /// What was expected, in words (`un nombre entier`).
        expected: &'static str,
    },
    /// A row pointing to a parent the data set does not have.
    #[error("fichier {file}, ligne {line}, champ {field} : « {value} » ne correspond à aucun(e) {what} connu(e)")]
    UnknownReference {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line of the record.
        line: u64,
        /// Column of the reference.
        field: String,
        /// The reference as found.
        value: String,
        /// What it should refer to (`département`).
        what: &'static str,
    },
    /// Malformed JSON.
    #[error("fichier {file}, ligne {line}, colonne {column} : JSON invalide : {reason}")]
    Json {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line of the error.
        line: u64,
        /// Column of the error, 0 when unknown.
        column: u64,
        /// The parser's explanation.
        reason: String,
    },
    /// Malformed CSV that fits none of the cases above.
    #[error("fichier {file}, ligne {line} : CSV invalide : {reason}")]
    Csv {
        /// Path of the file relative to the data directory.
        file: String,
        /// Line of the record.
        line: u64,
        /// The parser's explanation.
        reason: String,
    },
}

impl RefError {
    /// The file at fault, relative to the data directory.
    pub fn file(&self) -> &str {
        match self {
            RefError::MissingFile { file, .. }
            | RefError::Io { file, .. }
            | RefError::NotGzip { file }
            | RefError::CorruptGzip { file, .. }
            | RefError::NotUtf8 { file, .. }
            | RefError::Header { file, .. }
            | RefError::FieldCount { file, .. }
            | RefError::DuplicateKey { file, .. }
            | RefError::InvalidValue { file, .. }
            | RefError::UnknownReference { file, .. }
            | RefError::Json { file, .. }
            | RefError::Csv { file, .. } => file,
        }
    }

    /// The line at fault, when the error is about one place in the file.
    pub fn line(&self) -> Option<u64> {
        match self {
            RefError::NotUtf8 { line, .. }
            | RefError::FieldCount { line, .. }
            | RefError::DuplicateKey { line, .. }
            | RefError::InvalidValue { line, .. }
            | RefError::UnknownReference { line, .. }
            | RefError::Json { line, .. }
            | RefError::Csv { line, .. } => Some(*line),
            RefError::Header { .. } => Some(1),
            RefError::MissingFile { .. }
            | RefError::Io { .. }
            | RefError::NotGzip { .. }
            | RefError::CorruptGzip { .. } => None,
        }
    }
}

fn field_part(field: &Option<String>) -> String {
    match field {
        Some(f) => format!(", champ {f}"),
        None => String::new(),
    }
}

/// All four data sets, as [`load_all`] returns them.
#[derive(Debug, Clone)]
pub struct Referentiels {
    /// Régions, académies, départements, zones d'emploi, communes.
    pub territories: Territories,
    /// ROME 4.0.
    pub rome: Rome,
    /// Certif Info.
    pub certifications: Certifications,
    /// RNCP.
    pub rncp: Rncp,
}

/// Loads the four data sets from the data directory (the one holding
/// `territoires/`, `rome4/`, `certifinfo/` and `rncp/`). The territories do
/// not depend on the others and are parsed on a second thread; Certif Info
/// and RNCP need the ROME codes and follow ROME.
pub fn load_all(dir: &Path) -> Result<Referentiels, RefError> {
    std::thread::scope(|scope| {
        let territories = scope.spawn(|| load_territories(dir));
        let rome = load_rome(dir);
        let rest = rome.and_then(|rome| {
            let known = rome.known_codes();
            let certifications = load_certifinfo(dir, &known)?;
            let rncp = load_rncp(dir, &known)?;
            Ok((rome, certifications, rncp))
        });
        // A panic in the parser thread is a bug, not a data problem: pass it on.
        let territories = match territories.join() {
            Ok(t) => t,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let (rome, certifications, rncp) = rest?;
        Ok(Referentiels {
            territories: territories?,
            rome,
            certifications,
            rncp,
        })
    })
}

/// Checks a ROME code found in Certif Info or RNCP, which use ROME v3 codes:
/// `Ok(code)` when it is a well-formed code known to ROME 4.0, otherwise the
/// reason in words for a [`QualityIssue`].
fn check_rome(value: &str, known: &HashSet<String>) -> Result<String, String> {
    match domain::CodeRome::parse(value) {
        Err(e) => Err(e.to_string()),
        Ok(code) if known.contains(code.as_str()) => Ok(code.as_str().to_owned()),
        Ok(code) => Err(format!("code ROME « {code} » inconnu de ROME 4.0")),
    }
}
