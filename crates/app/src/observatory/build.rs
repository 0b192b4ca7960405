//! Computing one observatory view: the data of the campus' perimeter are
//! read here, and the rules of `domain::observatory` turn them into lines.

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::observatory::{self as rules, LocalValue, MetierTension};
use ingest::tension::INDICATORS;
use store::Visibility;

use super::{Dimension, FormationOutcome, MetierLine, Observatory, WhatIf};
use crate::{App, AppError};

/// The territories of a campus' perimeter.
struct Perimeter {
    communes: usize,
    areas: Vec<String>,
    deps: Vec<String>,
    regions: Vec<String>,
    basins: Vec<String>,
    commune_basins: Vec<(String, String)>,
}

impl Perimeter {
    /// (territory type, code) of every place whose values the view reads.
    fn places(&self) -> Vec<(String, String)> {
        let typed = |t: &str, codes: &[String]| {
            codes
                .iter()
                .map(|c| (t.to_owned(), c.clone()))
                .collect::<Vec<_>>()
        };
        [
            typed("bassin", &self.basins),
            typed("zone_emploi", &self.areas),
            typed("departement", &self.deps),
            typed("region", &self.regions),
        ]
        .concat()
    }
}

/// Sorted distinct values.
fn distinct(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The postings of the last 12 months of data on the perimeter.
#[derive(Default)]
struct RecentPostings {
    months: Vec<String>,
    /// ROME → (postings, positions).
    by_rome: HashMap<String, (i64, i64)>,
    synthetic: bool,
    /// ROME → skill → (label, postings).
    skills: BTreeMap<String, BTreeMap<i64, (String, i64)>>,
}

/// The campus' formations per métier they lead to.
#[derive(Default)]
struct Supply {
    /// ROME → places (split, see `rules::split_supply`).
    places: HashMap<String, f64>,
    /// ROME → (formation id, title, places).
    leading: HashMap<String, Vec<(i64, String, Option<i64>)>>,
    /// ROME → normalised text of the blocs of the certifications.
    blocs: HashMap<String, String>,
}

/// What every métier line is computed from.
struct Inputs<'a> {
    tension: &'a BTreeMap<String, MetierTension>,
    labels: &'a HashMap<String, String>,
    domains: &'a [&'a str],
    postings: &'a RecentPostings,
    supply: &'a Supply,
    /// ROME → (planned hires, suppressed) of the latest survey.
    survey: &'a HashMap<String, (i64, bool)>,
    period: Option<&'a str>,
    manager: bool,
}

impl App {
    /// Computes the observatory (see [`App::observatory_for`]); `manager`:
    /// whether suppressed survey cells are used.
    pub(super) async fn build_observatory(
        &self,
        campus: store::CampusRow,
        what_if: Option<WhatIf>,
        period: Option<&str>,
        manager: bool,
    ) -> Result<Observatory, AppError> {
        let (domains, domains_are_defaults) = self.observed_domains(&campus).await?;
        let domain_refs: Vec<&str> = domains.iter().map(String::as_str).collect();
        let in_sector = |code: &str| domain::in_rome_domains(code, &domain_refs);
        let perimeter = self.perimeter(campus.id).await?;
        let values = self.store.tension_values_in(&perimeter.places()).await?;
        let local: Vec<LocalValue<'_>> = values
            .iter()
            .map(|v| LocalValue {
                code_rome: &v.code_rome,
                territory_type: &v.territory_type,
                territory_code: &v.territory_code,
                period: &v.period,
                indicator: &v.indicator,
                value: v.value,
                level: v.level,
            })
            .collect();
        let tension = rules::gather(&local, in_sector);
        let postings = self.recent_postings(&perimeter).await?;
        let formations = self
            .store
            .formations(campus.id, Visibility::All, None)
            .await?;
        let supply = self.supply(&formations, what_if).await?;
        let survey = self.survey_demand(campus.id).await?;
        let labels = self.rome_v3_labels().await?;
        let inputs = Inputs {
            tension: &tension,
            labels: &labels,
            domains: &domain_refs,
            postings: &postings,
            supply: &supply,
            survey: &survey,
            period,
            manager,
        };
        let metiers = inputs.lines();
        let warnings = warnings(values.is_empty(), &metiers, postings.synthetic);
        Ok(Observatory {
            campus_slug: campus.slug,
            campus_name: campus.name,
            domains,
            domains_are_defaults,
            communes: perimeter.communes,
            employment_areas: perimeter.areas,
            departements: perimeter.deps,
            basins: perimeter.basins,
            commune_basins: perimeter.commune_basins,
            sources: self.store.tension_sources().await?,
            posting_months: postings.months,
            synthetic_postings: postings.synthetic,
            metiers,
            outcomes: self.campus_outcomes(&formations).await?,
            warnings,
        })
    }

