//! Observatory data: published tension indicators and their crosswalks, job
//! postings and the aggregates the observatory reads. Each imported file is
//! written in one transaction; aggregates are rebuilt in the same one.

use std::collections::HashMap;

use domain::postings::Posting;
use domain::tension::TensionValue;

use crate::{now_text, on_pool, on_tx, Result, Store, Tx};

/// Ids per look-up statement of a streamed postings import.
const POSTING_CHUNK: usize = 5_000;

/// Inserts rows in multi-row statements (see `multirow`).
macro_rules! bulk_insert {
    ($c:expr, $head:expr, $tail:expr, $ncols:expr, $rows:expr, |$b:ident, $r:ident| $bind:block) => {{
        let mut rows = crate::multirow::Rows::new($head.trim_end(), $ncols, $tail);
        for $r in $rows.iter() {
            let $b = rows.row();
            $bind
        }
        crate::multirow::Bulk::write_rows(&mut *$c, &rows).await?;
    }};
}

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

/// What is known of a stored posting, to classify a re-import.
#[derive(Debug, Clone)]
pub struct PostingKey {
    pub content_hash: String,
    pub fingerprint: String,
    pub duplicate_of: Option<String>,
}

/// A posting to write, placed in its territory.
#[derive(Debug, Clone)]
pub struct PostingWrite<'a> {
    pub posting: &'a Posting,
    /// Commune resolved from the code or the postcode.
    pub code_insee: Option<&'a str>,
    /// Zone d'emploi of the commune, `''` when unknown.
    pub employment_area_code: &'a str,
    /// Département of the commune, `''` when unknown.
    pub departement_code: &'a str,
    /// Id of the first posting with the same fingerprint, if another.
    pub duplicate_of: Option<&'a str>,
}

/// Postings per ROME × zone d'emploi × month.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct PostingDemandRow {
    pub code_rome: String,
    pub employment_area_code: String,
    pub departement_code: String,
    pub month: String,
    pub postings: i64,
    pub positions: i64,
    pub synthetic: i64,
}

/// Postings asking a skill, per ROME × département.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct SkillDemandRow {
    pub code_rome: String,
    pub departement_code: String,
    pub code_ogr: i64,
    pub label: String,
    pub postings: i64,
}

