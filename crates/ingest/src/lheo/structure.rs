//! Structural rules: what makes an offer unusable, hence rejected (or the
//! file refused).
//!
//! * LHÉO 2.2 and 2.3: the required children (`minOccurs ≥ 1`) of the
//!   elements in [`XSD_SEQUENCES`], copied from `lheo-2.3.xsd` (2.2 files
//!   validate against it once their namespace is rewritten). For 2.3 files
//!   the same table also gives the order of the sequence, so an unknown
//!   child, a child out of order and a repeated once-only child are
//!   reported too. Those are not checked for 2.2 because 2.2 producers may
//!   carry elements 2.3 dropped. The table leaves out `adresse` (its
//!   required `codepostal` is a quality matter for a campus, not a reason to
//!   drop an offer) and `coordonnees` (no required child).
//!   `lieu-de-formation` and `organisme-formateur` are optional in the
//!   schema and ONISEP's real export has no `organisme-formateur`, so they
//!   are not required; when present, their own required children are.
//! * LHÉO 1.3: [`V1_REQUIRED`], the backbone of the 1.x language
//!   (`offre-formation` = `action-formation` + `organisation-formation` +
//!   `organismes`, a training site in `modalites-acces`, a responsible body
//!   with its SIRET).
//! * Summaries: [`LEGER_REQUIRED`], plus a title (`intitule-formation` in
//!   2.x, `intitule-action` in 1.x).
//! * Everywhere: the title is not empty (the schema's `minLength="1"`).

use super::model::{LheoFormat, Problem};
use super::tree::Node;

/// Occurrence constraint of a child in a sequence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Occurs {
    /// Exactly one.
    One,
    /// Zero or one.
    Opt,
    /// One or more.
    AtLeastOne,
    /// Zero or more.
    Any,
}

use Occurs::{Any, AtLeastOne, One, Opt};

impl Occurs {
    fn required(self) -> bool {
        matches!(self, One | AtLeastOne)
    }

    fn once(self) -> bool {
        matches!(self, One | Opt)
    }
}

type Sequence = &'static [(&'static str, Occurs)];

