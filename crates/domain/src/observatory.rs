//! The pure rules of the observatory (`docs/OBSERVATORY.md`): how published
//! tension values on a campus' perimeter become one level per métier, where
//! the demand of a métier comes from, how a formation's places are split
//! over the métiers it leads to, and when certification blocs cover a skill
//! asked in postings. `app::observatory` reads the data and calls these.

use std::collections::BTreeMap;

use serde::Serialize;

/// Territory types from the narrowest to the widest: a view uses the
/// narrowest one that has levels, so that a bassin's value and its
/// département's are never mixed.
pub const TERRITORY_PRECEDENCE: [&str; 4] = ["bassin", "zone_emploi", "departement", "region"];

/// The main indicator's code among the published ones.
pub const MAIN_INDICATOR: &str = "TENSION";

/// One published value on the perimeter (or national), as the view reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalValue<'a> {
    /// ROME v3 fiche.
    pub code_rome: &'a str,
    /// `bassin`, `zone_emploi`, `departement`, `region` or `national`.
    pub territory_type: &'a str,
    pub territory_code: &'a str,
    pub period: &'a str,
    /// `TENSION`, a dimension's code, `OFFRES`, `DEFM_ABC`, `BMO_PROJETS`,
    /// `BMO_DIFFICILE_PCT`.
    pub indicator: &'a str,
    pub value: Option<f64>,
    /// Level 1–5 of a level indicator.
    pub level: Option<i64>,
}

/// The narrowest territory type of [`TERRITORY_PRECEDENCE`] among the
/// values that carry a level.
pub fn narrowest_territory<'a>(values: &[LocalValue<'a>]) -> Option<&'static str> {
    TERRITORY_PRECEDENCE.into_iter().find(|t| {
        values
            .iter()
            .any(|v| v.territory_type == *t && v.level.is_some())
    })
}

/// The rounded mean of levels weighted by `w` (equal weights when all zero).
pub fn weighted_level(levels: &[(i64, f64)]) -> Option<u8> {
    if levels.is_empty() {
        return None;
    }
    let total: f64 = levels.iter().map(|(_, w)| w).sum();
    let mean = if total > 0.0 {
        levels.iter().map(|(l, w)| *l as f64 * w).sum::<f64>() / total
    } else {
        levels.iter().map(|(l, _)| *l as f64).sum::<f64>() / levels.len() as f64
    };
    Some(mean.round().clamp(1.0, 5.0) as u8)
}

/// What the perimeter's published values say of one métier.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MetierTension {
    /// Period → (level, weight) of the main indicator per territory.
    pub periods: BTreeMap<String, Vec<(i64, f64)>>,
    /// (period, territory) → level of the main indicator.
    pub places: BTreeMap<(String, String), u8>,
    /// (period, dimension) → (level, weight) per territory.
    pub dims: BTreeMap<(String, String), Vec<(i64, f64)>>,
    /// Period → offers summed over the perimeter.
    pub offers: BTreeMap<String, f64>,
    /// Period → job seekers A, B, C summed over the perimeter.
    pub seekers: BTreeMap<String, f64>,
    /// (period, bassin) → (offers, job seekers), for the Duncan index.
    pub spread: BTreeMap<(String, String), (Option<f64>, Option<f64>)>,
    /// Edition → national share of difficult recruitment projects.
    pub bmo_pct: BTreeMap<String, f64>,
    /// Edition → BMO projects summed over the perimeter's bassins.
    pub bmo_projects: BTreeMap<String, f64>,
}

/// Gathers the values of the métiers `keep` accepts. Levels are read at the
/// narrowest territory type only and weighted by the offers published for
/// the same métier, territory and period; national values only feed the
/// BMO share.
pub fn gather<'a>(
    values: &[LocalValue<'a>],
    keep: impl Fn(&str) -> bool,
) -> BTreeMap<String, MetierTension> {
    let mut weight: std::collections::HashMap<(&str, &str, &str, &str), f64> =
        std::collections::HashMap::new();
    for v in values.iter().filter(|v| v.indicator == "OFFRES") {
        if let Some(x) = v.value {
            let key = (v.code_rome, v.territory_type, v.territory_code, v.period);
            weight.insert(key, x);
        }
    }
    let narrowest = narrowest_territory(values);
    let mut out: BTreeMap<String, MetierTension> = BTreeMap::new();
    for v in values.iter().filter(|v| keep(v.code_rome)) {
        let a = out.entry(v.code_rome.to_owned()).or_default();
        let w = weight
            .get(&(v.code_rome, v.territory_type, v.territory_code, v.period))
            .copied()
            .unwrap_or(0.0);
        a.add(v, w, narrowest);
    }
    out
}

