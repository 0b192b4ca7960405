//! From a structurally valid offer tree to an [`LheoOffer`], with the
//! data-quality notes of its values.

use domain::network::chrono_free::Date;
use domain::{CodeInsee, CodeRome, Level, Modality, Pathway, Siret};

use super::model::{
    LheoAction, LheoAddress, LheoCertification, LheoFormat, LheoOffer, LheoProvider, LheoSession,
    ParseOptions, QualityNote,
};
use super::tree::Node;

/// Formacode « public » code for people under an apprenticeship contract
/// (« Public dans le cadre du contrat d'apprentissage », LHÉO table
/// `dict-public-vise-formacode`).
pub(super) const PUBLIC_APPRENTICESHIP: &str = "82027";
/// Formacode « public » code for initial (school) education (« Public de la
/// formation initiale »), which ONISEP puts on lycée offers.
pub(super) const PUBLIC_INITIAL: &str = "81061";
/// Formacode « public » code « Tout public ».
pub(super) const PUBLIC_ALL: &str = "83056";

/// Maps an LHÉO level code (`dict-niveaux`, used by `code-niveau-entree`
/// and `code-niveau-sortie`) to the European scale of [`Level`].
///
/// | LHÉO | meaning | level |
/// |---|---|---|
/// | 0 | information non communiquée | none |
/// | 1 | sans niveau spécifique | none |
/// | 2 | niveau VI (illettrisme) | 1 |
/// | 3 | niveau V bis (préqualification) | 2 |
/// | 4 | niveau V (CAP, BEP) | 3 |
/// | 5 | niveau IV (bac pro, BP, BT) | 4 |
/// | 6 | niveau III (BTS, DUT) | 5 |
/// | 7 | niveau II (licence, maîtrise) | 6 |
/// | 8 | niveau I (au-delà de la maîtrise) | 7 |
/// | 11 to 18 | niveaux 1 to 8 of the 2019 nomenclature (LHÉO 2.3) | 1 to 8 |
///
/// Levels V to II follow the official correspondence of the 2019 decree on
/// the national framework of certifications (V → 3 … II → 6). The old
/// scale had nothing below V but VI and V bis, placed on 1 and 2. Old level
/// I covered both master and doctorate; training offers use it for bac + 5,
/// hence 7. Any other value gives `None`.
pub fn level_from_lheo(code: &str) -> Option<Level> {
    let n: u8 = code.trim().parse().ok()?;
    let european = match n {
        2..=8 => n - 1,
        11..=18 => n - 10,
        _ => return None,
    };
    Level::new(european)
}

/// Decides the voie of an action from its `code-public-vise` values and its
/// free-text alternance fields (`modalites-alternance`, `modalite-alternance`,
/// `rythme-formation`), in this order:
///
/// 1. the public code 82027 (« contrat d'apprentissage ») → apprentissage;
/// 2. an alternance text that speaks of apprenticeship (« apprentissage »,
///    « apprenti·e », accents and case ignored) → apprentissage; a
///    contrat de professionnalisation is alternance but not apprenticeship;
/// 3. the public code 81061 (« formation initiale ») → scolaire;
/// 4. otherwise → formation continue.
///
/// LHÉO has no marker for VAE in these fields, so it is never inferred.
pub fn pathway_from_lheo(public_codes: &[&str], alternance_texts: &[&str]) -> Pathway {
    let has = |code: &str| public_codes.iter().any(|c| c.trim() == code);
    if has(PUBLIC_APPRENTICESHIP)
        || alternance_texts
            .iter()
            .any(|t| domain::text::fold(t).contains("apprenti"))
    {
        Pathway::Apprenticeship
    } else if has(PUBLIC_INITIAL) {
        Pathway::School
    } else {
        Pathway::Continuing
    }
}

/// Maps `modalites-enseignement` / `FOAD` (same table in every version).
fn modality(code: Option<String>) -> Option<Modality> {
    match code?.as_str() {
        "0" => Some(Modality::OnSite),
        "1" => Some(Modality::Hybrid),
        "2" => Some(Modality::Distance),
        _ => None,
    }
}

