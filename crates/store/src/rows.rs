//! Rows read back for pages, the API and the search index.

use serde::{Deserialize, Serialize};

/// A campus.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CampusRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub sector: String,
    pub theme: Option<String>,
    pub description: Option<String>,
    pub label_start: Option<String>,
    pub label_end: Option<String>,
    pub support_member_id: Option<i64>,
    pub time_zone: String,
    pub website: Option<String>,
}

/// A member organisation with its commune.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct MemberRow {
    pub id: i64,
    pub campus_id: i64,
    pub name: String,
    pub kind: String,
    pub siret: Option<String>,
    pub uai: Option<String>,
    pub code_insee: Option<String>,
    pub commune_name: Option<String>,
    pub departement_code: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
    pub status: String,
    pub invented: bool,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A contact person of a member. Personal data: never on public pages.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContactRow {
    pub id: i64,
    pub member_id: i64,
    pub name: String,
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub invented: bool,
}

/// A formation with the names of its provider, site and certification.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct FormationRow {
    pub id: i64,
    pub campus_id: i64,
    pub external_key: String,
    pub title: String,
    pub certification_code: Option<i64>,
    pub certification_label: Option<String>,
    pub level: Option<i64>,
    pub pathway: String,
    pub modality: String,
    pub provider_id: i64,
    pub provider_name: String,
    pub provider_siret: Option<String>,
    pub provider_status: String,
    pub site_code_insee: Option<String>,
    pub site_name: Option<String>,
    pub site_postcode: Option<String>,
    pub departement_code: Option<String>,
    pub capacity: Option<i64>,
    pub duration_hours: Option<i64>,
    pub description: Option<String>,
    pub status: String,
    pub invented: bool,
}

/// A session of a formation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub formation_id: i64,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub places: Option<i64>,
}

/// A data-quality note left on a formation by an import.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NoteRow {
    pub field: String,
    pub message: String,
}

/// A ROME fiche with its domain labels.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct OccupationRow {
    pub code_rome: String,
    pub label: String,
    pub code_rome_parent: String,
    pub emploi_reglemente: bool,
    pub emploi_cadre: bool,
    pub definition: Option<String>,
    pub access: Option<String>,
    pub domaine_label: Option<String>,
    pub grand_domaine_label: Option<String>,
}

/// A short reference to a ROME fiche.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OccupationRef {
    pub code_rome: String,
    pub label: String,
}

/// An appellation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TitleRow {
    pub code_ogr: i64,
    pub code_rome: String,
    pub label: String,
}

/// A compétence or savoir of a fiche.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SkillRow {
    pub code_ogr: i64,
    pub kind: String,
    pub label: String,
    pub category: Option<String>,
    pub core: bool,
}

/// A mobility target.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MobilityRow {
    pub target_code_rome: String,
    pub label: String,
    pub rank: i64,
}

/// A Certif Info certification.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CertificationRow {
    pub code: i64,
    pub label: String,
    pub type_label: Option<String>,
    pub level: Option<i64>,
    pub formacode: Option<String>,
    pub formacode_label: Option<String>,
    pub nsf: Option<String>,
    pub code_rncp: Option<String>,
    pub code_rs: Option<String>,
    /// Code formation diplôme (BCN), the key of InserJeunes.
    pub cfd: Option<String>,
    pub certifier: Option<String>,
    pub active: bool,
    pub updated_on: Option<String>,
}

/// An RNCP fiche.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RncpFicheRow {
    pub code_rncp: String,
    pub label: String,
    pub active: bool,
    pub level: Option<i64>,
    pub type_label: Option<String>,
    pub valid_until: Option<String>,
}

/// A bloc de compétences.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BlocRow {
    pub code_bloc: String,
    pub label: String,
}

/// Provenance of a stored data set.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DatasetRow {
    pub name: String,
    pub title: String,
    pub version: String,
    pub published_on: String,
    pub source: String,
    pub licence: String,
    pub row_count: i64,
    pub imported_at: String,
    pub issue_count: i64,
}

/// A commune.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CommuneRow {
    pub code_insee: String,
    pub name: String,
    pub departement_code: String,
    pub region_code: String,
    pub employment_area_code: Option<String>,
    pub postcodes: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub population: Option<i64>,
}

/// A département.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DepartementRow {
    pub code: String,
    pub name: String,
    pub region_code: String,
}