    /// The ROME domains observed: the campus' own, else its filière's
    /// defaults (and whether they are the defaults).
    async fn observed_domains(
        &self,
        campus: &store::CampusRow,
    ) -> Result<(Vec<String>, bool), AppError> {
        let own = self.store.campus_rome_domains(campus.id).await?;
        if !own.is_empty() {
            return Ok((own, false));
        }
        let defaults = domain::Sector::parse(&campus.sector)
            .map(|s| s.default_rome_domains().iter().map(|d| (*d).to_owned()))
            .into_iter()
            .flatten()
            .collect();
        Ok((defaults, true))
    }

    async fn perimeter(&self, campus_id: i64) -> Result<Perimeter, AppError> {
        let communes = self.store.perimeter_communes(campus_id).await?;
        let codes: Vec<String> = communes.iter().map(|c| c.code_insee.clone()).collect();
        let commune_basins = self.store.commune_basins(&codes).await?;
        Ok(Perimeter {
            communes: communes.len(),
            areas: distinct(
                communes
                    .iter()
                    .filter_map(|c| c.employment_area_code.clone())
                    .collect(),
            ),
            deps: distinct(
                communes
                    .iter()
                    .map(|c| c.departement_code.clone())
                    .collect(),
            ),
            regions: distinct(communes.iter().map(|c| c.region_code.clone()).collect()),
            basins: distinct(commune_basins.iter().map(|(_, b)| b.clone()).collect()),
            commune_basins,
        })
    }

    /// Labels of the ROME v3 fiches (a fiche's own label, else that of one
    /// of its 4.0 children).
    async fn rome_v3_labels(&self) -> Result<HashMap<String, String>, AppError> {
        let mut labels: HashMap<String, String> = HashMap::new();
        for (code, parent, label) in self.store.rome_parents().await? {
            if code == parent {
                labels.insert(code, label);
            } else {
                labels.entry(parent).or_insert(label);
            }
        }
        Ok(labels)
    }

    async fn recent_postings(&self, perimeter: &Perimeter) -> Result<RecentPostings, AppError> {
        let rows = self
            .store
            .posting_demand_in(&perimeter.areas, &perimeter.deps)
            .await?;
        let all_months = distinct(rows.iter().map(|r| r.month.clone()).collect());
        let recent: HashSet<&String> = all_months.iter().rev().take(12).collect();
        let mut out = RecentPostings {
            months: all_months
                .iter()
                .filter(|m| recent.contains(m))
                .cloned()
                .collect(),
            ..RecentPostings::default()
        };
        for r in rows.iter().filter(|r| recent.contains(&r.month)) {
            let e = out.by_rome.entry(r.code_rome.clone()).or_default();
            e.0 += r.postings;
            e.1 += r.positions;
            out.synthetic |= r.synthetic > 0;
        }
        for s in self.store.skill_demand_in(&perimeter.deps).await? {
            let e = out
                .skills
                .entry(s.code_rome)
                .or_default()
                .entry(s.code_ogr)
                .or_insert((s.label, 0));
            e.1 += s.postings;
        }
        Ok(out)
    }