/// Counts of the posting tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PostingTotals {
    pub postings: i64,
    pub duplicates: i64,
    pub synthetic: i64,
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

    /// Id → what is stored of every posting.
    pub async fn posting_keys(&self) -> Result<HashMap<String, PostingKey>> {
        let rows: Vec<(String, String, String, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT id, content_hash, fingerprint, duplicate_of FROM postings")
                .fetch_all(p)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, content_hash, fingerprint, duplicate_of)| {
                (
                    id,
                    PostingKey {
                        content_hash,
                        fingerprint,
                        duplicate_of,
                    },
                )
            })
            .collect())
    }

    /// Totals of the posting table.
    pub async fn posting_totals(&self) -> Result<PostingTotals> {
        let (postings, duplicates, synthetic): (i64, i64, i64) = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN duplicate_of IS NULL THEN 0 ELSE 1 END), 0), \
                 COALESCE(SUM(CASE WHEN synthetic THEN 1 ELSE 0 END), 0) FROM postings",
            )
            .fetch_one(p)
            .await?
        });
        Ok(PostingTotals {
            postings,
            duplicates,
            synthetic,
        })
    }

    /// Postings per ROME × zone d'emploi × month in the given zones
    /// d'emploi or départements.
    pub async fn posting_demand_in(
        &self,
        areas: &[String],
        departements: &[String],
    ) -> Result<Vec<PostingDemandRow>> {
        Ok(on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT code_rome, employment_area_code, departement_code, month, postings, positions, synthetic \
                 FROM posting_demand WHERE employment_area_code IN (",
            );
            let mut sep = qb.separated(", ");
            sep.push_bind("#");
            for a in areas {
                sep.push_bind(a);
            }
            qb.push(") OR departement_code IN (");
            let mut sep = qb.separated(", ");
            sep.push_bind("#");
            for d in departements {
                sep.push_bind(d);
            }
            qb.push(") ORDER BY code_rome, month");
            qb.build_query_as().fetch_all(p).await?
        }))
    }

    /// Skills asked per ROME in the given départements, most asked first.
    pub async fn skill_demand_in(&self, departements: &[String]) -> Result<Vec<SkillDemandRow>> {
        Ok(on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT d.code_rome, d.departement_code, d.code_ogr, COALESCE(s.label, '') AS label, d.postings \
                 FROM posting_skill_demand d LEFT JOIN skills s ON s.code_ogr = d.code_ogr WHERE d.departement_code IN (",
            );
            let mut sep = qb.separated(", ");
            sep.push_bind("#");
            for d in departements {
                sep.push_bind(d);
            }
            qb.push(") ORDER BY d.code_rome, d.postings DESC, d.code_ogr");
            qb.build_query_as().fetch_all(p).await?
        }))
    }

    /// Every compétence and savoir label, for the skills matcher.
    pub async fn skill_labels(&self) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as("SELECT code_ogr, label FROM skills ORDER BY code_ogr")
                .fetch_all(p)
                .await?
        }))
    }

    /// Commune code → (zone d'emploi, département), and postcode → commune.
    pub async fn commune_places(
        &self,
    ) -> Result<(HashMap<String, (String, String)>, HashMap<String, String>)> {
        let rows: Vec<(String, Option<String>, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_insee, employment_area_code, departement_code, postcodes FROM communes ORDER BY code_insee",
            )
            .fetch_all(p)
            .await?
        });
        let mut places = HashMap::with_capacity(rows.len());
        let mut by_postcode = HashMap::new();
        for (code, ze, dep, postcodes) in rows {
            for pc in postcodes.split([' ', ',', ';']).filter(|p| !p.is_empty()) {
                by_postcode
                    .entry(pc.to_owned())
                    .or_insert_with(|| code.clone());
            }
            places.insert(code, (ze.unwrap_or_default(), dep));
        }
        Ok((places, by_postcode))
    }
}

impl Tx {
    /// Rebuilds the posting aggregates from the posting table, duplicates
    /// and postings without a ROME code left out. Postings are counted
    /// under the ROME v3 fiche (`code_rome_parent`) of their ROME 4.0 code,
    /// the unit the tension data and the certifications use.
    pub async fn refresh_posting_aggregates(&mut self) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM posting_demand")
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO posting_demand (code_rome, employment_area_code, departement_code, month, postings, positions, synthetic) \
                 SELECT COALESCE(o.code_rome_parent, p.code_rome), p.employment_area_code, MIN(p.departement_code), \
                 p.month, COUNT(*), SUM(p.positions), SUM(CASE WHEN p.synthetic THEN 1 ELSE 0 END) \
                 FROM postings p LEFT JOIN occupations o ON o.code_rome = p.code_rome \
                 WHERE p.duplicate_of IS NULL AND p.code_rome IS NOT NULL \
                 GROUP BY COALESCE(o.code_rome_parent, p.code_rome), p.employment_area_code, p.month",
            )
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM posting_skill_demand")
                .execute(&mut *c)
                .await?;
            // Skills are a space-separated list per posting: counted here
            // rather than in SQL, which has no portable way to split them.
            // Streamed: a million postings are never held at once, and a
            // group is counted under a packed key (rome, département and
            // skill interned), since there are millions of groups.
            let mut keys = SkillGroupKeys::default();
            let mut counts: HashMap<u64, i64> = HashMap::new();
            {
                use futures_util::TryStreamExt;
                let mut rows = sqlx::query_as::<_, (String, String, String)>(
                    "SELECT COALESCE(o.code_rome_parent, p.code_rome), p.departement_code, p.skills \
                     FROM postings p LEFT JOIN occupations o ON o.code_rome = p.code_rome \
                     WHERE p.duplicate_of IS NULL AND p.code_rome IS NOT NULL AND p.skills <> ''",
                )
                .fetch(&mut *c);
                while let Some((rome, dep, skills)) = rows.try_next().await? {
                    let group = keys.group(rome, dep)?;
                    for s in skills.split(' ').filter_map(|s| s.parse::<i64>().ok()) {
                        *counts.entry(group | keys.skill(s)?).or_default() += 1;
                    }
                }
            }
            let mut counts: Vec<(u64, i64)> = counts.into_iter().collect();
            counts.sort_unstable();
            bulk_insert!(
                c,
                "INSERT INTO posting_skill_demand (code_rome, departement_code, code_ogr, postings) ",
                "",
                4,
                counts,
                |b, r| {
                    let (rome, dep, skill) = keys.unpack(r.0);
                    b.push_bind(rome)
                        .push_bind(dep)
                        .push_bind(skill)
                        .push_bind(r.1);
                }
            );
        });
        Ok(())
    }
}

