//! Column sets of the member and formation sheets, header matching, the
//! error type of the cell checks and the small cell parsers they share.

use std::fmt;

use domain::text;
use serde::Serialize;

use super::{Row, Table};

/// One column of a documented sheet layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Canonical header, as written by exports and named in errors.
    pub name: &'static str,
    /// Whether the column must be present in the header.
    pub required: bool,
    /// Other headers accepted for this column, in folded form (see
    /// [`header_key`]).
    pub aliases: &'static [&'static str],
    /// What the column holds and how to write it, in French, for the
    /// documentation shown next to the import form.
    pub help: &'static str,
}

const fn col(
    name: &'static str,
    required: bool,
    aliases: &'static [&'static str],
    help: &'static str,
) -> Column {
    Column {
        name,
        required,
        aliases,
        help,
    }
}

/// Columns of the member sheet, in export order. Only `nom` and `type` are
/// required; an absent optional column leaves the field empty.
pub const MEMBER_COLUMNS: &[Column] = &[
    col("nom", true, &["raison_sociale"], "nom de l'organisation"),
    col(
        "type",
        true,
        &["type_de_membre"],
        "code ou libellé du type de membre (lycee, cfa, employeur…)",
    ),
    col("siret", false, &[], "14 chiffres, espaces permis"),
    col(
        "uai",
        false,
        &["rne"],
        "7 chiffres et la lettre clé, pour les établissements scolaires",
    ),
    col(
        "code_insee",
        false,
        &["code_commune", "commune_insee"],
        "code officiel de la commune (5 caractères)",
    ),
    col("adresse", false, &[], "adresse postale"),
    col("code_postal", false, &["cp"], "5 chiffres"),
    col(
        "site_web",
        false,
        &["site", "site_internet"],
        "adresse commençant par https://",
    ),
    col("description", false, &[], "texte libre"),
    col(
        "date_adhesion",
        false,
        &["date_entree"],
        "AAAA-MM-JJ ou JJ/MM/AAAA",
    ),
    col(
        "date_sortie",
        false,
        &["date_de_sortie"],
        "AAAA-MM-JJ ou JJ/MM/AAAA",
    ),
    col(
        "statut",
        false,
        &["publication"],
        "brouillon (par défaut) ou publie",
    ),
    col(
        "invente",
        false,
        &["fictif"],
        "oui si les données sont inventées pour une démonstration",
    ),
];

/// Columns of the formation sheet, in export order. `intitule` and `voie`
/// are required, and at least one of the three `fournisseur` columns.
pub const FORMATION_COLUMNS: &[Column] = &[
    col(
        "cle",
        false,
        &["numero", "reference"],
        "clé stable de la formation, pour les réimports",
    ),
    col("intitule", true, &["titre"], "intitulé de la formation"),
    col(
        "certifinfo",
        false,
        &["code_certifinfo", "certif_info"],
        "numéro Certif Info de la certification préparée",
    ),
    col(
        "niveau",
        false,
        &[],
        "niveau européen, de 1 à 8 (3 = CAP, 4 = bac, 5 = bac + 2…)",
    ),
    col(
        "voie",
        true,
        &[],
        "scolaire, apprentissage, continue ou vae",
    ),
    col(
        "modalite",
        false,
        &[],
        "presentiel (par défaut), distanciel ou hybride",
    ),
    col(
        "fournisseur_siret",
        false,
        &["siret_fournisseur"],
        "SIRET du membre qui dispense la formation",
    ),
    col(
        "fournisseur_uai",
        false,
        &["uai_fournisseur"],
        "UAI du membre qui dispense la formation",
    ),
    col(
        "fournisseur",
        false,
        &["nom_fournisseur"],
        "nom du membre, s'il n'a ni SIRET ni UAI",
    ),
    col(
        "code_insee_lieu",
        false,
        &["lieu", "code_commune_lieu"],
        "code INSEE de la commune où elle a lieu",
    ),
    col("capacite", false, &["places"], "nombre de places, entier"),
    col(
        "duree_heures",
        false,
        &["duree"],
        "durée en heures, entier positif",
    ),
    col("description", false, &[], "texte libre"),
    col(
        "statut",
        false,
        &["publication"],
        "brouillon (par défaut) ou publie",
    ),
    col(
        "codes_rome",
        false,
        &["code_rome", "rome"],
        "codes ROME séparés par des virgules ou des espaces",
    ),
    col(
        "invente",
        false,
        &["fictif"],
        "oui si les données sont inventées pour une démonstration",
    ),
];

