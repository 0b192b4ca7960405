//! Graduate outcomes (InserJeunes) and the BCN tables that place them:
//! each file replaces its own rows in one transaction.

use std::collections::HashMap;

use crate::multirow::bulk_insert;
use crate::{on_pool, on_tx, Result, Store, Tx};

/// One formation's outcomes in one région (InserJeunes), rates in %.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct OutcomeRow {
    pub millesime: String,
    pub region_code: String,
    pub voie: String,
    pub formation_key: String,
    pub cfd: Option<String>,
    pub mefstat11: Option<String>,
    pub label: Option<String>,
    pub rncp_level: Option<i64>,
    pub final_year: Option<i64>,
    pub leavers: Option<i64>,
    pub employed_6m: Option<i64>,
    pub employed_12m: Option<i64>,
    pub further_study: Option<i64>,
    pub rate_employed_6m: Option<f64>,
    pub rate_employed_12m: Option<f64>,
    pub rate_further_study: Option<f64>,
    pub rate_favourable: Option<f64>,
    pub quadrant: Option<String>,
}

/// One establishment's outcomes (InserJeunes, DEPP), rates in %.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct EstablishmentOutcomeRow {
    pub millesime: String,
    pub uai: String,
    pub voie: String,
    pub subset: String,
    pub label: String,
    pub region_name: String,
    pub rate_further_study: Option<f64>,
    pub rate_employed_6m: Option<f64>,
    pub rate_expected: Option<f64>,
    pub value_added: Option<f64>,
}

/// A BCN formation with its RNCP level.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BcnFormationRow {
    pub cfd: String,
    pub label: String,
    pub rncp_level: Option<i64>,
}

impl Store {
    /// Checksum of a stored outcome source, if any.
    pub async fn outcome_source_checksum(&self, name: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT checksum FROM outcome_sources WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Records an imported outcome file inside its transaction.
    async fn record_outcome_source(
        c: &mut Tx,
        name: &str,
        title: &str,
        checksum: &str,
        rows: usize,
    ) -> Result<()> {
        let now = c.now.clone();
        on_tx!(c, |c| {
            sqlx::query(
                "INSERT INTO outcome_sources (name, title, file, checksum, row_count, imported_at) VALUES ($1, $2, $1, $3, $4, $5) \
                 ON CONFLICT (name) DO UPDATE SET title = excluded.title, checksum = excluded.checksum, \
                 row_count = excluded.row_count, imported_at = excluded.imported_at",
            )
            .bind(name)
            .bind(title)
            .bind(checksum)
            .bind(rows as i64)
            .bind(&now)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Replaces one BCN table: `formations` (cfd, label, short label,
    /// level), `levels` (level, RNCP level) or `mefs` (MEFSTAT11, CFD); the
    /// RNCP level of each formation follows its level.
    /// In its own transaction (see [`Tx::replace_bcn`]).
    pub async fn replace_bcn(
        &self,
        name: &str,
        checksum: &str,
        formations: &[(String, String, String, String)],
        levels: &[(String, Option<i64>)],
        mefs: &[(String, String)],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_bcn(name, checksum, formations, levels, mefs)
            .await?;
        tx.commit().await
    }

    /// MEFSTAT11 → CFD and CFD → (label, RNCP level), for the outcomes import.
    pub async fn bcn_maps(
        &self,
    ) -> Result<(HashMap<String, String>, HashMap<String, BcnFormationRow>)> {
        let mefs: Vec<(String, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT mefstat11, cfd FROM bcn_mefs")
                .fetch_all(p)
                .await?
        });
        let formations: Vec<BcnFormationRow> = on_pool!(self, |p| {
            sqlx::query_as("SELECT cfd, label, rncp_level FROM bcn_formations")
                .fetch_all(p)
                .await?
        });
        Ok((
            mefs.into_iter().collect(),
            formations.into_iter().map(|f| (f.cfd.clone(), f)).collect(),
        ))
    }

    /// Replaces the région outcomes of the millésimes present in `rows`.
    /// In its own transaction (see [`Tx::replace_region_outcomes`]).
    pub async fn replace_region_outcomes(
        &self,
        name: &str,
        checksum: &str,
        rows: &[OutcomeRow],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_region_outcomes(name, checksum, rows).await?;
        tx.commit().await
    }

    /// Replaces the establishment outcomes of the (millésime, voie) pairs in `rows`.
    /// In its own transaction (see [`Tx::replace_establishment_outcomes`]).
    pub async fn replace_establishment_outcomes(
        &self,
        name: &str,
        checksum: &str,
        rows: &[EstablishmentOutcomeRow],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_establishment_outcomes(name, checksum, rows)
            .await?;
        tx.commit().await
    }

    /// Outcomes of the formations with these CFD in a région, latest millésime first.
    pub async fn outcomes_for(
        &self,
        cfds: &[String],
        region_code: &str,
    ) -> Result<Vec<OutcomeRow>> {
        if cfds.is_empty() {
            return Ok(Vec::new());
        }
        Ok(on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT millesime, region_code, voie, formation_key, cfd, mefstat11, label, rncp_level, final_year, leavers, \
                 employed_6m, employed_12m, further_study, rate_employed_6m, rate_employed_12m, rate_further_study, \
                 rate_favourable, quadrant FROM outcomes_region WHERE region_code = ",
            );
            qb.push_bind(region_code);
            qb.push(" AND cfd IN (");
            let mut sep = qb.separated(", ");
            for c in cfds {
                sep.push_bind(c);
            }
            qb.push(") ORDER BY millesime DESC, voie, formation_key");
            qb.build_query_as().fetch_all(p).await?
        }))
    }

    /// Outcomes of establishments by UAI, latest millésime first.
    pub async fn establishment_outcomes(
        &self,
        uais: &[String],
    ) -> Result<Vec<EstablishmentOutcomeRow>> {
        if uais.is_empty() {
            return Ok(Vec::new());
        }
        Ok(on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT millesime, uai, voie, subset, label, region_name, rate_further_study, rate_employed_6m, rate_expected, \
                 value_added FROM outcomes_establishment WHERE uai IN (",
            );
            let mut sep = qb.separated(", ");
            for u in uais {
                sep.push_bind(u);
            }
            qb.push(") ORDER BY millesime DESC, uai, voie, subset");
            qb.build_query_as().fetch_all(p).await?
        }))
    }
}