/// Interned ROME codes, départements and skills of the skills aggregate,
/// packed into one `u64` per group: 20 bits of ROME code, 12 of
/// département, 32 of skill.
#[derive(Default)]
struct SkillGroupKeys {
    romes: Vec<String>,
    rome_ix: HashMap<String, u64>,
    deps: Vec<String>,
    dep_ix: HashMap<String, u64>,
    skills: Vec<i64>,
    skill_ix: HashMap<i64, u64>,
}

fn intern<K: std::hash::Hash + Eq + Clone>(
    list: &mut Vec<K>,
    index: &mut HashMap<K, u64>,
    value: K,
    bits: u32,
) -> Result<u64> {
    if let Some(i) = index.get(&value) {
        return Ok(*i);
    }
    let i = list.len() as u64;
    if i >= 1 << bits {
        return Err(crate::StoreError::Conflict(
            "trop de valeurs distinctes pour l'agrégat des compétences".into(),
        ));
    }
    list.push(value.clone());
    index.insert(value, i);
    Ok(i)
}

impl SkillGroupKeys {
    /// The key of a (ROME, département) pair, skill bits empty.
    fn group(&mut self, rome: String, dep: String) -> Result<u64> {
        let r = intern(&mut self.romes, &mut self.rome_ix, rome, 20)?;
        let d = intern(&mut self.deps, &mut self.dep_ix, dep, 12)?;
        Ok((r << 44) | (d << 32))
    }

    fn skill(&mut self, code: i64) -> Result<u64> {
        intern(&mut self.skills, &mut self.skill_ix, code, 32)
    }

    fn unpack(&self, key: u64) -> (&str, &str, i64) {
        (
            &self.romes[(key >> 44) as usize],
            &self.deps[((key >> 32) & 0xfff) as usize],
            self.skills[(key & 0xffff_ffff) as usize],
        )
    }
}

/// What a postings import did, counted by the database at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PostingImportCounts {
    /// Distinct ids of the file not stored before.
    pub new: i64,
    /// Distinct ids of the file stored before with another content or
    /// another holder.
    pub updated: i64,
    /// Distinct ids of the file stored before, identical.
    pub unchanged: i64,
    /// Postings of the file that repeat an offer held by another id.
    pub duplicates: i64,
    /// Rows written in all (postings and re-linked duplicates): 0 means the
    /// import changed nothing.
    pub rows_written: u64,
}

impl Tx {
    /// Starts a streamed postings import inside this transaction: a
    /// temporary table remembers the file's ids and what was stored of them
    /// before, so that batches can be written as they are parsed and the
    /// import still counts (and deduplicates) over the whole file.
    pub async fn begin_postings_import(&mut self) -> Result<()> {
        const CREATE: &str = "CREATE TEMP TABLE posting_import (id TEXT PRIMARY KEY, \
                              was_stored BOOLEAN NOT NULL, old_hash TEXT, old_dup TEXT)";
        match self {
            Tx::Sqlite(t) => {
                // On disk (SQLite's temporary file), not in memory: it holds
                // every id of the file.
                sqlx::query("PRAGMA temp_store = FILE")
                    .execute(&mut **t)
                    .await?;
                sqlx::query("DROP TABLE IF EXISTS temp.posting_import")
                    .execute(&mut **t)
                    .await?;
                sqlx::query(CREATE).execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                sqlx::query("DROP TABLE IF EXISTS pg_temp.posting_import")
                    .execute(&mut **t)
                    .await?;
                sqlx::query(&format!("{CREATE} ON COMMIT DROP"))
                    .execute(&mut **t)
                    .await?;
            }
        }
        Ok(())
    }