/// The producer's identifier of an offer, wherever the dialect puts it.
pub(super) fn numero(offer: &Node, format: LheoFormat) -> Option<String> {
    let clean = |s: &str| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    offer
        .attr("numero")
        .and_then(clean)
        .or_else(|| offer.child_value("numero"))
        .or_else(|| match format {
            LheoFormat::V1_3 => offer
                .child("action-formation")
                .and_then(|a| a.attr("numero"))
                .and_then(clean),
            _ => None,
        })
}

/// Collects quality notes for one offer.
struct Notes<'o> {
    numero: Option<String>,
    known_communes: Option<&'o dyn Fn(&str) -> bool>,
    list: Vec<QualityNote>,
}

impl Notes<'_> {
    fn push(&mut self, line: u64, field: &str, message: String) {
        self.list.push(QualityNote {
            line,
            numero: self.numero.clone(),
            field: field.to_owned(),
            message,
        });
    }

    fn siret(&mut self, node: Option<&Node>, field: &str) -> Option<String> {
        let node = node?;
        let Some(raw) = node.value() else {
            self.push(node.line, field, "SIRET vide".into());
            return None;
        };
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if let Err(e) = Siret::parse(&compact) {
            self.push(
                node.line,
                field,
                format!("SIRET « {compact} » invalide : {e}"),
            );
        }
        Some(compact)
    }

    fn commune(&mut self, node: &Node, field: &str) -> Option<String> {
        let code = node.value()?;
        match CodeInsee::parse(&code) {
            Err(e) => self.push(node.line, field, e.to_string()),
            Ok(c) => {
                if let Some(known) = self.known_communes {
                    if !known(c.as_str()) {
                        self.push(
                            node.line,
                            field,
                            format!(
                                "code commune INSEE « {c} » inconnu du code officiel géographique \
                                 en vigueur (commune fusionnée ou code périmé ?)"
                            ),
                        );
                    }
                }
            }
        }
        Some(code)
    }

    fn postcode(&mut self, node: &Node, field: &str) -> Option<String> {
        let code = node.value()?;
        if !(code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())) {
            self.push(
                node.line,
                field,
                format!("code postal « {code} » mal formé (5 chiffres attendus)"),
            );
        }
        Some(code)
    }

    /// Reads an `adresse`-like element (children `codepostal`, `ville`,
    /// `code-INSEE-commune`). `what` names it in the notes; a missing
    /// postcode is noted when `require_postcode`.
    fn address(&mut self, holder: &Node, what: &str, require_postcode: bool) -> LheoAddress {
        let postcode = match holder.child("codepostal") {
            Some(n) => self.postcode(n, &format!("{what}/codepostal")),
            None => None,
        };
        if postcode.is_none() && require_postcode {
            self.push(
                holder.line,
                &format!("{what}/codepostal"),
                "code postal absent".into(),
            );
        }
        let code_insee = match holder.child("code-INSEE-commune") {
            Some(n) => self.commune(n, &format!("{what}/code-INSEE-commune")),
            None => None,
        };
        LheoAddress {
            code_insee,
            postcode,
            city: holder.child_value("ville"),
        }
    }

    /// A training site: `lieu-de-formation/coordonnees/adresse`.
    fn site(&mut self, lieu: &Node) -> LheoAddress {
        match lieu.path(&["coordonnees", "adresse"]) {
            Some(adresse) => self.address(adresse, "lieu-de-formation", true),
            None => {
                self.push(
                    lieu.line,
                    "lieu-de-formation/adresse",
                    "adresse du lieu de formation absente (ni commune ni code postal)".into(),
                );
                LheoAddress::default()
            }
        }
    }

    fn count(&mut self, node: Option<&Node>, field: &str) -> Option<u32> {
        let node = node?;
        let v = node.value()?;
        match v.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.push(
                    node.line,
                    field,
                    format!("« {v} » n'est pas un nombre entier"),
                );
                None
            }
        }
    }

    /// Reads a `periode/debut` or `periode/fin` value. `00000000` (unknown)
    /// and `99999999` (open-ended) are the LHÉO sentinels; a month or day of
    /// `00` (or `9x`, which the schema allows) means unknown, and the date
    /// widens to the first (`start`) or last (`end`) day of the year or month.
    fn date(&mut self, node: Option<&Node>, field: &str, is_start: bool) -> Option<Date> {
        let node = node?;
        let v = node.value()?;
        if v == "00000000" || v == "99999999" {
            return None;
        }
        let parsed = (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| {
                let y: i32 = v[..4].parse().ok()?;
                let m: u8 = v[4..6].parse().ok()?;
                let d: u8 = v[6..].parse().ok()?;
                let unknown = |x: u8| x == 0 || x >= 90;
                match (unknown(m), unknown(d), is_start) {
                    (true, _, true) => Date::new(y, 1, 1),
                    (true, _, false) => Date::new(y, 12, 31),
                    (false, true, true) => Date::new(y, m, 1),
                    (false, true, false) => (28..=31).rev().find_map(|d| Date::new(y, m, d)),
                    (false, false, _) => Date::new(y, m, d),
                }
            })
            .flatten();
        if parsed.is_none() {
            self.push(
                node.line,
                field,
                format!("date « {v} » invalide (AAAAMMJJ attendu)"),
            );
        }
        parsed
    }

    fn session(&mut self, s: &Node) -> LheoSession {
        let periode = s.child("periode");
        let start = self.date(
            periode.and_then(|p| p.child("debut")),
            "session/periode/debut",
            true,
        );
        let end = self.date(
            periode.and_then(|p| p.child("fin")),
            "session/periode/fin",
            false,
        );
        if let (Some(a), Some(b)) = (start, end) {
            if a > b {
                self.push(
                    s.line,
                    "session/periode",
                    format!("la session finit ({b}) avant de commencer ({a})"),
                );
            }
        }
        let places_node = s
            .first_descendant("nb-places")
            .or_else(|| s.first_descendant("capacite-simultanee"))
            .or_else(|| {
                s.children_named("extras")
                    .flat_map(|e| e.children_named("extra"))
                    .find(|e| e.attr("info") == Some("nb-places"))
            });
        let places = self.count(places_node, "session/nb-places");
        LheoSession {
            numero: s
                .attr("numero")
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
            start,
            end,
            places,
        }
    }

    fn sessions(&mut self, holder: &Node) -> Vec<LheoSession> {
        let mut nodes = Vec::new();
        holder.descendants("session", &mut nodes);
        nodes.into_iter().map(|s| self.session(s)).collect()
    }
}