impl MetierTension {
    fn add(&mut self, v: &LocalValue<'_>, w: f64, narrowest: Option<&str>) {
        let period = v.period.to_owned();
        let at_place = (period.clone(), v.territory_code.to_owned());
        match (v.indicator, v.territory_type) {
            ("BMO_DIFFICILE_PCT", "national") => {
                if let Some(x) = v.value {
                    self.bmo_pct.insert(period, x);
                }
            }
            (_, "national") => {}
            ("OFFRES", t) => {
                *self.offers.entry(period).or_default() += v.value.unwrap_or(0.0);
                if t == "bassin" {
                    self.spread.entry(at_place).or_default().0 = v.value;
                }
            }
            ("DEFM_ABC", t) => {
                *self.seekers.entry(period).or_default() += v.value.unwrap_or(0.0);
                if t == "bassin" {
                    self.spread.entry(at_place).or_default().1 = v.value;
                }
            }
            ("BMO_PROJETS", "bassin") => {
                *self.bmo_projects.entry(period).or_default() += v.value.unwrap_or(0.0)
            }
            (ind, t) if Some(t) == narrowest => {
                let Some(l) = v.level else { return };
                if ind == MAIN_INDICATOR {
                    self.periods.entry(period).or_default().push((l, w));
                    self.places.insert(at_place, u8::try_from(l).unwrap_or(0));
                } else {
                    self.dims
                        .entry((period, ind.to_owned()))
                        .or_default()
                        .push((l, w));
                }
            }
            _ => {}
        }
    }

    /// The period shown: `asked` if the métier has a level then, else none;
    /// without a choice, the latest period with a level.
    pub fn shown_period(&self, asked: Option<&str>) -> Option<String> {
        match asked {
            Some(p) => self.periods.contains_key(p).then(|| p.to_owned()),
            None => self.periods.keys().next_back().cloned(),
        }
    }

    /// Level of the main indicator in `period`.
    pub fn level(&self, period: Option<&str>) -> Option<u8> {
        weighted_level(self.periods.get(period?)?)
    }

    /// Level of the main indicator per territory in `period`, for the map.
    pub fn place_levels(&self, period: Option<&str>) -> Vec<(String, u8)> {
        let Some(p) = period else { return Vec::new() };
        self.places
            .iter()
            .filter(|((q, _), _)| q == p)
            .map(|((_, t), l)| (t.clone(), *l))
            .collect()
    }

    /// Level of the main indicator per period, oldest first.
    pub fn trend(&self) -> Vec<(String, u8)> {
        self.periods
            .iter()
            .filter_map(|(p, l)| weighted_level(l).map(|l| (p.clone(), l)))
            .collect()
    }

    /// Level of one dimension in `period`.
    pub fn dimension_level(&self, period: Option<&str>, code: &str) -> Option<u8> {
        weighted_level(self.dims.get(&(period?.to_owned(), code.to_owned()))?)
    }

    /// Offers (or job seekers, with `seekers`) in `period`, or in the latest
    /// period published when none is shown.
    pub fn summed(&self, period: Option<&str>, seekers: bool) -> Option<f64> {
        let m = if seekers { &self.seekers } else { &self.offers };
        match period {
            Some(p) => m.get(p).copied(),
            None => m.values().next_back().copied(),
        }
    }