    /// Writes one batch of a streamed import (after
    /// [`Tx::begin_postings_import`]): the postings whose content is new or
    /// changed are upserted (an id repeated in the file: the last one wins),
    /// their `duplicate_of` left for [`Tx::finish_postings_import`]. Returns,
    /// per row, whether it was written. Each batch is compared with what is
    /// stored when it comes: an id that a file repeats with two contents in
    /// two batches is written twice (the last one winning), on every import.
    pub async fn stage_postings(&mut self, rows: &[PostingWrite<'_>]) -> Result<Vec<bool>> {
        let now = now_text();
        let mut written = vec![false; rows.len()];
        // Last occurrence of each id in the batch.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            last.insert(r.posting.id.as_str(), i);
        }
        on_tx!(self, |c| {
            let ids: Vec<&str> = rows
                .iter()
                .enumerate()
                .filter(|(i, r)| last[r.posting.id.as_str()] == *i)
                .map(|(_, r)| r.posting.id.as_str())
                .collect();
            let mut stored: HashMap<String, (String, Option<String>)> =
                HashMap::with_capacity(ids.len());
            for part in ids.chunks(POSTING_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, content_hash, duplicate_of FROM postings WHERE id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in part {
                    sep.push_bind(*id);
                }
                qb.push(")");
                let found: Vec<(String, String, Option<String>)> =
                    qb.build_query_as().fetch_all(&mut *c).await?;
                stored.extend(found.into_iter().map(|(id, h, d)| (id, (h, d))));
            }
            // The file's ids with what was stored before (kept from their
            // first batch).
            type Seen<'a> = (&'a str, Option<&'a (String, Option<String>)>);
            let seen: Vec<Seen<'_>> = ids.iter().map(|id| (*id, stored.get(*id))).collect();
            bulk_insert!(
                c,
                "INSERT INTO posting_import (id, was_stored, old_hash, old_dup)",
                "ON CONFLICT (id) DO NOTHING",
                4,
                seen,
                |b, r| {
                    let (id, s) = *r;
                    b.push_bind(id)
                        .push_bind(s.is_some())
                        .push_bind(s.map(|s| s.0.as_str()))
                        .push_bind(s.and_then(|s| s.1.as_deref()));
                }
            );
            let changed: Vec<&PostingWrite<'_>> = rows
                .iter()
                .enumerate()
                .filter(|(i, r)| last[r.posting.id.as_str()] == *i)
                .filter(|(_, r)| {
                    stored
                        .get(r.posting.id.as_str())
                        .is_none_or(|s| s.0 != r.posting.content_hash)
                })
                .map(|(i, r)| {
                    written[i] = true;
                    r
                })
                .collect();
            bulk_insert!(
                c,
                "INSERT INTO postings (id, content_hash, fingerprint, duplicate_of, origin, code_rome, title, code_insee, \
                 employment_area_code, departement_code, month, contract, positions, skills, synthetic, imported_at) ",
                " ON CONFLICT (id) DO UPDATE SET content_hash = excluded.content_hash, fingerprint = excluded.fingerprint, \
                 origin = excluded.origin, code_rome = excluded.code_rome, \
                 title = excluded.title, code_insee = excluded.code_insee, employment_area_code = excluded.employment_area_code, \
                 departement_code = excluded.departement_code, month = excluded.month, contract = excluded.contract, \
                 positions = excluded.positions, skills = excluded.skills, synthetic = excluded.synthetic, \
                 imported_at = excluded.imported_at",
                16,
                changed,
                |b, r| {
                    let p = r.posting;
                    let skills = p
                        .skills
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(" ");
                    b.push_bind(&p.id)
                        .push_bind(&p.content_hash)
                        .push_bind(&p.fingerprint)
                        .push_bind(None::<&str>)
                        .push_bind(&p.origin)
                        .push_bind(&p.code_rome)
                        .push_bind(&p.title)
                        .push_bind(r.code_insee)
                        .push_bind(r.employment_area_code)
                        .push_bind(r.departement_code)
                        .push_bind(&p.month)
                        .push_bind(&p.contract)
                        .push_bind(p.positions)
                        .push_bind(skills)
                        .push_bind(p.synthetic)
                        .push_bind(now.clone());
                }
            );
        });
        Ok(written)
    }

