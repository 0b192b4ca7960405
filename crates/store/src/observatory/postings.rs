//! Job postings: the streamed import (staged, classified and deduplicated
//! by the database) and the aggregates the observatory reads, rebuilt in the
//! import's transaction.

use std::collections::HashMap;

use domain::postings::Posting;

use crate::multirow::bulk_insert;
use crate::{on_pool, on_tx, Result, Store, Tx, TxConn};

/// Ids per look-up statement of a streamed postings import.
const POSTING_CHUNK: usize = 5_000;

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
        match &mut self.conn {
            TxConn::Sqlite(t) => {
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
            TxConn::Postgres(t) => {
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
        let now = self.now.clone();
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
