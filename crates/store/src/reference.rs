//! Reference data sets: each is replaced as a whole in one transaction, and
//! skipped when the shipped files have not changed (same checksum).

use domain::refdata::*;

use crate::{on_pool, on_tx, Result, Store};

/// Inserts rows in multi-row `INSERT … VALUES` statements, which is several
/// times faster than one statement per row on both backends.
/// Inserts rows in multi-row statements (see `multirow`): several times
/// faster than one statement per row on both backends.
macro_rules! bulk_insert {
    ($c:expr, $head:expr, $ncols:expr, $rows:expr, |$b:ident, $r:ident| $bind:block) => {{
        let mut rows = crate::multirow::Rows::new($head.trim_end(), $ncols, "");
        for $r in $rows.iter() {
            let $b = rows.row();
            $bind
        }
        crate::multirow::Bulk::write_rows(&mut *$c, &rows).await?;
    }};
}

/// The tables of one reference data set, borrowed from the parser's output.
pub enum RefTables<'a> {
    /// Régions, académies, départements, zones d'emploi, communes.
    Territories {
        regions: &'a [Region],
        academies: &'a [Academie],
        departements: &'a [Departement],
        employment_areas: &'a [EmploymentArea],
        communes: &'a [Commune],
    },
    /// ROME 4.0.
    Rome {
        grands_domaines: &'a [GrandDomaine],
        domaines: &'a [DomaineProfessionnel],
        occupations: &'a [Occupation],
        titles: &'a [OccupationTitle],
        skills: &'a [Skill],
        occupation_skills: &'a [OccupationSkill],
        mobilities: &'a [Mobility],
        interests: &'a [InterestCentre],
        occupation_interests: &'a [OccupationInterest],
    },
    /// Certif Info.
    CertifInfo {
        certifications: &'a [Certification],
        romes: &'a [CertificationRome],
    },
    /// RNCP tables.
    Rncp {
        fiches: &'a [RncpFiche],
        romes: &'a [RncpRome],
        nsf: &'a [RncpNsf],
        blocs: &'a [RncpBloc],
        certifiers: &'a [RncpCertifier],
    },
}

impl RefTables<'_> {
    /// Tables to empty before loading, children first.
    fn tables(&self) -> &'static [&'static str] {
        match self {
            RefTables::Territories { .. } => &[
                "communes",
                "departements",
                "academies",
                "regions",
                "employment_areas",
            ],
            RefTables::Rome { .. } => &[
                "occupation_interests",
                "interest_centres",
                "mobilities",
                "occupation_skills",
                "skills",
                "occupation_titles",
                "occupations",
                "domaines",
                "grands_domaines",
            ],
            RefTables::CertifInfo { .. } => &["certification_romes", "certifications"],
            RefTables::Rncp { .. } => &[
                "rncp_certifiers",
                "rncp_blocs",
                "rncp_nsf",
                "rncp_romes",
                "rncp_fiches",
            ],
        }
    }

    /// Row counts per table, in load order, for the import's summary.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        match self {
            RefTables::Territories {
                regions,
                academies,
                departements,
                employment_areas,
                communes,
            } => vec![
                ("régions", regions.len()),
                ("académies", academies.len()),
                ("départements", departements.len()),
                ("zones d'emploi", employment_areas.len()),
                ("communes", communes.len()),
            ],
            RefTables::Rome {
                grands_domaines,
                domaines,
                occupations,
                titles,
                skills,
                occupation_skills,
                mobilities,
                interests,
                occupation_interests,
            } => vec![
                ("grands domaines", grands_domaines.len()),
                ("domaines professionnels", domaines.len()),
                ("fiches métier", occupations.len()),
                ("appellations", titles.len()),
                ("compétences et savoirs", skills.len()),
                ("liens fiche-compétence", occupation_skills.len()),
                ("mobilités", mobilities.len()),
                ("centres d'intérêt", interests.len()),
                ("liens centre d'intérêt-fiche", occupation_interests.len()),
            ],
            RefTables::CertifInfo {
                certifications,
                romes,
            } => vec![
                ("certifications", certifications.len()),
                ("liens certification-ROME", romes.len()),
            ],
            RefTables::Rncp {
                fiches,
                romes,
                nsf,
                blocs,
                certifiers,
            } => vec![
                ("fiches RNCP", fiches.len()),
                ("liens RNCP-ROME", romes.len()),
                ("codes NSF", nsf.len()),
                ("blocs de compétences", blocs.len()),
                ("certificateurs", certifiers.len()),
            ],
        }
    }
}

/// What replacing a data set did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetOutcome {
    /// The stored version has the same checksum: nothing was written.
    Unchanged,
    /// The data set was replaced; total rows written.
    Loaded { rows: u64 },
}

