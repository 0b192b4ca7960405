//! Published tension indicators and their crosswalks (bassins' communes,
//! FAP → ROME): each file replaces its own rows in one transaction.

use std::collections::HashMap;

use domain::tension::TensionValue;

use crate::multirow::bulk_insert;
use crate::{on_pool, on_tx, Result, Store, Tx};

/// A stored tension source (one imported file).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct TensionSourceRow {
    pub name: String,
    pub title: String,
    pub file: String,
    pub row_count: i64,
    pub imported_at: String,
}

/// One stored indicator value.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct TensionValueRow {
    pub source: String,
    pub code_rome: String,
    pub territory_type: String,
    pub territory_code: String,
    pub period: String,
    pub indicator: String,
    pub value: Option<f64>,
    pub level: Option<i64>,
}

impl Store {
    /// Replaces the commune → bassin d'emploi table.
    /// In its own transaction (see [`Tx::replace_basin_communes`]).
    pub async fn replace_basin_communes(&self, rows: &[(String, String)]) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_basin_communes(rows).await?;
        tx.commit().await
    }

    /// Replaces the FAP → ROME table.
    /// In its own transaction (see [`Tx::replace_fap_romes`]).
    pub async fn replace_fap_romes(&self, rows: &[(String, String)]) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_fap_romes(rows).await?;
        tx.commit().await
    }

    /// FAP code → its ROME fiches.
    pub async fn fap_romes(&self) -> Result<HashMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT fap_code, code_rome FROM fap_romes ORDER BY fap_code, code_rome")
                .fetch_all(p)
                .await?
        });
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (f, r) in rows {
            out.entry(f).or_default().push(r);
        }
        Ok(out)
    }

    /// The bassins d'emploi that hold at least one of `communes`.
    pub async fn basins_of(&self, communes: &[String]) -> Result<Vec<String>> {
        let mut out: Vec<String> = self
            .commune_basins(communes)
            .await?
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The bassin d'emploi of each of `communes` that has one.
    pub async fn commune_basins(&self, communes: &[String]) -> Result<Vec<(String, String)>> {
        if communes.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for chunk in communes.chunks(5000) {
            let rows: Vec<(String, String)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT code_insee, basin_code FROM basin_communes WHERE code_insee IN (",
                );
                let mut sep = qb.separated(", ");
                for c in chunk {
                    sep.push_bind(c);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            out.extend(rows);
        }
        out.sort();
        Ok(out)
    }

    /// Checksum of a stored tension source, if any.
    pub async fn tension_source_checksum(&self, name: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT checksum FROM tension_sources WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Replaces the values of one source in one transaction.
    /// In its own transaction (see [`Tx::replace_tension_source`]).
    pub async fn replace_tension_source(
        &self,
        name: &str,
        title: &str,
        file: &str,
        checksum: &str,
        rows: &[TensionValue],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_tension_source(name, title, file, checksum, rows)
            .await?;
        tx.commit().await
    }

    /// The imported tension sources.
    pub async fn tension_sources(&self) -> Result<Vec<TensionSourceRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT name, title, file, row_count, imported_at FROM tension_sources ORDER BY name",
            )
            .fetch_all(p)
            .await?
        }))
    }

    /// Every value for the given territories (`(type, code)` pairs), plus
    /// the national ones.
    pub async fn tension_values_in(
        &self,
        places: &[(String, String)],
    ) -> Result<Vec<TensionValueRow>> {
        let mut out: Vec<TensionValueRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT source, code_rome, territory_type, territory_code, period, indicator, value, level \
                 FROM tension_values WHERE territory_type = 'national'",
            )
            .fetch_all(p)
            .await?
        });
        for chunk in places.chunks(2000) {
            let rows: Vec<TensionValueRow> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT source, code_rome, territory_type, territory_code, period, indicator, value, level \
                     FROM tension_values WHERE (territory_type, territory_code) IN (",
                );
                let mut sep = qb.separated(", ");
                for (t, c) in chunk {
                    sep.push("(");
                    sep.push_bind_unseparated(t);
                    sep.push_unseparated(", ");
                    sep.push_bind_unseparated(c);
                    sep.push_unseparated(")");
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}

/// The writes of the tension and outcome imports, inside the caller's
/// transaction, so that the import's audit entry commits with them.
impl Tx {
    /// Replaces the commune → bassin d'emploi table.
    pub async fn replace_basin_communes(&mut self, rows: &[(String, String)]) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM basin_communes")
                .execute(&mut *c)
                .await?;
            bulk_insert!(
                c,
                "INSERT INTO basin_communes (code_insee, basin_code) ",
                "",
                2,
                rows,
                |b, r| {
                    b.push_bind(&r.0).push_bind(&r.1);
                }
            );
        });
        Ok(())
    }

    /// Replaces the FAP → ROME table.
    pub async fn replace_fap_romes(&mut self, rows: &[(String, String)]) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM fap_romes")
                .execute(&mut *c)
                .await?;
            bulk_insert!(
                c,
                "INSERT INTO fap_romes (fap_code, code_rome) ",
                "",
                2,
                rows,
                |b, r| {
                    b.push_bind(&r.0).push_bind(&r.1);
                }
            );
        });
        Ok(())
    }

    /// Replaces the values of one source in one transaction.
    pub async fn replace_tension_source(
        &mut self,
        name: &str,
        title: &str,
        file: &str,
        checksum: &str,
        rows: &[TensionValue],
    ) -> Result<()> {
        let now = self.now.clone();
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM tension_values WHERE source = $1")
                .bind(name)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO tension_sources (name, title, file, checksum, row_count, imported_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET title = excluded.title, \
                 file = excluded.file, checksum = excluded.checksum, row_count = excluded.row_count, \
                 imported_at = excluded.imported_at",
            )
            .bind(name)
            .bind(title)
            .bind(file)
            .bind(checksum)
            .bind(rows.len() as i64)
            .bind(&now)
            .execute(&mut *c)
            .await?;
            bulk_insert!(
                c,
                "INSERT INTO tension_values (source, code_rome, territory_type, territory_code, period, indicator, value, level) ",
                "",
                8,
                rows,
                |b, r| {
                    b.push_bind(name)
                        .push_bind(&r.code_rome)
                        .push_bind(&r.territory_type)
                        .push_bind(&r.territory_code)
                        .push_bind(&r.period)
                        .push_bind(&r.indicator)
                        .push_bind(r.value)
                        .push_bind(r.level);
                }
            );
        });
        Ok(())
    }
}