    /// Places of the campus' formations, split over their métiers, plus the
    /// places of a what-if.
    async fn supply(
        &self,
        formations: &[store::FormationRow],
        what_if: Option<WhatIf>,
    ) -> Result<Supply, AppError> {
        let mut out = Supply::default();
        for f in formations {
            let romes = self.store.formation_romes(f.id).await?;
            let blocs = self.certification_blocs_text(f.certification_code).await?;
            for r in &romes {
                *out.places.entry(r.code_rome.clone()).or_default() +=
                    rules::split_supply(f.capacity, romes.len());
                let leading = (f.id, f.title.clone(), f.capacity);
                out.leading
                    .entry(r.code_rome.clone())
                    .or_default()
                    .push(leading);
                out.blocs
                    .entry(r.code_rome.clone())
                    .or_default()
                    .push_str(&blocs);
            }
        }
        if let Some(w) = what_if {
            let romes = self
                .store
                .certification_occupations(w.certification_code)
                .await?;
            if romes.is_empty() {
                return Err(AppError::NotFound(format!(
                    "certification {} ou ses métiers",
                    w.certification_code
                )));
            }
            for r in &romes {
                *out.places.entry(r.code_rome.clone()).or_default() +=
                    rules::split_supply(Some(w.places), romes.len());
            }
        }
        Ok(out)
    }

    /// The latest outcomes of each formation in its région, one line per
    /// voie (the code with the most leavers).
    async fn campus_outcomes(
        &self,
        formations: &[store::FormationRow],
    ) -> Result<Vec<FormationOutcome>, AppError> {
        let mut outcomes = Vec::new();
        for f in formations {
            let (regional, _) = self.formation_outcomes(f).await?;
            let Some(latest) = regional.first().map(|r| r.millesime.clone()) else {
                continue;
            };
            let mut best: BTreeMap<String, store::OutcomeRow> = BTreeMap::new();
            for r in regional.into_iter().filter(|r| r.millesime == latest) {
                let keep = best
                    .get(&r.voie)
                    .is_none_or(|b| r.leavers.unwrap_or(0) > b.leavers.unwrap_or(0));
                if keep {
                    best.insert(r.voie.clone(), r);
                }
            }
            outcomes.extend(best.into_values().map(|outcome| FormationOutcome {
                formation_id: f.id,
                title: f.title.clone(),
                outcome,
            }));
        }
        Ok(outcomes)
    }

    /// The normalised labels of the blocs de compétences of a certification
    /// (through its RNCP fiche), or a single space.
    async fn certification_blocs_text(&self, code: Option<i64>) -> Result<String, AppError> {
        let mut text = String::from(" ");
        let Some(code) = code else { return Ok(text) };
        let Some(cert) = self.store.certification(code).await? else {
            return Ok(text);
        };
        if let Some(rncp) = cert.code_rncp.as_deref() {
            for b in self.store.rncp_blocs(rncp).await? {
                domain::skills::normalise_into(&b.label, &mut text);
            }
        }
        Ok(text)
    }
}