/// The writes of the outcome imports, inside the caller's transaction.
impl Tx {
    /// Replaces one BCN table: `formations` (cfd, label, short label,
    /// level), `levels` (level, RNCP level) or `mefs` (MEFSTAT11, CFD); the
    /// RNCP level of each formation follows its level.
    pub async fn replace_bcn(
        &mut self,
        name: &str,
        checksum: &str,
        formations: &[(String, String, String, String)],
        levels: &[(String, Option<i64>)],
        mefs: &[(String, String)],
    ) -> Result<()> {
        on_tx!(self, |c| {
            if !formations.is_empty() {
                sqlx::query("DELETE FROM bcn_formations")
                    .execute(&mut *c)
                    .await?;
                bulk_insert!(
                    c,
                    "INSERT INTO bcn_formations (cfd, label, short_label, level_code) ",
                    "",
                    4,
                    formations,
                    |b, r| {
                        b.push_bind(&r.0)
                            .push_bind(&r.1)
                            .push_bind(&r.2)
                            .push_bind(&r.3);
                    }
                );
            }
            if !levels.is_empty() {
                sqlx::query("DELETE FROM bcn_levels")
                    .execute(&mut *c)
                    .await?;
                bulk_insert!(
                    c,
                    "INSERT INTO bcn_levels (level_code, rncp_level) ",
                    "",
                    2,
                    levels,
                    |b, r| {
                        b.push_bind(&r.0).push_bind(r.1);
                    }
                );
            }
            if !mefs.is_empty() {
                sqlx::query("DELETE FROM bcn_mefs").execute(&mut *c).await?;
                bulk_insert!(
                    c,
                    "INSERT INTO bcn_mefs (mefstat11, cfd) ",
                    "",
                    2,
                    mefs,
                    |b, r| {
                        b.push_bind(&r.0).push_bind(&r.1);
                    }
                );
            }
            sqlx::query(
                "UPDATE bcn_formations SET rncp_level = (SELECT l.rncp_level FROM bcn_levels l WHERE l.level_code = bcn_formations.level_code)",
            )
            .execute(&mut *c)
            .await?;
        });
        let rows = formations.len() + levels.len() + mefs.len();
        Store::record_outcome_source(self, name, "nomenclature BCN", checksum, rows).await?;
        Ok(())
    }

