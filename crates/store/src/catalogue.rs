//! The catalogue's data: formations, their sessions, métiers and
//! data-quality notes. Writes take an open transaction so that an import
//! can be all-or-nothing (set-based writes of many formations are in
//! `bulk`); reads take the pool.

use domain::network::{FormationInput, SessionInput};
use domain::visibility::FORMATION_PUBLIC_SQL;

use crate::network::trimmed;
use crate::rows::*;
use crate::{on_pool, on_tx, Result, Store, Tx, Upsert};

/// Which formations a listing may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Published formations of published providers only.
    Public,
    /// Everything of the campus (staff).
    All,
}

const FORMATION_SELECT: &str = "SELECT f.id, f.campus_id, f.external_key, f.title, f.certification_code, \
    ce.label AS certification_label, f.level, f.pathway, f.modality, f.provider_id, \
    m.name AS provider_name, m.siret AS provider_siret, m.status AS provider_status, f.site_code_insee, \
    c.name AS site_name, c.postcodes AS site_postcode, c.departement_code, f.capacity, f.duration_hours, \
    f.description, f.status, f.invented \
    FROM formations f JOIN members m ON m.id = f.provider_id \
    LEFT JOIN communes c ON c.code_insee = f.site_code_insee \
    LEFT JOIN certifications ce ON ce.code = f.certification_code";

/// A session as stored: start, end, places.
pub(crate) type SessionTuple = (String, Option<String>, Option<i64>);

pub(crate) type FormationTuple = (
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    bool,
);

pub(crate) fn formation_tuple(f: &FormationInput) -> FormationTuple {
    (
        f.title.trim().to_owned(),
        f.certification_code,
        f.level.map(|l| i64::from(l.get())),
        f.pathway.code().to_owned(),
        f.modality.code().to_owned(),
        f.provider_id,
        trimmed(&f.site_code_insee),
        f.capacity,
        f.duration_hours,
        trimmed(&f.description),
        f.status.code().to_owned(),
        f.invented,
    )
}

impl Tx {
    /// Creates or updates a formation keyed on (campus, external key), with
    /// its ROME links, sessions and data-quality notes; reports `Unchanged`
    /// when nothing differs, so that a re-import writes nothing. `None` for
    /// sessions or notes keeps the stored ones (a spreadsheet has none).
    /// One row of [`Tx::upsert_formations`].
    pub async fn upsert_formation(
        &mut self,
        campus_id: i64,
        key: &str,
        f: &FormationInput,
        rome: &[(String, bool)],
        sessions: Option<&[SessionInput]>,
        notes: Option<&[(String, String)]>,
    ) -> Result<Upsert> {
        let row = crate::FormationWrite {
            key: key.to_owned(),
            input: f,
            rome: rome.to_vec(),
            sessions: sessions.map(<[_]>::to_vec),
            notes: notes.map(<[_]>::to_vec),
        };
        let out = self
            .upsert_formations(campus_id, std::slice::from_ref(&row))
            .await?;
        Ok(out[0])
    }

    /// ROME codes a certification leads to, as ROME 4.0 fiches: the Certif
    /// Info v3 codes meet ROME 4.0 through the fiche with the same code.
    pub async fn certification_romes(&mut self, code: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_tx!(self, |c| {
            sqlx::query_as(
                "SELECT cr.code_rome FROM certification_romes cr JOIN occupations o ON o.code_rome = cr.code_rome \
                 WHERE cr.certification_code = $1 ORDER BY cr.code_rome",
            )
            .bind(code)
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

impl Store {
    /// One formation by id.
    pub async fn formation(&self, id: i64) -> Result<Option<FormationRow>> {
        let sql = format!("{FORMATION_SELECT} WHERE f.id = $1");
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(id).fetch_optional(p).await?
        }))
    }

    /// Formations by ids, in the order given (search results).
    pub async fn formations_by_ids(&self, ids: &[i64]) -> Result<Vec<FormationRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb_sql = format!("{FORMATION_SELECT} WHERE f.id IN (");
        for i in 0..ids.len() {
            if i > 0 {
                qb_sql.push_str(", ");
            }
            qb_sql.push_str(&format!("${}", i + 1));
        }
        qb_sql.push(')');
        let rows: Vec<FormationRow> = on_pool!(self, |p| {
            let mut q = sqlx::query_as(&qb_sql);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await?
        });
        let mut ordered = Vec::with_capacity(rows.len());
        for id in ids {
            if let Some(r) = rows.iter().find(|r| r.id == *id) {
                ordered.push(r.clone());
            }
        }
        Ok(ordered)
    }