/// A problem with one cell (or one header) of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    /// Line or row number as the user sees it.
    pub line: usize,
    /// Canonical column name (see [`MEMBER_COLUMNS`], [`FORMATION_COLUMNS`]),
    /// or the header as written when the header itself is wrong.
    pub column: String,
    /// The cell as written, trimmed.
    pub value: String,
    /// What is wrong and, where possible, what is expected; in French.
    pub message: String,
}

impl CellError {
    pub(super) fn new(
        line: usize,
        column: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line,
            column: column.into(),
            value: value.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} « {} »: {}",
            self.line, self.column, self.value, self.message
        )
    }
}

/// Formats errors one per line as `file:line: column « value »: message`,
/// the shape compilers use, so that editors can jump to the line.
pub fn format_cell_errors(file: &str, errs: &[CellError]) -> String {
    errs.iter().map(|e| format!("{file}:{e}\n")).collect()
}

/// The form in which headers are compared: accents, case, punctuation and
/// French elisions ignored, words joined by `_` (« Date d'adhésion » →
/// `date_adhesion`).
pub(super) fn header_key(header: &str) -> String {
    text::words(header).join("_")
}

/// Spreadsheet letter of a 0-based column index (0 → A, 26 → AA).
pub(super) fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    s.into_iter().map(char::from).collect()
}

/// Where each column of a set sits in a table.
pub(super) struct ColumnMap {
    set: &'static [Column],
    /// Position in the table of each column of `set`, same order.
    positions: Vec<Option<usize>>,
    /// Table positions whose header is empty.
    unnamed: Vec<usize>,
    width: usize,
}