    /// Duncan index of offers against job seekers over the perimeter's
    /// bassins with both figures in `period` (at least two).
    pub fn geographic_mismatch(&self, period: Option<&str>) -> Option<f64> {
        let p = period?;
        let (offers, seekers): (Vec<f64>, Vec<f64>) = self
            .spread
            .iter()
            .filter(|((q, _), _)| q == p)
            .filter_map(|(_, (o, s))| Some(((*o)?, (*s)?)))
            .unzip();
        (offers.len() >= 2)
            .then(|| crate::tension::duncan_index(&offers, &seekers))
            .flatten()
    }
}

/// Where the demand of a métier comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DemandSource {
    /// The campus' own survey of employers.
    Survey,
    /// France Travail's BMO recruitment projects on the perimeter.
    Bmo,
    /// Positions of the postings, as a signal only.
    Postings,
    /// No figure.
    None,
}

impl DemandSource {
    /// How pages and exports name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Survey => "enquête du campus",
            Self::Bmo => "BMO",
            Self::Postings => "offres (signal)",
            Self::None => "aucune",
        }
    }
}

/// The demand rule: the campus survey where it has answers for the métier,
/// BMO projects otherwise, else the positions of the postings as a signal;
/// never two of them added.
pub fn demand(
    survey_planned: Option<i64>,
    bmo_projects: Option<f64>,
    positions: i64,
) -> (Option<f64>, DemandSource) {
    match (survey_planned, bmo_projects) {
        (Some(s), _) => (Some(s as f64), DemandSource::Survey),
        (None, Some(p)) => (Some(p), DemandSource::Bmo),
        (None, None) if positions > 0 => (Some(positions as f64), DemandSource::Postings),
        (None, None) => (None, DemandSource::None),
    }
}

/// A formation's places counted for each of the `metiers` it leads to:
/// split evenly, so that the campus' total supply is its total places.
pub fn split_supply(places: Option<i64>, metiers: usize) -> f64 {
    if metiers == 0 {
        return 0.0;
    }
    places.unwrap_or(0) as f64 / metiers as f64
}