/// Codes of `domaine-formation` (wrapped in `codes-…` in 1.x).
struct Domain {
    formacodes: Vec<String>,
    nsf: Vec<String>,
    rome: Vec<CodeRome>,
    invalid_rome: Vec<String>,
}

fn domain(node: Option<&Node>, notes: &mut Notes) -> Domain {
    let mut d = Domain {
        formacodes: Vec::new(),
        nsf: Vec::new(),
        rome: Vec::new(),
        invalid_rome: Vec::new(),
    };
    let Some(node) = node else { return d };
    let mut found = Vec::new();
    node.descendants("code-FORMACODE", &mut found);
    for n in found.drain(..) {
        if let Some(v) = n.value() {
            if !(v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit())) {
                notes.push(
                    n.line,
                    "code-FORMACODE",
                    format!("Formacode « {v} » mal formé (5 chiffres attendus)"),
                );
            }
            d.formacodes.push(v);
        }
    }
    node.descendants("code-NSF", &mut found);
    d.nsf.extend(found.drain(..).filter_map(Node::value));
    node.descendants("code-ROME", &mut found);
    for n in found {
        let Some(v) = n.value() else { continue };
        match CodeRome::parse(&v) {
            Ok(c) => d.rome.push(c),
            Err(e) => {
                let message = if v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()) {
                    format!(
                        "code ROME « {v} » : ancien code ROME v2 (5 chiffres), \
                         à remplacer par un code ROME 4.0 (lettre + 4 chiffres)"
                    )
                } else {
                    e.to_string()
                };
                notes.push(n.line, "code-ROME", message);
                d.invalid_rome.push(v);
            }
        }
    }
    d
}