/// Sequences of `lheo-2.3.xsd` for the elements of an offer, in schema order.
#[rustfmt::skip]
const XSD_SEQUENCES: &[(&str, Sequence)] = &[
    ("formation", &[
        ("domaine-formation", One), ("intitule-formation", One), ("objectif-formation", One),
        ("resultats-attendus", One), ("contenu-formation", One), ("certifiante", One),
        ("contact-formation", AtLeastOne), ("parcours-de-formation", One),
        ("code-niveau-entree", One), ("objectif-general-formation", Opt),
        ("certification", Any), ("code-type-formation", Any), ("code-niveau-sortie", Opt),
        ("url-formation", Opt), ("action", AtLeastOne), ("organisme-formation-responsable", One),
        ("identifiant-module", Opt), ("positionnement", Opt), ("sous-modules", Opt),
        ("modules-prerequis", Opt), ("extras", Any),
    ]),
    ("action", &[
        ("rythme-formation", One), ("code-public-vise", AtLeastOne), ("info-public-vise", Opt),
        ("niveau-entree-obligatoire", One), ("modalites-alternance", One),
        ("modalites-enseignement", One), ("conditions-specifiques", One),
        ("prise-en-charge-frais-possible", One), ("lieu-de-formation", Any),
        ("modalites-entrees-sorties", One), ("url-action", Opt), ("duree-cycle", Opt),
        ("session", AtLeastOne), ("adresse-information", Opt), ("date-information", Any),
        ("restauration", Opt), ("hebergement", Opt), ("transport", Opt),
        ("acces-handicapes", Opt), ("langue-formation", Any), ("modalites-recrutement", Opt),
        ("modalites-pedagogiques", Opt), ("code-modalite-pedagogique", Any),
        ("equipement", Any), ("frais-restants", Opt), ("code-perimetre-recrutement", Opt),
        ("infos-perimetre-recrutement", Opt), ("prix-horaire-TTC", Opt),
        ("prix-total-TTC", Opt), ("duree-indicative", Opt), ("nombre-heures-centre", Opt),
        ("nombre-heures-entreprise", Opt), ("nombre-heures-total", Opt),
        ("detail-conditions-prise-en-charge", Opt), ("conventionnement", Opt),
        ("duree-conventionnee", Opt), ("organisme-formateur", Any),
        ("organisme-financeur", Any), ("enseignement", Any), ("extras", Any),
    ]),
    ("session", &[
        ("periode", One), ("adresse-inscription", One), ("modalites-inscription", Opt),
        ("periode-inscription", Opt), ("etat-recrutement", Opt), ("recrutement", Any),
        ("url-session", Opt), ("contact-session", Any), ("reference-certification", Any),
        ("blocs-competences", Any), ("cycle", Any), ("extras", Any),
    ]),
    ("periode", &[("debut", One), ("fin", One), ("extras", Any)]),
    ("organisme-formation-responsable", &[
        ("numero-activite", One), ("SIRET-organisme-formation", One), ("nom-organisme", One),
        ("raison-sociale", One), ("coordonnees-organisme", One), ("contact-organisme", AtLeastOne),
        ("renseignements-specifiques", Opt), ("potentiel", Opt),
        ("code-UAI-organisme-formation", Opt), ("extras", Any),
    ]),
    ("SIRET-organisme-formation", &[("SIRET", One), ("extras", Any)]),
    ("coordonnees-organisme", &[("coordonnees", One), ("extras", Any)]),
    ("contact-organisme", &[("type-contact", Opt), ("coordonnees", One), ("extras", Any)]),
    ("contact-formation", &[("type-contact", Opt), ("coordonnees", One), ("extras", Any)]),
    ("lieu-de-formation", &[
        ("SIRET-lieu-formation", Opt), ("code-UAI-lieu-formation", Opt), ("coordonnees", One),
        ("extras", Any),
    ]),
    ("organisme-formateur", &[
        ("SIRET-formateur", One), ("raison-sociale-formateur", One), ("contact-formateur", Any),
        ("potentiel", Opt), ("code-UAI-formateur", Opt), ("reference-certification", Any),
        ("extras", Any),
    ]),
    ("SIRET-formateur", &[("SIRET", One), ("extras", Any)]),
    ("adresse-inscription", &[("adresse", One), ("extras", Any)]),
    ("certification", &[
        ("code-RNCP", Opt), ("code-CERTIFINFO", Opt), ("code-RS", Opt), ("code-CPF", Opt),
        ("reference-code-FORMACODE", Opt), ("extras", Any),
    ]),
    ("domaine-formation", &[
        ("code-FORMACODE", Any), ("code-NSF", Any), ("code-ROME", Any), ("extras", Any),
    ]),
    ("url-formation", &[("urlweb", AtLeastOne), ("extras", Any)]),
    ("url-action", &[("urlweb", AtLeastOne), ("extras", Any)]),
];

/// Required children in LHÉO 1.3 offers.
#[rustfmt::skip]
const V1_REQUIRED: &[(&str, &[&str])] = &[
    ("offre-formation", &["action-formation", "organisation-formation", "organismes"]),
    ("action-formation", &["intitule-action"]),
    ("organisation-formation", &["modalites-acces"]),
    ("modalites-acces", &["lieu-de-formation"]),
    ("lieu-de-formation", &["coordonnees"]),
    ("organismes", &["organisme-formation-responsable"]),
    ("organisme-formation-responsable", &["SIRET-organisme-formation", "nom-organisme"]),
    ("SIRET-organisme-formation", &["SIRET"]),
    ("organisme-formateur", &["SIRET-formateur", "raison-sociale-formateur"]),
    ("SIRET-formateur", &["SIRET"]),
    ("session", &["periode"]),
    ("periode", &["debut", "fin"]),
];

/// Required children in offer summaries (the title is checked apart, its
/// name depends on the version).
const LEGER_REQUIRED: &[(&str, &[&str])] = &[
    ("resume-offre", &["nom-organisme", "SIRET"]),
    ("session", &["periode"]),
    ("periode", &["debut", "fin"]),
];

/// Every structural problem of one offer, in document order.
pub(super) fn check(offer: &Node, format: LheoFormat) -> Vec<Problem> {
    let mut problems = Vec::new();
    walk(offer, format, &mut problems);
    check_title(offer, format, &mut problems);
    problems.sort_by_key(|p| p.line);
    problems
}