/// Whether the blocs' text (normalised, see [`crate::skills::normalise_into`])
/// covers a skill: at least 60 % of the skill's significant words (four
/// letters or more) appear in it.
pub fn covers(blocs: &str, skill: &str) -> bool {
    let words: Vec<String> = crate::skills::normalise(skill)
        .split(' ')
        .filter(|w| w.len() >= 4)
        .map(|w| format!(" {w} "))
        .collect();
    if words.is_empty() {
        return false;
    }
    let present = words.iter().filter(|w| blocs.contains(w.as_str())).count();
    present * 10 >= words.len() * 6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(
        rome: &'a str,
        place: (&'a str, &'a str),
        period: &'a str,
        indicator: &'a str,
        value: Option<f64>,
        level: Option<i64>,
    ) -> LocalValue<'a> {
        LocalValue {
            code_rome: rome,
            territory_type: place.0,
            territory_code: place.1,
            period,
            indicator,
            value,
            level,
        }
    }

    #[test]
    fn weighted_levels_round_and_fall_back_to_equal_weights() {
        assert_eq!(weighted_level(&[]), None);
        assert_eq!(weighted_level(&[(5, 30.0), (1, 10.0)]), Some(4));
        assert_eq!(
            weighted_level(&[(5, 0.0), (2, 0.0)]),
            Some(4),
            "3.5 rounds up"
        );
        assert_eq!(weighted_level(&[(1, 0.0), (2, 0.0)]), Some(2));
    }

    #[test]
    fn coverage_needs_most_significant_words() {
        let blocs = crate::skills::normalise("Réaliser des soins d'hygiène et de confort");
        assert!(covers(&blocs, "Soins d'hygiène, de confort"));
        assert!(!covers(&blocs, "Gestes d'urgence et de secours"));
        assert!(!covers(&blocs, "de la"));
    }

    #[test]
    fn the_narrowest_territory_with_levels_wins_and_wider_ones_are_ignored() {
        let values = [
            value(
                "J1501",
                ("departement", "973"),
                "2020",
                "TENSION",
                None,
                Some(1),
            ),
            value("J1501", ("bassin", "B1"), "2020", "TENSION", None, Some(5)),
            value(
                "J1501",
                ("bassin", "B1"),
                "2020",
                "OFFRES",
                Some(10.0),
                None,
            ),
            value(
                "J1501",
                ("zone_emploi", "Z"),
                "2020",
                "OFFRES",
                Some(99.0),
                None,
            ),
        ];
        assert_eq!(narrowest_territory(&values), Some("bassin"));
        let gathered = gather(&values, |_| true);
        let m = &gathered["J1501"];
        assert_eq!(
            m.level(Some("2020")),
            Some(5),
            "the département's 1 is not mixed in"
        );
        assert_eq!(
            m.periods["2020"],
            vec![(5, 10.0)],
            "weighted by the bassin's offers"
        );
        assert_eq!(
            m.summed(None, false),
            Some(109.0),
            "offers sum over every type"
        );
        assert_eq!(narrowest_territory(&values[..0]), None);
    }

    #[test]
    fn levels_are_weighted_by_offers_of_the_same_place_and_period() {
        let values = [
            value("K1302", ("bassin", "A"), "2020", "TENSION", None, Some(5)),
            value("K1302", ("bassin", "A"), "2020", "OFFRES", Some(30.0), None),
            value("K1302", ("bassin", "B"), "2020", "TENSION", None, Some(1)),
            value("K1302", ("bassin", "B"), "2020", "OFFRES", Some(10.0), None),
            value(
                "K1302",
                ("bassin", "B"),
                "2019",
                "OFFRES",
                Some(1000.0),
                None,
            ),
            value(
                "K1302",
                ("bassin", "A"),
                "2020",
                "DEFM_ABC",
                Some(5.0),
                None,
            ),
            value(
                "K1302",
                ("bassin", "B"),
                "2020",
                "DEFM_ABC",
                Some(50.0),
                None,
            ),
            value(
                "K1302",
                ("bassin", "A"),
                "2020",
                "PERSPECTIVE",
                None,
                Some(2),
            ),
            value(
                "K1302",
                ("national", "FR"),
                "2021",
                "BMO_DIFFICILE_PCT",
                Some(61.5),
                None,
            ),
        ];
        let m = &gather(&values, |_| true)["K1302"];
        let shown = m.shown_period(None);
        assert_eq!(shown.as_deref(), Some("2020"));
        assert_eq!(m.level(shown.as_deref()), Some(4), "(5·30 + 1·10) / 40 = 4");
        assert_eq!(
            m.place_levels(shown.as_deref()),
            vec![("A".to_owned(), 5), ("B".to_owned(), 1)]
        );
        assert_eq!(m.dimension_level(shown.as_deref(), "PERSPECTIVE"), Some(2));
        assert_eq!(m.summed(shown.as_deref(), true), Some(55.0));
        assert_eq!(m.bmo_pct["2021"], 61.5);
        let duncan = m.geographic_mismatch(shown.as_deref()).unwrap();
        assert!(duncan > 0.5 && duncan < 1.0, "{duncan}");
        assert_eq!(m.shown_period(Some("2019")), None, "no level in 2019");
    }

    #[test]
    fn metiers_outside_the_filter_are_left_out() {
        let values = [value(
            "J1501",
            ("bassin", "A"),
            "2020",
            "TENSION",
            None,
            Some(3),
        )];
        assert!(gather(&values, |c| c.starts_with('K')).is_empty());
    }

    #[test]
    fn demand_takes_one_source_in_order_never_a_sum() {
        assert_eq!(
            demand(Some(4), Some(90.0), 12),
            (Some(4.0), DemandSource::Survey)
        );
        assert_eq!(
            demand(None, Some(90.0), 12),
            (Some(90.0), DemandSource::Bmo)
        );
        assert_eq!(demand(None, None, 12), (Some(12.0), DemandSource::Postings));
        assert_eq!(demand(None, None, 0), (None, DemandSource::None));
        assert_eq!(DemandSource::Survey.label(), "enquête du campus");
    }

    #[test]
    fn supply_splits_places_evenly_over_metiers() {
        assert_eq!(split_supply(Some(30), 3), 10.0);
        assert_eq!(split_supply(None, 2), 0.0);
        assert_eq!(split_supply(Some(30), 0), 0.0);
    }
}