/// Inserts every table of a data set, parents first.
macro_rules! insert_tables {
    ($c:expr, $tables:expr) => {
        match $tables {
            RefTables::Territories {
                regions,
                academies,
                departements,
                employment_areas,
                communes,
            } => {
                bulk_insert!($c, "INSERT INTO regions (code, name) ", 2, regions, |b, r| {
                    b.push_bind(&r.code).push_bind(&r.name);
                });
                bulk_insert!(
                    $c,
                    "INSERT INTO academies (code, name, region_code) ",
                    3,
                    academies,
                    |b, r| {
                        b.push_bind(&r.code)
                            .push_bind(&r.name)
                            .push_bind(&r.region_code);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO departements (code, name, region_code, academie_code) ",
                    4,
                    departements,
                    |b, r| {
                        b.push_bind(&r.code)
                            .push_bind(&r.name)
                            .push_bind(&r.region_code)
                            .push_bind(&r.academie_code);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO employment_areas (code, name) ",
                    2,
                    employment_areas,
                    |b, r| {
                        b.push_bind(&r.code).push_bind(&r.name);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO communes (code_insee, name, departement_code, region_code, employment_area_code, postcodes, latitude, longitude, population) ",
                    9,
                    communes,
                    |b, r| {
                        b.push_bind(&r.code_insee)
                            .push_bind(&r.name)
                            .push_bind(&r.departement_code)
                            .push_bind(&r.region_code)
                            .push_bind(&r.employment_area_code)
                            .push_bind(r.postcodes.join(" "))
                            .push_bind(r.latitude)
                            .push_bind(r.longitude)
                            .push_bind(r.population);
                    }
                );
            }
            RefTables::Rome {
                grands_domaines,
                domaines,
                occupations,
                titles,
                skills,
                occupation_skills,
                mobilities,
                interests,
                occupation_interests,
            } => {
                bulk_insert!($c, "INSERT INTO grands_domaines (code, label) ", 2, grands_domaines, |b, r| {
                    b.push_bind(&r.code).push_bind(&r.label);
                });
                bulk_insert!($c, "INSERT INTO domaines (code, label) ", 2, domaines, |b, r| {
                    b.push_bind(&r.code).push_bind(&r.label);
                });
                bulk_insert!(
                    $c,
                    "INSERT INTO occupations (code_rome, code_ogr, label, code_rome_parent, emploi_reglemente, emploi_cadre, definition, access) ",
                    8,
                    occupations,
                    |b, r| {
                        b.push_bind(&r.code_rome)
                            .push_bind(r.code_ogr)
                            .push_bind(&r.label)
                            .push_bind(&r.code_rome_parent)
                            .push_bind(r.emploi_reglemente)
                            .push_bind(r.emploi_cadre)
                            .push_bind(&r.definition)
                            .push_bind(&r.access);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO occupation_titles (code_ogr, code_rome, label, label_short) ",
                    4,
                    titles,
                    |b, r| {
                        b.push_bind(r.code_ogr)
                            .push_bind(&r.code_rome)
                            .push_bind(&r.label)
                            .push_bind(&r.label_short);
                    }
                );
                bulk_insert!($c, "INSERT INTO skills (code_ogr, kind, label, category) ", 4, skills, |b, r| {
                    b.push_bind(r.code_ogr)
                        .push_bind(r.kind.code())
                        .push_bind(&r.label)
                        .push_bind(&r.category);
                });
                bulk_insert!(
                    $c,
                    "INSERT INTO occupation_skills (code_rome, code_ogr, core) ",
                    3,
                    occupation_skills,
                    |b, r| {
                        b.push_bind(&r.code_rome).push_bind(r.code_ogr).push_bind(r.core);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO mobilities (code_rome, target_code_rome, rank) ",
                    3,
                    mobilities,
                    |b, r| {
                        b.push_bind(&r.code_rome)
                            .push_bind(&r.target_code_rome)
                            .push_bind(r.rank);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO interest_centres (code, label, definition) ",
                    3,
                    interests,
                    |b, r| {
                        b.push_bind(r.code).push_bind(&r.label).push_bind(&r.definition);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO occupation_interests (interest_code, code_rome, principal) ",
                    3,
                    occupation_interests,
                    |b, r| {
                        b.push_bind(r.interest_code)
                            .push_bind(&r.code_rome)
                            .push_bind(r.principal);
                    }
                );
            }
            RefTables::CertifInfo {
                certifications,
                romes,
            } => {
                bulk_insert!(
                    $c,
                    "INSERT INTO certifications (code, label, type_label, level, formacode, formacode_label, nsf, code_rncp, code_rs, cfd, certifier, active, updated_on) ",
                    13,
                    certifications,
                    |b, r| {
                        b.push_bind(r.code)
                            .push_bind(&r.label)
                            .push_bind(&r.type_label)
                            .push_bind(r.level)
                            .push_bind(&r.formacode)
                            .push_bind(&r.formacode_label)
                            .push_bind(&r.nsf)
                            .push_bind(&r.code_rncp)
                            .push_bind(&r.code_rs)
                            .push_bind(&r.cfd)
                            .push_bind(&r.certifier)
                            .push_bind(r.active)
                            .push_bind(&r.updated_on);
                    }
                );
                bulk_insert!(
                    $c,
                    "INSERT INTO certification_romes (certification_code, code_rome) ",
                    2,
                    romes,
                    |b, r| {
                        b.push_bind(r.certification_code).push_bind(&r.code_rome);
                    }
                );
            }
            RefTables::Rncp {
                fiches,
                romes,
                nsf,
                blocs,
                certifiers,
            } => {
                bulk_insert!(
                    $c,
                    "INSERT INTO rncp_fiches (code_rncp, label, active, level, type_code, type_label, valid_until) ",
                    7,
                    fiches,
                    |b, r| {
                        b.push_bind(&r.code_rncp)
                            .push_bind(&r.label)
                            .push_bind(r.active)
                            .push_bind(r.level)
                            .push_bind(&r.type_code)
                            .push_bind(&r.type_label)
                            .push_bind(&r.valid_until);
                    }
                );
                bulk_insert!($c, "INSERT INTO rncp_romes (code_rncp, code_rome) ", 2, romes, |b, r| {
                    b.push_bind(&r.code_rncp).push_bind(&r.code_rome);
                });
                bulk_insert!($c, "INSERT INTO rncp_nsf (code_rncp, nsf_code, label) ", 3, nsf, |b, r| {
                    b.push_bind(&r.code_rncp).push_bind(&r.nsf_code).push_bind(&r.label);
                });
                bulk_insert!($c, "INSERT INTO rncp_blocs (code_bloc, code_rncp, label) ", 3, blocs, |b, r| {
                    b.push_bind(&r.code_bloc).push_bind(&r.code_rncp).push_bind(&r.label);
                });
                bulk_insert!(
                    $c,
                    "INSERT INTO rncp_certifiers (code_rncp, name, siret) ",
                    3,
                    certifiers,
                    |b, r| {
                        b.push_bind(&r.code_rncp).push_bind(&r.name).push_bind(&r.siret);
                    }
                );
            }
        }
    };
}

impl Store {
    /// Checksum of the stored version of a data set, if any.
    pub async fn dataset_checksum(&self, name: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT checksum FROM datasets WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Replaces a reference data set in one transaction, unless the stored
    /// one has the same checksum (then nothing is written).
    pub async fn replace_dataset(
        &self,
        info: &DatasetInfo,
        tables: &RefTables<'_>,
        issues: &[QualityIssue],
    ) -> Result<DatasetOutcome> {
        if self.dataset_checksum(&info.name).await?.as_deref() == Some(info.checksum.as_str()) {
            return Ok(DatasetOutcome::Unchanged);
        }
        let rows: usize = tables.counts().iter().map(|(_, n)| n).sum();
        let mut tx = self.begin().await?;
        let now = tx.now().to_owned();
        on_tx!(&mut tx, |c| {
            for t in tables.tables() {
                // Table names come from the fixed list above, never from input.
                sqlx::query(&format!("DELETE FROM {t}"))
                    .execute(&mut *c)
                    .await?;
            }
            insert_tables!(c, tables);
            sqlx::query("DELETE FROM data_quality WHERE dataset = $1")
                .bind(&info.name)
                .execute(&mut *c)
                .await?;
            bulk_insert!(
                c,
                "INSERT INTO data_quality (dataset, file, line, field, message) ",
                5,
                issues,
                |b, i| {
                    b.push_bind(&info.name)
                        .push_bind(&i.file)
                        .push_bind(i.line as i64)
                        .push_bind(&i.field)
                        .push_bind(&i.message);
                }
            );
            sqlx::query(
                "INSERT INTO datasets (name, title, version, published_on, source, licence, checksum, row_count, imported_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (name) DO UPDATE SET title = excluded.title, version = excluded.version, \
                 published_on = excluded.published_on, source = excluded.source, licence = excluded.licence, \
                 checksum = excluded.checksum, row_count = excluded.row_count, imported_at = excluded.imported_at",
            )
            .bind(&info.name)
            .bind(&info.title)
            .bind(&info.version)
            .bind(&info.published_on)
            .bind(&info.source)
            .bind(&info.licence)
            .bind(&info.checksum)
            .bind(rows as i64)
            .bind(&now)
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await?;
        Ok(DatasetOutcome::Loaded { rows: rows as u64 })
    }

    /// Every stored data set with its provenance.
    pub async fn datasets(&self) -> Result<Vec<crate::DatasetRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT name, title, version, published_on, source, licence, row_count, imported_at, \
                 (SELECT COUNT(*) FROM data_quality q WHERE q.dataset = d.name) AS issue_count \
                 FROM datasets d ORDER BY name",
            )
            .fetch_all(p)
            .await?
        }))
    }

    /// The data-quality report of a data set (first `limit` entries).
    pub async fn data_quality(&self, dataset: &str, limit: i64) -> Result<Vec<QualityIssue>> {
        let rows: Vec<(String, i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT file, line, field, message FROM data_quality WHERE dataset = $1 ORDER BY id LIMIT $2",
            )
            .bind(dataset)
            .bind(limit)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(file, line, field, message)| QualityIssue {
                file,
                line: line as u64,
                field,
                message,
            })
            .collect())
    }
}