impl ColumnMap {
    /// Matches the headers of `table` to `set`, refusing unknown, repeated
    /// and missing required columns, all reported together.
    pub(super) fn new(table: &Table, set: &'static [Column]) -> Result<Self, Vec<CellError>> {
        let line = table.header_line.max(1);
        let mut errors = Vec::new();
        let mut positions = vec![None; set.len()];
        let mut unnamed = Vec::new();
        for (pos, header) in table.headers.iter().enumerate() {
            let key = header_key(header);
            if key.is_empty() {
                unnamed.push(pos);
                continue;
            }
            let found = set
                .iter()
                .position(|c| c.name == key || c.aliases.contains(&key.as_str()));
            match found {
                Some(i) => match positions[i] {
                    Some(first) => errors.push(CellError::new(
                        line,
                        header.as_str(),
                        header.as_str(),
                        format!(
                            "colonne « {} » en double (colonnes {} et {})",
                            set[i].name,
                            column_letter(first),
                            column_letter(pos)
                        ),
                    )),
                    None => positions[i] = Some(pos),
                },
                None => errors.push(CellError::new(
                    line,
                    header.as_str(),
                    header.as_str(),
                    format!(
                        "colonne {} inconnue ; colonnes reconnues : {}",
                        column_letter(pos),
                        names(set)
                    ),
                )),
            }
        }
        for (c, p) in set.iter().zip(&positions) {
            if c.required && p.is_none() {
                errors.push(CellError::new(
                    line,
                    c.name,
                    "",
                    format!("colonne obligatoire absente ({})", c.help),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self {
                set,
                positions,
                unnamed,
                width: table.headers.len(),
            })
        } else {
            Err(errors)
        }
    }

    /// Whether the table has the column.
    pub(super) fn has(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    fn position(&self, name: &str) -> Option<usize> {
        let i = self.set.iter().position(|c| c.name == name);
        debug_assert!(i.is_some(), "column {name} is not in the set");
        i.and_then(|i| self.positions[i])
    }

    /// The trimmed cell of `row` in column `name`, empty when the table has
    /// no such column.
    pub(super) fn cell<'r>(&self, row: &'r Row, name: &str) -> &'r str {
        self.position(name)
            .and_then(|p| row.cells.get(p))
            .map_or("", |s| s.trim())
    }

    /// Errors for values written under an empty header or beyond the last
    /// header: they would otherwise be silently lost.
    pub(super) fn stray_cells(&self, row: &Row) -> Vec<CellError> {
        let beyond = self.width..row.cells.len();
        self.unnamed
            .iter()
            .copied()
            .chain(beyond)
            .filter_map(|p| {
                let v = row.cells.get(p)?.trim();
                (!v.is_empty()).then(|| {
                    CellError::new(
                        row.line,
                        format!("colonne {} (sans en-tête)", column_letter(p)),
                        v,
                        "valeur dans une colonne sans en-tête : ajoutez l'en-tête ou videz la cellule",
                    )
                })
            })
            .collect()
    }
}

/// Orders errors by line, then by column as laid out in `set`, keeping the
/// order of errors on the same cell; errors on columns outside the set
/// (cells without a header) come last on their line.
pub(super) fn sort_errors(errors: &mut [CellError], set: &[Column]) {
    errors.sort_by_key(|e| {
        let rank = set.iter().position(|c| c.name == e.column);
        (e.line, rank.unwrap_or(usize::MAX))
    });
}

/// The canonical names of a set, comma-separated.
pub(super) fn names(set: &[Column]) -> String {
    set.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// An optional text cell: `None` when blank.
pub(super) fn opt(cell: &str) -> Option<String> {
    (!cell.is_empty()).then(|| cell.to_owned())
}

/// Restores the leading zero a spreadsheet drops when a code INSEE or a
/// postcode of départements 01–09 is typed as a number (`1053` for `01053`).
pub(super) fn restore_leading_zero(cell: &str) -> String {
    if cell.len() == 4 && cell.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{cell}")
    } else {
        cell.to_owned()
    }
}

/// Reads a yes/no cell; blank is no.
pub(super) fn parse_bool(cell: &str) -> Option<bool> {
    match text::fold(cell).as_str() {
        "" | "non" | "faux" | "false" | "0" | "n" => Some(false),
        "oui" | "vrai" | "true" | "1" | "o" | "x" => Some(true),
        _ => None,
    }
}

/// Text written for a boolean in exports.
pub(super) fn bool_text(b: bool) -> String {
    if b { "oui" } else { "non" }.to_owned()
}

/// Reads an optional whole number, allowing the spaces French writing puts
/// between thousands (`1 200`).
pub(super) fn parse_int(cell: &str) -> Result<Option<i64>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    let compact: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .collect();
    compact
        .parse()
        .map(Some)
        .map_err(|_| "nombre entier attendu".to_owned())
}

/// The message for a value outside a closed vocabulary.
pub(super) fn unknown_value(codes: impl Iterator<Item = &'static str>) -> String {
    let codes: Vec<_> = codes.collect();
    format!("valeur inconnue ; valeurs possibles : {}", codes.join(", "))
}

/// The message for a date that could not be read.
pub(super) const BAD_DATE: &str = "date invalide ; écrire AAAA-MM-JJ ou JJ/MM/AAAA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_ignore_accents_case_and_elisions() {
        assert_eq!(header_key("Date d'adhésion"), "date_adhesion");
        assert_eq!(header_key(" Code INSEE "), "code_insee");
        assert_eq!(header_key("INVENTÉ"), "invente");
        assert_eq!(header_key("Durée (heures)"), "duree_heures");
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn small_parsers() {
        assert_eq!(parse_int("1 200"), Ok(Some(1200)));
        assert_eq!(parse_int(""), Ok(None));
        assert!(parse_int("douze").is_err());
        assert_eq!(parse_bool("Oui"), Some(true));
        assert_eq!(parse_bool(""), Some(false));
        assert_eq!(parse_bool("peut-être"), None);
        assert_eq!(restore_leading_zero("1053"), "01053");
        assert_eq!(restore_leading_zero("97311"), "97311");
    }
}
