//! The formation sheet: one formation per row, columns
//! [`FORMATION_COLUMNS`]. The provider is named by SIRET, UAI or name and
//! resolved to a member by the caller, who has the database.

use std::collections::HashMap;
use std::fmt;

use domain::network::FormationInput;
use domain::{CodeInsee, CodeRome, Level, Modality, Pathway, PublicationStatus, Siret, Uai};

use super::columns::{
    bool_text, opt, parse_bool, parse_int, restore_leading_zero, sort_errors, unknown_value,
    CellError, ColumnMap, FORMATION_COLUMNS,
};
use super::members::check_unique;
use super::{Row, Table};

/// How a formation row names its provider, by decreasing reliability.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProviderRef {
    /// The `fournisseur_siret` column, when filled.
    Siret(Siret),
    /// The `fournisseur_uai` column, when filled and no SIRET is given.
    Uai(Uai),
    /// The `fournisseur` column, when neither identifier is given.
    Name(String),
}

impl fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Siret(s) => write!(f, "SIRET {s}"),
            Self::Uai(u) => write!(f, "UAI {u}"),
            Self::Name(n) => write!(f, "« {n} »"),
        }
    }
}

/// A valid formation row whose provider is still to be found.
#[derive(Debug, Clone, PartialEq)]
pub struct FormationRow {
    /// Line of the row in the file, for the messages of the caller (an
    /// unknown provider, for instance).
    pub line: usize,
    /// The provider as the row names it.
    pub provider: ProviderRef,
    /// The `fournisseur` cell even when an identifier is given, so that the
    /// caller can create an outside member or check the match.
    pub provider_name: Option<String>,
    /// The formation, with `provider_id` left at 0 for the caller to set.
    pub input: FormationInput,
}

/// A stored formation with what identifies its provider, for exports.
#[derive(Debug, Clone, PartialEq)]
pub struct FormationExport {
    /// The formation as stored (its `provider_id` is not exported).
    pub formation: FormationInput,
    /// SIRET of the provider, if it has one.
    pub provider_siret: Option<String>,
    /// UAI of the provider, if it has one.
    pub provider_uai: Option<String>,
    /// Name of the provider, written for people reading the file.
    pub provider_name: String,
}