    /// Formations of a campus, optionally only public ones, optionally of
    /// one provider.
    pub async fn formations(
        &self,
        campus_id: i64,
        visibility: Visibility,
        provider_id: Option<i64>,
    ) -> Result<Vec<FormationRow>> {
        let sql = format!(
            "{FORMATION_SELECT} WHERE f.campus_id = $1 AND ($2 = FALSE OR {FORMATION_PUBLIC_SQL}) \
             AND ($3 = 0 OR f.provider_id = $3) ORDER BY f.title, f.id"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql)
                .bind(campus_id)
                .bind(visibility == Visibility::Public)
                .bind(provider_id.unwrap_or(0))
                .fetch_all(p)
                .await?
        }))
    }

    /// Every formation (for the search index), in id order, by pages.
    pub async fn all_formations(&self, after_id: i64, limit: i64) -> Result<Vec<FormationRow>> {
        let sql = format!("{FORMATION_SELECT} WHERE f.id > $1 ORDER BY f.id LIMIT $2");
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql)
                .bind(after_id)
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }

    /// Sessions of a formation, by start date.
    pub async fn sessions(&self, formation_id: i64) -> Result<Vec<SessionRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, formation_id, starts_on, ends_on, places FROM sessions WHERE formation_id = $1 ORDER BY starts_on",
            )
            .bind(formation_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// ROME fiches linked to a formation.
    pub async fn formation_romes(&self, formation_id: i64) -> Result<Vec<OccupationRef>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT fr.code_rome, COALESCE(o.label, fr.code_rome) AS label FROM formation_romes fr \
                 LEFT JOIN occupations o ON o.code_rome = fr.code_rome WHERE fr.formation_id = $1 ORDER BY fr.code_rome",
            )
            .bind(formation_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// Data-quality notes of a formation (staff only).
    pub async fn formation_notes(&self, formation_id: i64) -> Result<Vec<NoteRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT field, message FROM formation_notes WHERE formation_id = $1 ORDER BY id",
            )
            .bind(formation_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// Public formations leading to a ROME fiche, all campuses.
    pub async fn formations_for_rome(&self, code_rome: &str) -> Result<Vec<FormationRow>> {
        let sql = format!(
            "{FORMATION_SELECT} WHERE {FORMATION_PUBLIC_SQL} AND f.id IN \
             (SELECT formation_id FROM formation_romes WHERE code_rome = $1) ORDER BY f.title LIMIT 100"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(code_rome).fetch_all(p).await?
        }))
    }

    /// Public formations preparing a certification.
    pub async fn formations_for_certification(&self, code: i64) -> Result<Vec<FormationRow>> {
        let sql = format!(
            "{FORMATION_SELECT} WHERE {FORMATION_PUBLIC_SQL} AND f.certification_code = $1 ORDER BY f.title LIMIT 100"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(code).fetch_all(p).await?
        }))
    }

    /// ROME labels of the formations with `after_id < id <= upto_id`,
    /// joined in code order, keyed by formation id (for the search index,
    /// which reads formations by pages of ids).
    pub async fn formation_rome_labels_between(
        &self,
        after_id: i64,
        upto_id: i64,
    ) -> Result<std::collections::HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT fr.formation_id, o.label FROM formation_romes fr JOIN occupations o ON o.code_rome = fr.code_rome \
                 WHERE fr.formation_id > $1 AND fr.formation_id <= $2 ORDER BY fr.formation_id, fr.code_rome",
            )
            .bind(after_id)
            .bind(upto_id)
            .fetch_all(p)
            .await?
        });
        let mut out: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        for (id, label) in rows {
            let e = out.entry(id).or_default();
            if !e.is_empty() {
                e.push(' ');
            }
            e.push_str(&label);
        }
        Ok(out)
    }

    /// ROME codes chosen by hand for a formation (not derived from its
    /// certification): what a spreadsheet's `codes_rome` column holds.
    pub async fn formation_manual_romes(&self, formation_id: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_rome FROM formation_romes WHERE formation_id = $1 AND derived = FALSE ORDER BY code_rome",
            )
            .bind(formation_id)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
