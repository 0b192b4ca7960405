//! Rows of the reference data sets (territories, ROME 4.0, certifications),
//! as parsed by `ingest` and stored by `store`. Plain data, no behaviour.

use serde::Serialize;

/// A région (code officiel géographique, 2 characters, `03` = Guyane).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub code: String,
    pub name: String,
}

/// An académie (rectorat district).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Academie {
    pub code: String,
    pub name: String,
    pub region_code: String,
}

/// A département, overseas ones included (`973`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Departement {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub academie_code: Option<String>,
}

/// A zone d'emploi 2020 (INSEE), 4 characters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmploymentArea {
    pub code: String,
    pub name: String,
}

/// A commune of the current COG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commune {
    pub code_insee: String,
    pub name: String,
    pub departement_code: String,
    pub region_code: String,
    pub employment_area_code: Option<String>,
    /// Postcodes, several for large communes.
    pub postcodes: Vec<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub population: Option<i64>,
}

/// A ROME 4.0 grand domaine (one letter).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrandDomaine {
    pub code: String,
    pub label: String,
}

/// A ROME 4.0 domaine professionnel (letter + 2 digits).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomaineProfessionnel {
    pub code: String,
    pub label: String,
}

/// A ROME 4.0 fiche métier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occupation {
    pub code_rome: String,
    pub code_ogr: i64,
    pub label: String,
    /// The ROME v3 code this fiche descends from; equal to `code_rome` for
    /// parent fiches.
    pub code_rome_parent: String,
    pub emploi_reglemente: bool,
    pub emploi_cadre: bool,
    /// Free-text sections (définition, accès) when the data set has them.
    pub definition: Option<String>,
    pub access: Option<String>,
}

/// An appellation (job title) of a fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupationTitle {
    pub code_ogr: i64,
    pub code_rome: String,
    pub label: String,
    pub label_short: String,
}

/// Whether a ROME item is a compétence (savoir-faire, savoir-être) or a savoir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SkillKind {
    Competence,
    Savoir,
}

impl SkillKind {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            SkillKind::Competence => "competence",
            SkillKind::Savoir => "savoir",
        }
    }
}

/// A ROME compétence or savoir.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skill {
    pub code_ogr: i64,
    pub kind: SkillKind,
    pub label: String,
    pub category: Option<String>,
}

/// Link between a fiche and a compétence or savoir.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupationSkill {
    pub code_rome: String,
    pub code_ogr: i64,
    pub core: bool,
}

/// A professional mobility from one fiche to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mobility {
    pub code_rome: String,
    pub target_code_rome: String,
    pub rank: i64,
}

/// A centre d'intérêt (used by orientation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterestCentre {
    pub code: i64,
    pub label: String,
    pub definition: Option<String>,
}

/// Link between a centre d'intérêt and a fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupationInterest {
    pub interest_code: i64,
    pub code_rome: String,
    pub principal: bool,
}

/// A certification from Certif Info, the bridge to Formacode, NSF, level,
/// ROME and RNCP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certification {
    pub code: i64,
    pub label: String,
    pub type_label: Option<String>,
    pub level: Option<i64>,
    pub formacode: Option<String>,
    pub formacode_label: Option<String>,
    pub nsf: Option<String>,
    pub code_rncp: Option<String>,
    pub code_rs: Option<String>,
    /// Code formation diplôme of the Éducation nationale (BCN), which
    /// InserJeunes uses.
    pub cfd: Option<String>,
    pub certifier: Option<String>,
    pub active: bool,
    pub updated_on: Option<String>,
}

/// A ROME link of a Certif Info certification (ROME v3 code).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificationRome {
    pub certification_code: i64,
    pub code_rome: String,
}

/// An RNCP fiche (`RNCP34001`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RncpFiche {
    pub code_rncp: String,
    pub label: String,
    pub active: bool,
    pub level: Option<i64>,
    pub type_code: Option<String>,
    pub type_label: Option<String>,
    pub valid_until: Option<String>,
}

/// A ROME link of an RNCP fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RncpRome {
    pub code_rncp: String,
    pub code_rome: String,
}

/// An NSF code of an RNCP fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RncpNsf {
    pub code_rncp: String,
    pub nsf_code: String,
    pub label: String,
}

/// A bloc de compétences of an RNCP fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RncpBloc {
    pub code_rncp: String,
    pub code_bloc: String,
    pub label: String,
}

/// A certifier of an RNCP fiche.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RncpCertifier {
    pub code_rncp: String,
    pub name: String,
    pub siret: Option<String>,
}

/// A problem found in a reference file that did not block its import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityIssue {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// Provenance of one data set: what was loaded, from where, which version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetInfo {
    /// Stable name (`territoires`, `rome4`, `certifinfo`, `rncp`).
    pub name: String,
    pub title: String,
    pub version: String,
    pub published_on: String,
    pub source: String,
    pub licence: String,
    /// Hash of the shipped files, so a second import can tell nothing changed.
    pub checksum: String,
}