    /// Replaces the région outcomes of the millésimes present in `rows`.
    pub async fn replace_region_outcomes(
        &mut self,
        name: &str,
        checksum: &str,
        rows: &[OutcomeRow],
    ) -> Result<()> {
        let mut millesimes: Vec<&str> = rows.iter().map(|r| r.millesime.as_str()).collect();
        millesimes.sort_unstable();
        millesimes.dedup();
        on_tx!(self, |c| {
            for m in &millesimes {
                sqlx::query("DELETE FROM outcomes_region WHERE millesime = $1")
                    .bind(*m)
                    .execute(&mut *c)
                    .await?;
            }
            bulk_insert!(
                c,
                "INSERT INTO outcomes_region (millesime, region_code, voie, formation_key, cfd, mefstat11, label, rncp_level, \
                 final_year, leavers, employed_6m, employed_12m, further_study, rate_employed_6m, rate_employed_12m, \
                 rate_further_study, rate_favourable, quadrant) ",
                "",
                18,
                rows,
                |b, r| {
                    b.push_bind(&r.millesime)
                        .push_bind(&r.region_code)
                        .push_bind(&r.voie)
                        .push_bind(&r.formation_key)
                        .push_bind(&r.cfd)
                        .push_bind(&r.mefstat11)
                        .push_bind(&r.label)
                        .push_bind(r.rncp_level)
                        .push_bind(r.final_year)
                        .push_bind(r.leavers)
                        .push_bind(r.employed_6m)
                        .push_bind(r.employed_12m)
                        .push_bind(r.further_study)
                        .push_bind(r.rate_employed_6m)
                        .push_bind(r.rate_employed_12m)
                        .push_bind(r.rate_further_study)
                        .push_bind(r.rate_favourable)
                        .push_bind(&r.quadrant);
                }
            );
        });
        Store::record_outcome_source(
            self,
            name,
            "InserJeunes par formation et région",
            checksum,
            rows.len(),
        )
        .await?;
        Ok(())
    }

    /// Replaces the establishment outcomes of the (millésime, voie) pairs in `rows`.
    pub async fn replace_establishment_outcomes(
        &mut self,
        name: &str,
        checksum: &str,
        rows: &[EstablishmentOutcomeRow],
    ) -> Result<()> {
        let mut keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.millesime.as_str(), r.voie.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        on_tx!(self, |c| {
            for (m, v) in &keys {
                sqlx::query(
                    "DELETE FROM outcomes_establishment WHERE millesime = $1 AND voie = $2",
                )
                .bind(*m)
                .bind(*v)
                .execute(&mut *c)
                .await?;
            }
            bulk_insert!(
                c,
                "INSERT INTO outcomes_establishment (millesime, uai, voie, subset, label, region_name, rate_further_study, \
                 rate_employed_6m, rate_expected, value_added) ",
                " ON CONFLICT (millesime, uai, voie, subset) DO NOTHING",
                10,
                rows,
                |b, r| {
                    b.push_bind(&r.millesime)
                        .push_bind(&r.uai)
                        .push_bind(&r.voie)
                        .push_bind(&r.subset)
                        .push_bind(&r.label)
                        .push_bind(&r.region_name)
                        .push_bind(r.rate_further_study)
                        .push_bind(r.rate_employed_6m)
                        .push_bind(r.rate_expected)
                        .push_bind(r.value_added);
                }
            );
        });
        Store::record_outcome_source(
            self,
            name,
            "InserJeunes par établissement",
            checksum,
            rows.len(),
        )
        .await?;
        Ok(())
    }
}