    /// Ends a streamed import: points every posting to the holder of its
    /// fingerprint (the smallest id with it, stored or in the file), set-based
    /// over the whole table, counts what the file did, and drops the
    /// temporary table. The aggregates are left to
    /// [`Tx::refresh_posting_aggregates`].
    pub async fn finish_postings_import(
        &mut self,
        batches_written: u64,
    ) -> Result<PostingImportCounts> {
        let mut counts = PostingImportCounts {
            rows_written: batches_written,
            ..Default::default()
        };
        on_tx!(self, |c| {
            // Non-holders of a shared fingerprint point to its holder…
            let a = sqlx::query(
                "WITH h AS (SELECT fingerprint, MIN(id) AS holder FROM postings GROUP BY fingerprint HAVING COUNT(*) > 1) \
                 UPDATE postings SET duplicate_of = h.holder FROM h \
                 WHERE postings.fingerprint = h.fingerprint AND postings.id <> h.holder \
                 AND (postings.duplicate_of IS NULL OR postings.duplicate_of <> h.holder)",
            )
            .execute(&mut *c)
            .await?;
            // …and holders (alone or not) point to none.
            let b = sqlx::query(
                "UPDATE postings SET duplicate_of = NULL WHERE duplicate_of IS NOT NULL \
                 AND id = (SELECT MIN(p.id) FROM postings p WHERE p.fingerprint = postings.fingerprint)",
            )
            .execute(&mut *c)
            .await?;
            counts.rows_written += a.rows_affected() + b.rows_affected();
            let (total, new, unchanged, duplicates): (i64, i64, i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN i.was_stored THEN 0 ELSE 1 END), 0), \
                 COALESCE(SUM(CASE WHEN i.was_stored AND i.old_hash = p.content_hash \
                   AND ((i.old_dup IS NULL AND p.duplicate_of IS NULL) OR i.old_dup = p.duplicate_of) THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN p.duplicate_of IS NULL THEN 0 ELSE 1 END), 0) \
                 FROM posting_import i JOIN postings p ON p.id = i.id",
            )
            .fetch_one(&mut *c)
            .await?;
            counts.new = new;
            counts.unchanged = unchanged;
            counts.updated = total - new - unchanged;
            counts.duplicates = duplicates;
            sqlx::query("DROP TABLE posting_import")
                .execute(&mut *c)
                .await?;
        });
        Ok(counts)
    }
}

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

/// A commune as the postings generator uses it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GeneratorCommune {
    pub code_insee: String,
    pub name: String,
    pub departement_code: String,
    pub postcodes: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub population: Option<i64>,
}

impl Store {
    /// Every (fiche, compétence or savoir, label) link of ROME 4.0.
    pub async fn occupation_skill_labels(&self) -> Result<Vec<(String, i64, String)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT os.code_rome, s.code_ogr, s.label FROM occupation_skills os \
                 JOIN skills s ON s.code_ogr = os.code_ogr ORDER BY os.code_rome, s.code_ogr",
            )
            .fetch_all(p)
            .await?
        }))
    }

    /// Communes with a population, for the postings generator.
    pub async fn generator_communes(&self) -> Result<Vec<GeneratorCommune>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_insee, name, departement_code, postcodes, latitude, longitude, population \
                 FROM communes WHERE population > 0 ORDER BY code_insee",
            )
            .fetch_all(p)
            .await?
        }))
    }
}

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
            .bind(now_text())
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
            .bind(now_text())
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
