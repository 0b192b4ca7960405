//! What an LHÉO import produces: the offers a campus needs, the offers that
//! were rejected, the data-quality notes, and the refusal of a whole file.

use std::fmt;

use domain::network::chrono_free::Date;
use domain::{CodeRome, Level, Modality, Pathway};
use serde::Serialize;

/// The LHÉO dialects the importer reads, told apart by the root element and
/// its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LheoFormat {
    /// `<lheo xmlns="http://www.lheo.org/1.3.0">`: `offre-formation` made of
    /// `action-formation`, `organisation-formation` and `organismes`.
    V1_3,
    /// `<lheo xmlns="http://www.lheo.org/2.2">`: `formation` / `action` /
    /// `session`, the shape 2.3 kept.
    V2_2,
    /// `<lheo xmlns="http://lheo.gouv.fr/2.3">`, the current schema.
    V2_3,
    /// Offer summaries: `<lheo-leger>` (LHÉO 1.x, usually without namespace)
    /// or `<lheo-index>` (2.x), one `resume-offre` per offer.
    Leger,
}

impl LheoFormat {
    /// Namespace of the `lheo` root for the full formats; `None` for the
    /// summaries, whose namespace is not fixed.
    pub fn namespace(self) -> Option<&'static str> {
        match self {
            LheoFormat::V1_3 => Some(super::NS_1_3),
            LheoFormat::V2_2 => Some(super::NS_2_2),
            LheoFormat::V2_3 => Some(super::NS_2_3),
            LheoFormat::Leger => None,
        }
    }

    /// Short French label for reports.
    pub fn label(self) -> &'static str {
        match self {
            LheoFormat::V1_3 => "LHÉO 1.3",
            LheoFormat::V2_2 => "LHÉO 2.2",
            LheoFormat::V2_3 => "LHÉO 2.3",
            LheoFormat::Leger => "LHÉO léger (résumés d'offres)",
        }
    }
}

impl fmt::Display for LheoFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A structural problem: where (1-based line of the file) and what, in
/// French because it is shown to the person who sent the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Line of the element (or of the syntax error) concerned.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ligne {} : {}", self.line, self.message)
    }
}

/// The whole file is refused: it is not well-formed XML, is not LHÉO, or
/// (unless [`ParseOptions::skip_invalid`] is set) one of its offers breaks
/// the schema. Every problem found is listed, in file order, so that the
/// sender can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LheoRefused {
    /// Every problem found, sorted by line.
    pub problems: Vec<Problem>,
}

impl fmt::Display for LheoRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fichier LHÉO refusé ({} problème(s))",
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "\n- {p}")?;
        }
        Ok(())
    }
}

/// An offer left out in [`ParseOptions::skip_invalid`] mode because its
/// structure breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Line where the offer element starts.
    pub line: u64,
    /// The offer's `numero`, when it has one, to find it in the sender's system.
    pub numero: Option<String>,
    /// Every structural problem of the offer, each with its own line.
    pub reasons: Vec<Problem>,
}

/// A data-quality issue in an offer that is kept: the value is doubtful or
/// missing but the offer is still usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityNote {
    /// Line of the element holding the doubtful value (or of its parent when
    /// the value is missing).
    pub line: u64,
    /// The offer's `numero`, when it has one.
    pub numero: Option<String>,
    /// LHÉO path of the field, e.g. `organisme-formation-responsable/SIRET`.
    pub field: String,
    /// What is doubtful, in French.
    pub message: String,
}

/// How to read a file.
#[derive(Clone, Copy, Default)]
pub struct ParseOptions<'a> {
    /// When true, an offer whose structure breaks the schema is rejected on
    /// its own (listed in [`LheoImport::rejected`]) and the valid ones are
    /// kept. When false (the default), such an offer refuses the whole file.
    /// A file that is not well-formed XML, is not LHÉO, or has a problem
    /// outside any offer (an unknown element between the offers, no offer at
    /// all) is always refused.
    pub skip_invalid: bool,
    /// Tells whether an INSEE commune code exists in the current official
    /// geographic code. A code it rejects is reported as unknown or outdated
    /// (merged communes keep circulating in old files). `None` checks only
    /// the shape of the code. A `HashSet<String>` fits as
    /// `&|c: &str| set.contains(c)`.
    pub known_communes: Option<&'a dyn Fn(&str) -> bool>,
}