fn certifications(holder: &Node) -> Vec<LheoCertification> {
    holder
        .children_named("certification")
        .map(|c| LheoCertification {
            rncp: c.child_value("code-RNCP"),
            certifinfo: c.child_value("code-CERTIFINFO"),
        })
        .filter(|c| c.rncp.is_some() || c.certifinfo.is_some())
        .collect()
}

fn flag(node: Option<&Node>) -> Option<bool> {
    match node?.value()?.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

fn values<'a>(holder: &'a Node, name: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    holder.descendants(name, &mut found);
    found.into_iter().map(|n| n.text.trim()).collect()
}

/// `organisme-formation-responsable` of 1.3 and 2.x.
fn provider(node: Option<&Node>, notes: &mut Notes) -> LheoProvider {
    let Some(node) = node else {
        return LheoProvider::default();
    };
    let siret = notes.siret(
        node.path(&["SIRET-organisme-formation", "SIRET"]),
        "organisme-formation-responsable/SIRET",
    );
    let raison_sociale = node.child_value("raison-sociale");
    let coordonnees = node.path(&["coordonnees-organisme", "coordonnees"]);
    let address = match coordonnees.and_then(|c| c.child("adresse")) {
        Some(a) => notes.address(a, "organisme-formation-responsable/adresse", true),
        None => LheoAddress::default(),
    };
    LheoProvider {
        siret,
        name: node
            .child_value("nom-organisme")
            .or_else(|| raison_sociale.clone())
            .unwrap_or_default(),
        raison_sociale,
        uai: node
            .path(&["code-UAI-organisme-formation", "code-UAI"])
            .and_then(Node::value),
        address,
        website: coordonnees
            .and_then(|c| c.path(&["web", "urlweb"]))
            .and_then(Node::value),
    }
}

/// Quality notes on the SIRET of every `organisme-formateur` under `holder`.
fn trainers(holder: &Node, notes: &mut Notes) {
    let mut found = Vec::new();
    holder.descendants("organisme-formateur", &mut found);
    for f in found {
        notes.siret(
            f.path(&["SIRET-formateur", "SIRET"]),
            "organisme-formateur/SIRET",
        );
    }
}

/// Extracts an offer whose structure was checked.
pub(super) fn offer(
    node: &Node,
    format: LheoFormat,
    opts: &ParseOptions<'_>,
) -> (LheoOffer, Vec<QualityNote>) {
    let mut notes = Notes {
        numero: numero(node, format),
        known_communes: opts.known_communes,
        list: Vec::new(),
    };
    let offer = match format {
        LheoFormat::V2_2 | LheoFormat::V2_3 => v2(node, &mut notes),
        LheoFormat::V1_3 => v1(node, &mut notes),
        LheoFormat::Leger => leger(node, &mut notes),
    };
    notes.list.sort_by_key(|n| n.line);
    (offer, notes.list)
}

