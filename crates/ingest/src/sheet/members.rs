//! The member sheet: one organisation per row, columns [`MEMBER_COLUMNS`].

use std::collections::HashMap;

use domain::network::chrono_free::Date;
use domain::network::MemberInput;
use domain::{CodeInsee, MemberKind, PublicationStatus, Siret, Uai};

use super::columns::{
    bool_text, opt, parse_bool, restore_leading_zero, sort_errors, unknown_value, CellError,
    ColumnMap, BAD_DATE, MEMBER_COLUMNS,
};
use super::{Row, Table};

/// Reads and checks every member row of a table.
///
/// On success, returns each member with the line it came from, identifiers
/// normalised (SIRET without spaces, UAI in upper case). On failure, returns
/// every problem of the file: header problems alone if the header is wrong,
/// otherwise every invalid cell of every row and every SIRET or UAI that
/// appears twice, naming the line where it first appeared.
pub fn members_from_table(table: &Table) -> Result<Vec<(usize, MemberInput)>, Vec<CellError>> {
    let map = ColumnMap::new(table, MEMBER_COLUMNS)?;
    let mut errors = Vec::new();
    let mut members = Vec::with_capacity(table.rows.len());
    let mut sirets: HashMap<String, usize> = HashMap::new();
    let mut uais: HashMap<String, usize> = HashMap::new();
    for row in &table.rows {
        let before = errors.len();
        errors.extend(map.stray_cells(row));
        let member = member_from_row(&map, row, &mut errors);
        // Only valid identifiers are compared: an invalid one is already
        // reported and a second message about it would be noise.
        let siret = member.siret.as_deref().filter(|s| Siret::parse(s).is_ok());
        let uai = member.uai.as_deref().filter(|u| Uai::parse(u).is_ok());
        check_unique(row.line, "siret", "SIRET", siret, &mut sirets, &mut errors);
        check_unique(row.line, "uai", "UAI", uai, &mut uais, &mut errors);
        if errors.len() == before {
            members.push((row.line, member));
        }
    }
    if errors.is_empty() {
        Ok(members)
    } else {
        sort_errors(&mut errors, MEMBER_COLUMNS);
        Err(errors)
    }
}

/// Builds the member of one row, pushing every problem into `errors`. The
/// member is returned even when invalid so that all checks run.
fn member_from_row(map: &ColumnMap, row: &Row, errors: &mut Vec<CellError>) -> MemberInput {
    let line = row.line;
    let cell = |name: &str| map.cell(row, name);
    let mut err = |column: &str, message: String| {
        errors.push(CellError::new(line, column, map.cell(row, column), message));
    };

    let kind = match cell("type") {
        "" => {
            err(
                "type",
                format!("le type est obligatoire ; {}", unknown_value(kind_codes())),
            );
            None
        }
        t => MemberKind::parse(t).or_else(|| {
            err("type", unknown_value(kind_codes()));
            None
        }),
    };
    let mut date = |column: &str| {
        let c = cell(column);
        if c.is_empty() {
            return None;
        }
        let d = Date::parse(c);
        if d.is_none() {
            err(column, BAD_DATE.into());
        }
        d
    };
    let joined_on = date("date_adhesion");
    let left_on = date("date_sortie");
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
    let postcode = opt(&restore_leading_zero(cell("code_postal")));
    if let Some(p) = &postcode {
        if p.len() != 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            err(
                "code_postal",
                "le code postal doit comporter 5 chiffres".into(),
            );
        }
    }

    let member = MemberInput {
        name: cell("nom").to_owned(),
        // A stand-in so that the other fields are still checked; the row is
        // rejected anyway because of the error already recorded.
        kind: kind.unwrap_or(MemberKind::Outside),
        siret: opt(cell("siret"))
            .map(|s| normalise(&s, |s| Siret::parse(s).map(|v| v.to_string()))),
        uai: opt(cell("uai")).map(|s| normalise(&s, |s| Uai::parse(s).map(|v| v.to_string()))),
        code_insee: opt(&restore_leading_zero(cell("code_insee")))
            .map(|s| normalise(&s, |s| CodeInsee::parse(s).map(|v| v.to_string()))),
        address: opt(cell("adresse")),
        postcode,
        website: opt(cell("site_web")),
        description: opt(cell("description")),
        joined_on,
        left_on,
        status,
        invented,
    };
    if let Err(field_errors) = member.validate() {
        for fe in field_errors {
            errors.push(CellError::new(
                line,
                fe.field.as_str(),
                map.cell(row, &fe.field),
                fe.message,
            ));
        }
    }
    member
}

/// The canonical form of an identifier when it is valid; the text as typed
/// otherwise, so that validation reports it.
fn normalise<E>(s: &str, parse: impl Fn(&str) -> Result<String, E>) -> String {
    parse(s).unwrap_or_else(|_| s.to_owned())
}

fn kind_codes() -> impl Iterator<Item = &'static str> {
    MemberKind::ALL.iter().map(|k| k.code())
}

/// Records the first line of each identifier and reports later ones.
pub(super) fn check_unique(
    line: usize,
    column: &str,
    what: &str,
    value: Option<&str>,
    seen: &mut HashMap<String, usize>,
    errors: &mut Vec<CellError>,
) {
    let Some(v) = value else { return };
    match seen.get(v) {
        Some(&first) => errors.push(CellError::new(
            line,
            column,
            v,
            format!("{what} en double : déjà présent ligne {first} (et ici ligne {line})"),
        )),
        None => {
            seen.insert(v.to_owned(), line);
        }
    }
}

/// Builds the member sheet of an export, with the columns of
/// [`MEMBER_COLUMNS`] in order, so that it re-imports to the same members.
///
/// A stored member is a [`MemberInput`] plus its id and campus; neither is
/// exported because a re-import matches members on SIRET, UAI or name.
pub fn members_to_table(members: &[MemberInput]) -> Table {
    let headers = MEMBER_COLUMNS.iter().map(|c| c.name.to_owned()).collect();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let cells = members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.kind.code().to_owned(),
                text(&m.siret),
                text(&m.uai),
                text(&m.code_insee),
                text(&m.address),
                text(&m.postcode),
                text(&m.website),
                text(&m.description),
                date(m.joined_on),
                date(m.left_on),
                m.status.code().to_owned(),
                bool_text(m.invented),
            ]
        })
        .collect();
    Table::new(headers, cells)
}