impl fmt::Debug for ParseOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseOptions")
            .field("skip_invalid", &self.skip_invalid)
            .field("known_communes", &self.known_communes.is_some())
            .finish()
    }
}

/// Result of reading a file that was not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LheoImport {
    /// Dialect of the file.
    pub format: LheoFormat,
    /// Offers kept, in file order.
    pub offers: Vec<LheoOffer>,
    /// Offers left out (only in `skip_invalid` mode).
    pub rejected: Vec<Rejection>,
    /// Data-quality notes on the kept offers, in file order.
    pub quality: Vec<QualityNote>,
}

/// One certification an offer prepares for. At least one code is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LheoCertification {
    /// `code-RNCP`, as given (usually the bare number, `474`).
    pub rncp: Option<String>,
    /// `code-CERTIFINFO`.
    pub certifinfo: Option<String>,
}

/// A postal location: a training site, or the provider's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LheoAddress {
    /// `code-INSEE-commune`, as given (its validity is a quality note).
    pub code_insee: Option<String>,
    /// `codepostal`.
    pub postcode: Option<String>,
    /// `ville`.
    pub city: Option<String>,
}

impl LheoAddress {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.code_insee.is_none() && self.postcode.is_none() && self.city.is_none()
    }
}

/// The training body responsible for the offer (`organisme-formation-responsable`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LheoProvider {
    /// SIRET as given, spaces removed (its Luhn key is a quality note).
    pub siret: Option<String>,
    /// Usual name (`nom-organisme`, or `raison-sociale` when the name is missing).
    pub name: String,
    /// Legal name (`raison-sociale`), when given.
    pub raison_sociale: Option<String>,
    /// UAI of the establishment (`code-UAI-organisme-formation`, LHÉO 2.3).
    pub uai: Option<String>,
    /// Address from `coordonnees-organisme`.
    pub address: LheoAddress,
    /// First `urlweb` of `coordonnees-organisme`.
    pub website: Option<String>,
}

/// One session of an action: its dates and, when given, its places.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LheoSession {
    /// `session@numero`.
    pub numero: Option<String>,
    /// `periode/debut`; `None` for the LHÉO sentinel `00000000` (unknown)
    /// or an invalid date (then a quality note says so). A partial date
    /// (`20250900`, day unknown) gives the first day of the month.
    pub start: Option<Date>,
    /// `periode/fin`; `None` for the sentinel `99999999` (open-ended) or an
    /// invalid date. A partial date gives the last day of the month (or year).
    pub end: Option<Date>,
    /// Places: `recrutement/nb-places`, `cycle/capacite-simultanee` or the
    /// `extra info="nb-places"` Passerelle writes on export.
    pub places: Option<u32>,
}

/// One action: where, how and when an offer is delivered. LHÉO 1.3 and
/// summaries have a single implicit action per offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LheoAction {
    /// Line where the action starts (the offer's line for 1.3 and summaries).
    pub line: u64,
    /// `action@numero`.
    pub numero: Option<String>,
    /// `modalites-enseignement` (2.x) or `FOAD` (1.3, summaries): 0 →
    /// présentiel, 1 → hybride (« formation mixte »), 2 → distanciel.
    pub modality: Option<Modality>,
    /// Voie, decided from the public and the alternance fields; see
    /// [`super::pathway_from_lheo`] for the rule.
    pub pathway: Pathway,
    /// Training sites (`lieu-de-formation`), possibly several.
    pub sites: Vec<LheoAddress>,
    /// `duree-indicative`, free text (« 2 ans », « 9 mois »).
    pub duree_indicative: Option<String>,
    /// `nombre-heures-total`, in hours.
    pub nombre_heures_total: Option<u32>,
    /// Sessions, in file order.
    pub sessions: Vec<LheoSession>,
}

impl LheoAction {
    /// True when the action is delivered under an apprenticeship contract.
    pub fn is_apprenticeship(&self) -> bool {
        self.pathway == Pathway::Apprenticeship
    }

    /// Largest number of places over the sessions: sessions of one action
    /// repeat the same group, so the maximum is the action's capacity.
    pub fn capacity(&self) -> Option<u32> {
        self.sessions.iter().filter_map(|s| s.places).max()
    }
}