fn v2(node: &Node, notes: &mut Notes) -> LheoOffer {
    let d = domain(node.child("domaine-formation"), notes);
    let provider = provider(node.child("organisme-formation-responsable"), notes);
    let actions = node
        .children_named("action")
        .map(|a| {
            trainers(a, notes);
            let sites = a
                .children_named("lieu-de-formation")
                .map(|l| notes.site(l))
                .collect();
            let public = values(a, "code-public-vise");
            let texts: Vec<String> = ["modalites-alternance", "rythme-formation"]
                .iter()
                .filter_map(|n| a.child_value(n))
                .collect();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            LheoAction {
                line: a.line,
                numero: a
                    .attr("numero")
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                modality: modality(a.child_value("modalites-enseignement")),
                pathway: pathway_from_lheo(&public, &texts),
                sites,
                duree_indicative: a.child_value("duree-indicative"),
                nombre_heures_total: notes
                    .count(a.child("nombre-heures-total"), "nombre-heures-total"),
                sessions: a
                    .children_named("session")
                    .map(|s| notes.session(s))
                    .collect(),
            }
        })
        .collect();
    LheoOffer {
        line: node.line,
        numero: notes.numero.clone(),
        intitule: node.child_value("intitule-formation").unwrap_or_default(),
        objectif: node.child_value("objectif-formation"),
        resultats_attendus: node.child_value("resultats-attendus"),
        contenu: node.child_value("contenu-formation"),
        certifiante: flag(node.child("certifiante")),
        certifications: certifications(node),
        formacodes: d.formacodes,
        nsf_codes: d.nsf,
        rome_codes: d.rome,
        invalid_rome_codes: d.invalid_rome,
        niveau_entree: node
            .child_value("code-niveau-entree")
            .and_then(|c| level_from_lheo(&c)),
        niveau_sortie: node
            .child_value("code-niveau-sortie")
            .and_then(|c| level_from_lheo(&c)),
        url: node
            .path(&["url-formation", "urlweb"])
            .and_then(Node::value),
        provider,
        actions,
    }
}