/// Applies the table of the format to `node` and its descendants, except
/// inside `extras`, which is free content.
fn walk(node: &Node, format: LheoFormat, problems: &mut Vec<Problem>) {
    match format {
        LheoFormat::V2_2 | LheoFormat::V2_3 => {
            if let Some((_, seq)) = XSD_SEQUENCES.iter().find(|(n, _)| *n == node.name) {
                check_sequence(node, seq, format == LheoFormat::V2_3, problems);
            }
        }
        LheoFormat::V1_3 => check_required(node, V1_REQUIRED, problems),
        LheoFormat::Leger => check_required(node, LEGER_REQUIRED, problems),
    }
    for child in node
        .children
        .iter()
        .filter(|c| !c.name.starts_with("extras"))
    {
        walk(child, format, problems);
    }
}

fn missing(node: &Node, child: &str) -> Problem {
    Problem {
        line: node.line,
        message: format!("<{}> : élément obligatoire <{child}> absent", node.name),
    }
}

fn check_required(node: &Node, table: &[(&str, &[&str])], problems: &mut Vec<Problem>) {
    if let Some((_, required)) = table.iter().find(|(n, _)| *n == node.name) {
        for r in *required {
            if node.child(r).is_none() {
                problems.push(missing(node, r));
            }
        }
    }
}

/// Checks the children of `node` against an XSD sequence: required ones
/// always; unknown, misplaced and repeated ones when `strict`.
fn check_sequence(node: &Node, seq: Sequence, strict: bool, problems: &mut Vec<Problem>) {
    for (name, occurs) in seq {
        if occurs.required() && node.child(name).is_none() {
            problems.push(missing(node, name));
        }
    }
    if !strict {
        return;
    }
    // Index in the sequence of the furthest child seen so far.
    let mut furthest: Option<usize> = None;
    let mut seen = vec![0usize; seq.len()];
    for child in &node.children {
        let Some(i) = seq.iter().position(|(n, _)| *n == child.name) else {
            problems.push(Problem {
                line: child.line,
                message: format!("élément <{}> inattendu dans <{}>", child.name, node.name),
            });
            continue;
        };
        seen[i] += 1;
        if seen[i] == 2 && seq[i].1.once() {
            problems.push(Problem {
                line: child.line,
                message: format!(
                    "élément <{}> répété dans <{}> (une seule occurrence permise)",
                    child.name, node.name
                ),
            });
        }
        match furthest {
            Some(f) if i < f => problems.push(Problem {
                line: child.line,
                message: format!(
                    "élément <{}> mal placé dans <{}> : il doit précéder <{}>",
                    child.name, node.name, seq[f].0
                ),
            }),
            _ => furthest = Some(i),
        }
    }
}

/// The title must exist and not be empty.
fn check_title(offer: &Node, format: LheoFormat, problems: &mut Vec<Problem>) {
    let holder = match format {
        LheoFormat::V1_3 => offer.child("action-formation"),
        _ => Some(offer),
    };
    let Some(holder) = holder else { return };
    let titles = ["intitule-formation", "intitule-action"];
    match titles.iter().find_map(|t| holder.child(t)) {
        Some(t) if t.text.trim().is_empty() => problems.push(Problem {
            line: t.line,
            message: format!("<{}> est vide", t.name),
        }),
        // The required-children tables already report a missing title,
        // except for summaries whose title element has two possible names.
        None if format == LheoFormat::Leger => problems.push(missing(holder, "intitule-formation")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str, line: u64, text: &str) -> Node {
        Node {
            name: name.into(),
            line,
            text: text.into(),
            ..Node::default()
        }
    }

    #[test]
    fn strict_sequence_reports_unknown_misplaced_and_repeated() {
        let periode = Node {
            name: "periode".into(),
            line: 1,
            children: vec![
                leaf("fin", 2, "20250101"),
                leaf("debut", 3, "20240101"),
                leaf("debut", 4, "20240101"),
                leaf("intrus", 5, ""),
            ],
            ..Node::default()
        };
        let mut p = Vec::new();
        check_sequence(&periode, XSD_SEQUENCES[3].1, true, &mut p);
        let msgs: Vec<_> = p.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            msgs,
            [
                (
                    3,
                    "élément <debut> mal placé dans <periode> : il doit précéder <fin>"
                ),
                (
                    4,
                    "élément <debut> répété dans <periode> (une seule occurrence permise)"
                ),
                (
                    4,
                    "élément <debut> mal placé dans <periode> : il doit précéder <fin>"
                ),
                (5, "élément <intrus> inattendu dans <periode>"),
            ]
        );
        let mut lenient = Vec::new();
        check_sequence(&periode, XSD_SEQUENCES[3].1, false, &mut lenient);
        assert!(lenient.is_empty());
    }
}