/// One training offer as a campus needs it, whatever the LHÉO dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LheoOffer {
    /// Line where the offer element starts.
    pub line: u64,
    /// Producer's identifier: `numero` attribute of the offer element, or a
    /// `<numero>` child (for 1.3, also `action-formation@numero`).
    pub numero: Option<String>,
    /// `intitule-formation` (2.x) or `intitule-action` (1.3), never empty.
    pub intitule: String,
    /// `objectif-formation`.
    pub objectif: Option<String>,
    /// `resultats-attendus`.
    pub resultats_attendus: Option<String>,
    /// `contenu-formation`.
    pub contenu: Option<String>,
    /// `certifiante` (2.x) or `diplomante` (1.3).
    pub certifiante: Option<bool>,
    /// Certifications prepared (RNCP, Certif Info codes).
    pub certifications: Vec<LheoCertification>,
    /// Formacodes of `domaine-formation`.
    pub formacodes: Vec<String>,
    /// NSF codes of `domaine-formation`.
    pub nsf_codes: Vec<String>,
    /// ROME codes that are valid ROME 3/4 codes.
    pub rome_codes: Vec<CodeRome>,
    /// ROME codes that are not (ROME v2 five-digit codes of old files, typos);
    /// kept for traceability, each has a quality note.
    pub invalid_rome_codes: Vec<String>,
    /// Entry level (`code-niveau-entree`), mapped to the European scale;
    /// see [`super::level_from_lheo`].
    pub niveau_entree: Option<Level>,
    /// Exit level (`code-niveau-sortie`), mapped the same way.
    pub niveau_sortie: Option<Level>,
    /// `url-formation/urlweb` (2.x) or the summary's `file` attribute.
    pub url: Option<String>,
    /// Responsible training body.
    pub provider: LheoProvider,
    /// Actions (at least one).
    pub actions: Vec<LheoAction>,
}

impl LheoOffer {
    /// Idempotence key: the same offer read again gives the same key, so
    /// that re-importing a file updates instead of duplicating.
    ///
    /// It is the producer's `numero` when there is one: that is the
    /// identifier the producer keeps across exports (unique within one
    /// producer's feed; the caller scopes it by source or provider).
    ///
    /// Offers without a numero (summaries, hand-made files) get a content
    /// key, `content:` followed by 16 hex digits of an FNV-1a 64 hash of the
    /// folded title (case, accents and punctuation ignored), the provider's
    /// SIRET, the first certification code (Certif Info, else RNCP) and the
    /// first site's commune (INSEE code, else postcode). These fields
    /// identify an offer for a campus; texts, durations and sessions are
    /// left out on purpose, because a new session year or a reworded
    /// objective is the same offer updated, not a new one. Two offers equal
    /// on all four fields cannot be told apart and share a key.
    pub fn key(&self) -> String {
        if let Some(n) = &self.numero {
            return n.clone();
        }
        let certif = self
            .certifications
            .iter()
            .find_map(|c| c.certifinfo.as_deref().or(c.rncp.as_deref()));
        let site = self.actions.iter().flat_map(|a| &a.sites).next();
        let commune = site.and_then(|s| s.code_insee.as_deref().or(s.postcode.as_deref()));
        content_key(
            &self.intitule,
            self.provider.siret.as_deref(),
            certif,
            commune,
        )
    }
}

/// Builds the content key documented on [`LheoOffer::key`].
pub(crate) fn content_key(
    intitule: &str,
    siret: Option<&str>,
    certification: Option<&str>,
    commune: Option<&str>,
) -> String {
    let siret: String = siret
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    // The unit separator cannot occur in the folded parts, so two different
    // splits of the same characters cannot collide.
    let material = [
        domain::text::fold(intitule),
        siret,
        certification.unwrap_or("").trim().to_owned(),
        commune.unwrap_or("").trim().to_ascii_uppercase(),
    ]
    .join("\u{1f}");
    format!("content:{:016x}", fnv1a_64(material.as_bytes()))
}

/// FNV-1a, 64 bits: tiny, stable across versions and platforms (unlike the
/// standard library's hasher), which is what a stored key needs.
pub(crate) fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn content_key_ignores_case_accents_and_spaces() {
        let a = content_key(
            "BTS Négociation",
            Some("192 900 769 00014"),
            Some("19004"),
            Some("29233"),
        );
        let b = content_key(
            "bts  negociation",
            Some("19290076900014"),
            Some(" 19004"),
            Some("29233"),
        );
        assert_eq!(a, b);
        assert!(a.starts_with("content:") && a.len() == "content:".len() + 16);
        let c = content_key(
            "BTS Négociation",
            Some("19290076900014"),
            Some("19004"),
            Some("29234"),
        );
        assert_ne!(a, c);
    }
}