fn v1(node: &Node, notes: &mut Notes) -> LheoOffer {
    let empty = Node::default();
    let af = node.child("action-formation").unwrap_or(&empty);
    let of = node.child("organisation-formation").unwrap_or(&empty);
    let orgs = node.child("organismes").unwrap_or(&empty);
    let d = domain(af.child("domaine-formation"), notes);
    let provider = provider(orgs.child("organisme-formation-responsable"), notes);
    trainers(orgs, notes);
    let mut lieux = Vec::new();
    of.descendants("lieu-de-formation", &mut lieux);
    let sites = lieux.into_iter().map(|l| notes.site(l)).collect();
    let public = values(af, "code-public-vise");
    let texts: Vec<String> = [
        of.first_descendant("modalite-alternance"),
        of.first_descendant("modalites-alternance"),
        af.child("rythme-formation"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Node::value)
    .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let action = LheoAction {
        line: node.line,
        numero: None,
        modality: modality(of.first_descendant("FOAD").and_then(Node::value)),
        pathway: pathway_from_lheo(&public, &texts),
        sites,
        duree_indicative: af.child_value("duree-indicative"),
        nombre_heures_total: notes.count(
            of.first_descendant("nombre-heures-total"),
            "nombre-heures-total",
        ),
        sessions: notes.sessions(of),
    };
    LheoOffer {
        line: node.line,
        numero: notes.numero.clone(),
        intitule: af
            .child_value("intitule-action")
            .or_else(|| af.child_value("intitule-formation"))
            .unwrap_or_default(),
        objectif: af.child_value("objectif-formation"),
        resultats_attendus: af.child_value("resultats-attendus"),
        contenu: af.child_value("contenu-formation"),
        certifiante: flag(af.child("diplomante").or_else(|| af.child("certifiante"))),
        certifications: certifications(af),
        formacodes: d.formacodes,
        nsf_codes: d.nsf,
        rome_codes: d.rome,
        invalid_rome_codes: d.invalid_rome,
        niveau_entree: of
            .first_descendant("code-niveau-entree")
            .and_then(Node::value)
            .and_then(|c| level_from_lheo(&c)),
        niveau_sortie: af
            .child_value("code-niveau-sortie")
            .and_then(|c| level_from_lheo(&c)),
        url: None,
        provider,
        actions: vec![action],
    }
}

fn leger(node: &Node, notes: &mut Notes) -> LheoOffer {
    let d = domain(node.child("domaine-formation"), notes);
    let siret = notes.siret(node.child("SIRET"), "SIRET");
    // A summary carries one place, the training site; its postcode is
    // optional in the schema but a campus needs it.
    let site = notes.address(node, "resume-offre", true);
    let public = values(node, "code-public-vise");
    let action = LheoAction {
        line: node.line,
        numero: None,
        modality: modality(
            node.child_value("modalites-enseignement")
                .or_else(|| node.child_value("FOAD")),
        ),
        pathway: pathway_from_lheo(&public, &[]),
        sites: if site.is_empty() {
            Vec::new()
        } else {
            vec![site]
        },
        duree_indicative: None,
        nombre_heures_total: notes.count(node.child("nombre-heures-total"), "nombre-heures-total"),
        sessions: notes.sessions(node),
    };
    LheoOffer {
        line: node.line,
        numero: notes.numero.clone(),
        intitule: node
            .child_value("intitule-formation")
            .or_else(|| node.child_value("intitule-action"))
            .unwrap_or_default(),
        objectif: None,
        resultats_attendus: None,
        contenu: None,
        certifiante: flag(
            node.child("certifiante")
                .or_else(|| node.child("diplomante")),
        ),
        certifications: certifications(node),
        formacodes: d.formacodes,
        nsf_codes: d.nsf,
        rome_codes: d.rome,
        invalid_rome_codes: d.invalid_rome,
        niveau_entree: node
            .child_value("code-niveau-entree")
            .and_then(|c| level_from_lheo(&c)),
        niveau_sortie: node
            .child_value("code-niveau-sortie")
            .and_then(|c| level_from_lheo(&c)),
        url: node.attr("file").map(str::to_owned),
        provider: LheoProvider {
            siret,
            name: node.child_value("nom-organisme").unwrap_or_default(),
            ..LheoProvider::default()
        },
        actions: vec![action],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_mapping() {
        let l = |c: &str| level_from_lheo(c).map(Level::get);
        assert_eq!(l("0"), None);
        assert_eq!(l("1"), None);
        assert_eq!(l("4"), Some(3));
        assert_eq!(l("6"), Some(5));
        assert_eq!(l("8"), Some(7));
        assert_eq!(l("13"), Some(3));
        assert_eq!(l("18"), Some(8));
        assert_eq!(l("9"), None);
        assert_eq!(l("x"), None);
    }

    #[test]
    fn pathway_rule() {
        assert_eq!(pathway_from_lheo(&["82027"], &[]), Pathway::Apprenticeship);
        assert_eq!(
            pathway_from_lheo(&["80999"], &["Apprentissage"]),
            Pathway::Apprenticeship
        );
        assert_eq!(pathway_from_lheo(&["81061"], &["-"]), Pathway::School);
        assert_eq!(
            pathway_from_lheo(&["80011"], &["Contrat de professionnalisation"]),
            Pathway::Continuing
        );
    }

    fn notes() -> Notes<'static> {
        Notes {
            numero: None,
            known_communes: None,
            list: Vec::new(),
        }
    }

    fn leaf(name: &str, text: &str) -> Node {
        Node {
            name: name.into(),
            line: 7,
            text: text.into(),
            ..Node::default()
        }
    }

    #[test]
    fn dates_with_sentinels_and_partial_values() {
        let mut n = notes();
        let d = |n: &mut Notes, v: &str, start: bool| {
            n.date(Some(&leaf("debut", v)), "f", start)
                .map(|d| d.to_string())
        };
        assert_eq!(d(&mut n, "00000000", true), None);
        assert_eq!(d(&mut n, "99999999", false), None);
        assert_eq!(d(&mut n, "20250901", true).as_deref(), Some("2025-09-01"));
        assert_eq!(d(&mut n, "20250900", true).as_deref(), Some("2025-09-01"));
        assert_eq!(d(&mut n, "20240200", false).as_deref(), Some("2024-02-29"));
        assert_eq!(d(&mut n, "20250000", false).as_deref(), Some("2025-12-31"));
        assert!(n.list.is_empty());
        assert_eq!(d(&mut n, "20251332", true), None);
        assert_eq!(d(&mut n, "2025-09-01", true), None);
        assert_eq!(n.list.len(), 2);
        assert_eq!(n.list[0].line, 7);
    }
}
