//! Observatory data: published tension indicators and their crosswalks
//! (`tension`), job postings and their aggregates (`postings`), and what a
//! view reads of the campus' perimeter. Each imported file is written in one
//! transaction; aggregates are rebuilt in the same one.

mod postings;
mod tension;

pub use postings::*;
pub use tension::*;

use crate::{on_pool, Result, Store};

/// A commune of a campus' perimeter with the areas it belongs to.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct PerimeterCommune {
    pub code_insee: String,
    pub employment_area_code: Option<String>,
    pub departement_code: String,
    pub region_code: String,
}

impl Store {
    /// The communes of a campus' perimeter: those of its départements and
    /// zones d'emploi, and the communes it names.
    pub async fn perimeter_communes(&self, campus_id: i64) -> Result<Vec<PerimeterCommune>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT c.code_insee, c.employment_area_code, c.departement_code, c.region_code FROM communes c \
                 WHERE EXISTS (SELECT 1 FROM campus_territories t WHERE t.campus_id = $1 AND ( \
                   (t.kind = 'departement' AND t.code = c.departement_code) OR \
                   (t.kind = 'zone_emploi' AND t.code = c.employment_area_code) OR \
                   (t.kind = 'commune' AND t.code = c.code_insee))) \
                 ORDER BY c.code_insee",
            )
            .bind(campus_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// Label of every ROME fiche and its v3 parent code.
    pub async fn rome_parents(&self) -> Result<Vec<(String, String, String)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_rome, code_rome_parent, label FROM occupations ORDER BY code_rome",
            )
            .fetch_all(p)
            .await?
        }))
    }
}

impl Store {
    /// A version of the campus data: the last audit-log entry and the last
    /// change-log entry. Every write an observatory view depends on moves
    /// one of them.
    pub async fn data_version(&self) -> Result<(i64, i64)> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM audit_log), (SELECT COALESCE(MAX(seq), 0) FROM change_log)",
            )
            .fetch_one(p)
            .await?
        }))
    }
}