/// Reads and checks every formation row of a table.
///
/// On failure, returns every problem of the file: header problems alone if
/// the header is wrong, otherwise every invalid cell and every `cle` that
/// appears twice, naming the line where it first appeared.
pub fn formations_from_table(table: &Table) -> Result<Vec<FormationRow>, Vec<CellError>> {
    let map = ColumnMap::new(table, FORMATION_COLUMNS)?;
    if !PROVIDER_COLUMNS.iter().any(|c| map.has(c)) {
        return Err(vec![CellError::new(
            table.header_line.max(1),
            PROVIDER_COLUMNS.join(" | "),
            "",
            "colonne obligatoire absente : il faut au moins une de ces colonnes pour désigner le fournisseur",
        )]);
    }
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut keys: HashMap<String, usize> = HashMap::new();
    for row in &table.rows {
        let before = errors.len();
        errors.extend(map.stray_cells(row));
        let parsed = formation_from_row(&map, row, &mut errors);
        check_unique(
            row.line,
            "cle",
            "clé",
            parsed.input.external_key.as_deref(),
            &mut keys,
            &mut errors,
        );
        if let (true, Some(provider)) = (errors.len() == before, parsed.provider) {
            rows.push(FormationRow {
                line: row.line,
                provider,
                provider_name: parsed.provider_name,
                input: parsed.input,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        sort_errors(&mut errors, FORMATION_COLUMNS);
        Err(errors)
    }
}

const PROVIDER_COLUMNS: [&str; 3] = ["fournisseur_siret", "fournisseur_uai", "fournisseur"];

/// A row read, possibly with errors.
struct Parsed {
    provider: Option<ProviderRef>,
    provider_name: Option<String>,
    input: FormationInput,
}

fn formation_from_row(map: &ColumnMap, row: &Row, errors: &mut Vec<CellError>) -> Parsed {
    let line = row.line;
    let cell = |name: &str| map.cell(row, name);
    let mut err = |column: &str, message: String| {
        errors.push(CellError::new(line, column, map.cell(row, column), message));
    };

    let certification_code = match parse_int(cell("certifinfo")) {
        Ok(Some(n)) if n <= 0 => {
            err(
                "certifinfo",
                "le numéro Certif Info doit être positif".into(),
            );
            None
        }
        Ok(n) => n,
        Err(m) => {
            err("certifinfo", format!("numéro Certif Info : {m}"));
            None
        }
    };
    let level = match cell("niveau") {
        "" => None,
        l => Level::parse(l).or_else(|| {
            err(
                "niveau",
                "niveau inconnu ; un nombre de 1 à 8 est attendu (3 = CAP, 4 = bac, 5 = bac + 2, 6 = licence, 7 = master)".into(),
            );
            None
        }),
    };
    let pathway = match cell("voie") {
        "" => {
            err(
                "voie",
                format!(
                    "la voie est obligatoire ; {}",
                    unknown_value(pathway_codes())
                ),
            );
            None
        }
        v => Pathway::parse(v).or_else(|| {
            err("voie", unknown_value(pathway_codes()));
            None
        }),
    };
    let modality = match cell("modalite") {
        "" => Modality::OnSite,
        m => Modality::parse(m).unwrap_or_else(|| {
            err(
                "modalite",
                unknown_value(Modality::ALL.iter().map(|m| m.code())),
            );
            Modality::OnSite
        }),
    };
    let status = match cell("statut") {
        "" => PublicationStatus::Draft,
        s => PublicationStatus::parse(s).unwrap_or_else(|| {
            err(
                "statut",
                unknown_value(PublicationStatus::ALL.iter().map(|s| s.code())),
            );
            PublicationStatus::Draft
        }),
    };
    let invented = parse_bool(cell("invente")).unwrap_or_else(|| {
        err("invente", "oui ou non attendu".into());
        false
    });
    let mut int = |column: &str| {
        parse_int(cell(column)).unwrap_or_else(|m| {
            err(column, m);
            None
        })
    };
    let capacity = int("capacite");
    let duration_hours = int("duree_heures");

    // Every identifier given is checked, even if a better one is present,
    // because a wrong one in the file is a mistake worth fixing.
    let siret = match cell("fournisseur_siret") {
        "" => None,
        s => Siret::parse(s)
            .map_err(|e| err("fournisseur_siret", e.to_string()))
            .ok(),
    };
    let uai = match cell("fournisseur_uai") {
        "" => None,
        u => Uai::parse(u)
            .map_err(|e| err("fournisseur_uai", e.to_string()))
            .ok(),
    };
    let provider_name = opt(cell("fournisseur"));
    let named = !cell("fournisseur_siret").is_empty() || !cell("fournisseur_uai").is_empty();
    if !named && provider_name.is_none() {
        err(
            "fournisseur",
            "le fournisseur est obligatoire : SIRET, UAI ou nom".into(),
        );
    }
    let provider = match (siret, uai) {
        (Some(s), _) => Some(ProviderRef::Siret(s)),
        (None, Some(u)) => Some(ProviderRef::Uai(u)),
        (None, None) if !named => provider_name.clone().map(ProviderRef::Name),
        // An identifier was given but is invalid: already reported.
        (None, None) => None,
    };

    let rome_codes = cell("codes_rome")
        .split(|c: char| c == ',' || c == ';' || c == '|' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(|c| CodeRome::parse(c).map_or_else(|_| c.to_owned(), |r| r.to_string()))
        .collect();
    let site = restore_leading_zero(cell("code_insee_lieu"));
    let input = FormationInput {
        title: cell("intitule").to_owned(),
        certification_code,
        level,
        // Stand-in so that the other fields are still checked; the row is
        // rejected because of the error already recorded.
        pathway: pathway.unwrap_or(Pathway::School),
        modality,
        provider_id: 0,
        site_code_insee: opt(&site).map(|s| CodeInsee::parse(&s).map_or(s, |c| c.to_string())),
        capacity,
        duration_hours,
        description: opt(cell("description")),
        status,
        rome_codes,
        external_key: opt(cell("cle")),
        invented,
    };
    if let Err(field_errors) = input.validate() {
        for fe in field_errors {
            errors.push(CellError::new(
                line,
                fe.field.as_str(),
                map.cell(row, &fe.field),
                fe.message,
            ));
        }
    }
    Parsed {
        provider,
        provider_name,
        input,
    }
}

fn pathway_codes() -> impl Iterator<Item = &'static str> {
    Pathway::ALL.iter().map(|p| p.code())
}

/// Builds the formation sheet of an export, with the columns of
/// [`FORMATION_COLUMNS`] in order, so that it re-imports to the same
/// formations (the provider then comes back as its SIRET, else its UAI,
/// else its name).
pub fn formations_to_table(formations: &[FormationExport]) -> Table {
    let headers = FORMATION_COLUMNS
        .iter()
        .map(|c| c.name.to_owned())
        .collect();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let cells = formations
        .iter()
        .map(|e| {
            let f = &e.formation;
            vec![
                text(&f.external_key),
                f.title.clone(),
                num(f.certification_code),
                f.level.map(|l| l.get().to_string()).unwrap_or_default(),
                f.pathway.code().to_owned(),
                f.modality.code().to_owned(),
                text(&e.provider_siret),
                text(&e.provider_uai),
                e.provider_name.clone(),
                text(&f.site_code_insee),
                num(f.capacity),
                num(f.duration_hours),
                text(&f.description),
                f.status.code().to_owned(),
                f.rome_codes.join(", "),
                bool_text(f.invented),
            ]
        })
        .collect();
    Table::new(headers, cells)
}
