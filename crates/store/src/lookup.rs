//! Reads of reference data for pages, the API and the search index.

use crate::rows::*;
use crate::{on_pool, Result, Store};

const OCCUPATION_SELECT: &str = "SELECT o.code_rome, o.label, o.code_rome_parent, o.emploi_reglemente, \
    o.emploi_cadre, o.definition, o.access, d.label AS domaine_label, g.label AS grand_domaine_label \
    FROM occupations o LEFT JOIN domaines d ON d.code = SUBSTR(o.code_rome, 1, 3) \
    LEFT JOIN grands_domaines g ON g.code = SUBSTR(o.code_rome, 1, 1)";

const CERTIFICATION_SELECT: &str =
    "SELECT code, label, type_label, level, formacode, formacode_label, nsf, \
    code_rncp, code_rs, cfd, certifier, active, updated_on FROM certifications";

impl Store {
    /// A ROME fiche.
    pub async fn occupation(&self, code_rome: &str) -> Result<Option<OccupationRow>> {
        let sql = format!("{OCCUPATION_SELECT} WHERE o.code_rome = $1");
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql)
                .bind(code_rome)
                .fetch_optional(p)
                .await?
        }))
    }

    /// Every ROME fiche (for the search index).
    pub async fn all_occupations(&self) -> Result<Vec<OccupationRow>> {
        let sql = format!("{OCCUPATION_SELECT} ORDER BY o.code_rome");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await?))
    }

    /// ROME fiches by codes, in the order given.
    pub async fn occupations_by_codes(&self, codes: &[String]) -> Result<Vec<OccupationRow>> {
        let mut out = Vec::with_capacity(codes.len());
        for c in codes {
            if let Some(o) = self.occupation(c).await? {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Appellations of a fiche, or of every fiche when `code_rome` is None.
    pub async fn titles(&self, code_rome: Option<&str>) -> Result<Vec<TitleRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_ogr, code_rome, label FROM occupation_titles WHERE ($1 IS NULL OR code_rome = $1) \
                 ORDER BY code_rome, label",
            )
            .bind(code_rome)
            .fetch_all(p)
            .await?
        }))
    }

    /// Compétences and savoirs of a fiche, core ones first.
    pub async fn occupation_skills(&self, code_rome: &str) -> Result<Vec<SkillRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT s.code_ogr, s.kind, s.label, s.category, os.core FROM occupation_skills os \
                 JOIN skills s ON s.code_ogr = os.code_ogr WHERE os.code_rome = $1 \
                 ORDER BY os.core DESC, s.kind, s.label",
            )
            .bind(code_rome)
            .fetch_all(p)
            .await?
        }))
    }

    /// Mobilities from a fiche.
    pub async fn mobilities(&self, code_rome: &str) -> Result<Vec<MobilityRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT m.target_code_rome, o.label, m.rank FROM mobilities m \
                 JOIN occupations o ON o.code_rome = m.target_code_rome WHERE m.code_rome = $1 ORDER BY m.rank, o.label",
            )
            .bind(code_rome)
            .fetch_all(p)
            .await?
        }))
    }

    /// Certifications leading to a ROME fiche.
    pub async fn certifications_for_rome(&self, code_rome: &str) -> Result<Vec<CertificationRow>> {
        let sql = format!(
            "{CERTIFICATION_SELECT} WHERE code IN (SELECT certification_code FROM certification_romes WHERE code_rome = $1) \
             ORDER BY active DESC, level, label LIMIT 200"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(code_rome).fetch_all(p).await?
        }))
    }

    /// A Certif Info certification.
    pub async fn certification(&self, code: i64) -> Result<Option<CertificationRow>> {
        let sql = format!("{CERTIFICATION_SELECT} WHERE code = $1");
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(code).fetch_optional(p).await?
        }))
    }

    /// Every certification (for the search index and the demo).
    pub async fn all_certifications(&self) -> Result<Vec<CertificationRow>> {
        let sql = format!("{CERTIFICATION_SELECT} ORDER BY code");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await?))
    }

    /// ROME fiches a certification leads to.
    pub async fn certification_occupations(&self, code: i64) -> Result<Vec<OccupationRef>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT o.code_rome, o.label FROM certification_romes cr JOIN occupations o ON o.code_rome = cr.code_rome \
                 WHERE cr.certification_code = $1 ORDER BY o.code_rome",
            )
            .bind(code)
            .fetch_all(p)
            .await?
        }))
    }

    /// An RNCP fiche.
    pub async fn rncp_fiche(&self, code_rncp: &str) -> Result<Option<RncpFicheRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_rncp, label, active, level, type_label, valid_until FROM rncp_fiches WHERE code_rncp = $1",
            )
            .bind(code_rncp)
            .fetch_optional(p)
            .await?
        }))
    }

    /// Blocs de compétences of an RNCP fiche.
    pub async fn rncp_blocs(&self, code_rncp: &str) -> Result<Vec<BlocRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_bloc, label FROM rncp_blocs WHERE code_rncp = $1 ORDER BY code_bloc",
            )
            .bind(code_rncp)
            .fetch_all(p)
            .await?
        }))
    }

    /// Certifiers of an RNCP fiche.
    pub async fn rncp_certifiers(&self, code_rncp: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT name FROM rncp_certifiers WHERE code_rncp = $1 ORDER BY name")
                .bind(code_rncp)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// A commune by INSEE code.
    pub async fn commune(&self, code_insee: &str) -> Result<Option<CommuneRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_insee, name, departement_code, region_code, employment_area_code, postcodes, latitude, \
                 longitude, population FROM communes WHERE code_insee = $1",
            )
            .bind(code_insee)
            .fetch_optional(p)
            .await?
        }))
    }

    /// Communes of a département, by name.
    pub async fn communes_of(&self, departement: &str) -> Result<Vec<CommuneRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT code_insee, name, departement_code, region_code, employment_area_code, postcodes, latitude, \
                 longitude, population FROM communes WHERE departement_code = $1 ORDER BY name",
            )
            .bind(departement)
            .fetch_all(p)
            .await?
        }))
    }

    /// Every commune code (to check codes in imports).
    pub async fn commune_codes(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT code_insee FROM communes")
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Every ROME 4.0 code.
    pub async fn rome_codes(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT code_rome FROM occupations")
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Every département, by code.
    pub async fn departements(&self) -> Result<Vec<DepartementRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as("SELECT code, name, region_code FROM departements ORDER BY code")
                .fetch_all(p)
                .await?
        }))
    }
}

impl Store {
    /// ROME 4.0 fiches of every certification, keyed by Certif Info code
    /// (for imports that derive the métiers of many formations at once).
    pub async fn certification_rome_map(
        &self,
    ) -> Result<std::collections::HashMap<i64, Vec<String>>> {
        let rows: Vec<(i64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT cr.certification_code, cr.code_rome FROM certification_romes cr \
                 JOIN occupations o ON o.code_rome = cr.code_rome ORDER BY cr.certification_code, cr.code_rome",
            )
            .fetch_all(p)
            .await?
        });
        let mut map: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        for (code, rome) in rows {
            map.entry(code).or_default().push(rome);
        }
        Ok(map)
    }
}