impl Inputs<'_> {
    fn in_sector(&self, code: &str) -> bool {
        domain::in_rome_domains(code, self.domains)
    }

    /// The métiers shown, most in difficulty first: those of the sector with
    /// any data, and those the campus trains for (or would, in a what-if)
    /// even outside the sector.
    fn lines(&self) -> Vec<MetierLine> {
        let mut codes: Vec<String> = self.tension.keys().cloned().collect();
        codes.extend(self.survey.keys().cloned());
        codes.extend(
            self.postings
                .by_rome
                .keys()
                .filter(|c| self.in_sector(c))
                .cloned(),
        );
        codes.extend(self.supply.leading.keys().cloned());
        codes.extend(self.supply.places.keys().cloned());
        let mut metiers: Vec<MetierLine> = distinct(codes)
            .into_iter()
            .map(|code| self.line(code))
            .collect();
        metiers.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(b.offers.unwrap_or(0.0).total_cmp(&a.offers.unwrap_or(0.0)))
                .then(b.positions.cmp(&a.positions))
                .then(a.code_rome.cmp(&b.code_rome))
        });
        metiers
    }

    fn line(&self, code: String) -> MetierLine {
        let empty = MetierTension::default();
        let t = self.tension.get(&code).unwrap_or(&empty);
        let shown = t.shown_period(self.period);
        let p = shown.as_deref();
        let (postings, positions) = self.postings.by_rome.get(&code).copied().unwrap_or((0, 0));
        let bmo_projects = t.bmo_projects.values().next_back().copied();
        let supply = self.supply.places.get(&code).copied().unwrap_or(0.0);
        // A suppressed survey cell is not used for those who may not see it.
        let survey_planned = self
            .survey
            .get(&code)
            .filter(|(_, suppressed)| self.manager || !suppressed)
            .map(|(planned, _)| *planned);
        let (demand, source) = rules::demand(survey_planned, bmo_projects, positions);
        let top_skills = self.top_skills(&code);
        let blocs = self.supply.blocs.get(&code).map_or(" ", String::as_str);
        let uncovered_skills = top_skills
            .iter()
            .filter(|(_, label, _)| !rules::covers(blocs, label))
            .cloned()
            .collect();
        MetierLine {
            label: self
                .labels
                .get(&code)
                .cloned()
                .unwrap_or_else(|| code.clone()),
            in_sector: self.in_sector(&code),
            level: t.level(p),
            dimensions: INDICATORS[1..9]
                .iter()
                .map(|(c, label)| Dimension {
                    code: (*c).to_owned(),
                    label: (*label).to_owned(),
                    level: t.dimension_level(p, c),
                })
                .collect(),
            trend: t.trend(),
            places: t.place_levels(p),
            offers: t.summed(p, false),
            jobseekers: t.summed(p, true),
            bmo_difficult_pct: t.bmo_pct.values().next_back().copied(),
            bmo_trend: t.bmo_pct.iter().map(|(p, v)| (p.clone(), *v)).collect(),
            geographic_mismatch: t.geographic_mismatch(p),
            period: shown.clone(),
            bmo_projects,
            survey_planned,
            postings,
            positions,
            supply,
            demand,
            demand_source: source.label(),
            gap: demand.map(|d| d - supply),
            ratio: demand.filter(|_| supply > 0.0).map(|d| d / supply),
            top_skills,
            uncovered_skills,
            formations: self.supply.leading.get(&code).cloned().unwrap_or_default(),
            code_rome: code,
        }
    }

    /// The ten skills most asked in the métier's postings.
    fn top_skills(&self, code: &str) -> Vec<(i64, String, i64)> {
        let mut v: Vec<(i64, String, i64)> = self
            .postings
            .skills
            .get(code)
            .map(|m| m.iter().map(|(k, (l, n))| (*k, l.clone(), *n)).collect())
            .unwrap_or_default();
        v.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)));
        v.truncate(10);
        v
    }
}

/// What the page must say about thin or missing data.
fn warnings(no_values: bool, metiers: &[MetierLine], synthetic: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    if no_values {
        warnings.push("Aucun indicateur de tension n'est importé pour ce territoire (passerelle import tension).".to_owned());
    } else {
        let sector: Vec<&MetierLine> = metiers.iter().filter(|m| m.in_sector).collect();
        let without = sector.iter().filter(|m| m.level.is_none()).count();
        if without > 0 {
            warnings.push(format!(
                "Les indicateurs de tension publiés sont partiels sur ce territoire : {without} des {} métiers du secteur \
                 affichés n'ont pas de niveau (la source publiée ne couvre pas toutes les paires métier × bassin). \
                 Ils ne sont pas estimés : seules leurs autres données sont montrées.",
                sector.len()
            ));
        }
    }
    if synthetic {
        warnings.push("Les offres d'emploi comptées sont synthétiques (générées pour la démonstration), pas de vraies offres.".to_owned());
    }
    warnings
}
