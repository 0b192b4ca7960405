//! Property tests: every public parser and validator of `domain` takes any
//! Unicode text (combining marks, NUL and other controls, emoji, multi-byte
//! characters at every position) and answers with a value or a typed error,
//! never a panic.

use std::collections::HashSet;

use domain::accounts::{check_password, normalize_email, Role};
use domain::network::chrono_free::Date;
use domain::network::{check_text_field, FormationInput, MemberInput, SessionInput};
use domain::skills::{normalise, MatchScratch, SkillLabel, SkillMatcher};
use domain::survey::{aggregate, suppression, Answer, AnswerInput};
use domain::tension::{compute, duncan_index, ComponentRow};
use domain::text::{
    check_text, fold, slug, spreadsheet_safe, spreadsheet_unescape, words, TextError,
};
use domain::{
    CodeInsee, CodeRome, Level, MemberKind, Modality, Pathway, PublicationStatus, Sector, Siret,
    Uai,
};
use proptest::prelude::*;

/// Characters that break byte-offset code: multi-byte letters, combining
/// marks, controls, emoji (with joiners), full-width forms, quotes.
const NASTY: &[char] = &[
    '\0',
    '\t',
    '\n',
    '\r',
    '\u{1b}',
    '\u{7f}',
    'é',
    'É',
    '\u{301}',
    '\u{308}',
    'œ',
    'ß',
    'İ',
    '€',
    '😀',
    '\u{200d}',
    '👩',
    '\u{fe0f}',
    '＝',
    '＋',
    '－',
    '＠',
    '\'',
    '’',
    '=',
    '+',
    '-',
    '@',
    ' ',
    '\u{a0}',
    '.',
    ',',
    '/',
    'A',
    'T',
    '2',
    '9',
    '\u{10ffff}',
    '\u{fffd}',
];

/// One character: any scalar value, a nasty one or a digit (digits reach the
/// deeper paths of identifier parsers).
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => any::<char>(),
        2 => proptest::sample::select(NASTY),
        2 => proptest::char::range('0', '9'),
        1 => proptest::char::range('a', 'z'),
    ]
}

/// Any text up to `max` characters.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

/// A well-shaped identifier (`len` digits) with one character replaced by
/// any character, at any place.
fn near_digits(len: usize) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(proptest::char::range('0', '9'), len),
        0..len,
        any_char(),
        any::<bool>(),
    )
        .prop_map(|(mut digits, at, c, insert)| {
            if insert {
                digits.insert(at, c);
            } else {
                digits[at] = c;
            }
            digits.into_iter().collect()
        })
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text(24))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn identifiers_never_panic(s in text(20), d8 in near_digits(8), d5 in near_digits(5), d14 in near_digits(14)) {
        for input in [&s, &d8, &d5, &d14] {
            let _ = Siret::parse(input).map(|v| v.siren().len());
            let _ = Uai::parse(input);
            let _ = CodeRome::parse(input);
            if let Ok(c) = CodeInsee::parse(input) {
                prop_assert!(!c.departement().is_empty());
            }
            let _ = Level::parse(input);
            let _ = Date::parse(input);
            let _ = Sector::parse(input);
            let _ = MemberKind::parse(input);
            let _ = Pathway::parse(input);
            let _ = Modality::parse(input);
            let _ = PublicationStatus::parse(input);
            let _ = Role::parse(input);
            let _ = Role::from_name(input);
        }
    }

    #[test]
    fn uai_with_any_eighth_character(digits in "[0-9]{7}", c in any_char()) {
        let _ = Uai::parse(&format!("{digits}{c}"));
        let _ = Uai::parse(&format!("{c}{digits}"));
    }

    #[test]
    fn text_folding_never_panics(s in text(40)) {
        let folded = fold(&s);
        prop_assert!(!folded.ends_with(' '));
        let _ = words(&s);
        let _ = slug(&s);
        let n = normalise(&s);
        prop_assert!(n.starts_with(' ') && n.ends_with(' '));
    }

    #[test]
    fn spreadsheet_escaping_is_reversible(s in text(24)) {
        let safe = spreadsheet_safe(&s);
        prop_assert_eq!(spreadsheet_unescape(&safe), s.as_str());
        // What is written never starts a formula.
        let first = safe.chars().next();
        prop_assert!(
            !matches!(first, Some('=' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠'))
                && (!matches!(first, Some('+' | '-')) || safe.chars().skip(1).all(|c| c.is_ascii_digit() || c == '.' || c == ','))
        );
    }

    #[test]
    fn check_text_finds_every_control(s in text(32)) {
        let has_control = s.chars().any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'));
        match check_text(&s) {
            Ok(()) => prop_assert!(!has_control),
            Err(TextError::Control { code, position }) => {
                prop_assert!(has_control);
                prop_assert_eq!(s.chars().nth(position - 1).map(u32::from), Some(code));
            }
        }
        let _ = check_text_field("nom", &s);
    }

    #[test]
    fn email_and_password_checks_never_panic(email in text(40), password in text(140)) {
        let _ = normalize_email(&email);
        let common: HashSet<String> = ["motdepasse123".to_owned()].into();
        let _ = check_password(&password, &email, &common);
    }

    #[test]
    fn input_validators_never_panic(
        name in text(24), siret in opt_text(), uai in opt_text(), insee in opt_text(),
        address in opt_text(), postcode in opt_text(), website in opt_text(),
        description in opt_text(), key in opt_text(), romes in proptest::collection::vec(text(8), 0..3),
        numbers in proptest::collection::vec(any::<i64>(), 8),
    ) {
        let member = MemberInput {
            name: name.clone(),
            kind: MemberKind::Lycee,
            siret,
            uai,
            code_insee: insee.clone(),
            address,
            postcode,
            website,
            description: description.clone(),
            joined_on: Date::new(2020, 1, 1),
            left_on: Date::new(2019, 12, 31),
            status: PublicationStatus::Draft,
            invented: false,
        };
        let _ = member.validate();
        let formation = FormationInput {
            title: name,
            certification_code: Some(numbers[0]),
            level: Level::new(4),
            pathway: Pathway::School,
            modality: Modality::OnSite,
            provider_id: numbers[1],
            site_code_insee: insee.clone(),
            capacity: Some(numbers[2]),
            duration_hours: Some(numbers[3]),
            description: description.clone(),
            status: PublicationStatus::Published,
            rome_codes: romes.clone(),
            external_key: key,
            invented: false,
        };
        let _ = formation.validate();
        let session = SessionInput {
            starts_on: Date::new(2025, 9, 1).unwrap(),
            ends_on: Date::new(2025, 1, 1),
            places: Some(numbers[4]),
        };
        let _ = session.validate();
        let answer = AnswerInput {
            code_rome: romes.first().cloned().unwrap_or_default(),
            code_insee: insee,
            planned: numbers[4],
            difficult: numbers[5],
            seasonal: numbers[6],
            apprentices: numbers[7],
            tutors: numbers[0],
            comment: description,
        };
        let _ = answer.validate();
    }

    #[test]
    fn skills_matcher_never_panics(labels in proptest::collection::vec(text(20), 0..6), texts in proptest::collection::vec(text(60), 0..3)) {
        let labels: Vec<SkillLabel> = labels
            .into_iter()
            .enumerate()
            .map(|(i, label)| SkillLabel { code_ogr: i as i64, label })
            .collect();
        let matcher = SkillMatcher::new(&labels);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        matcher.find(&texts, &mut MatchScratch::default(), &mut found);
        for t in &texts {
            let _ = matcher.code_of_label(t);
        }
        // Each label fed back as a text.
        for l in &labels {
            let mut found = Vec::new();
            matcher.find(&[&l.label], &mut MatchScratch::default(), &mut found);
        }
    }

    #[test]
    fn figures_never_panic(
        values in proptest::collection::vec(any::<f64>(), 0..6),
        other in proptest::collection::vec(any::<f64>(), 0..6),
        counts in proptest::collection::vec((0i64..4, any::<i64>()), 0..8),
        territory in text(6),
    ) {
        let _ = suppression(&values);
        let _ = duncan_index(&values, &other);
        let answers: Vec<Answer> = counts
            .iter()
            .map(|&(respondent, n)| Answer {
                respondent,
                territory: territory.clone(),
                code_rome: "J1501".into(),
                planned: n,
                difficult: n,
                seasonal: n,
                apprentices: n,
                tutors: n,
            })
            .collect();
        let _ = aggregate(&answers);
        let rows: Vec<ComponentRow> = values
            .iter()
            .zip(&other)
            .enumerate()
            .map(|(i, (a, b))| ComponentRow {
                line: i + 2,
                code_rome: "J1501".into(),
                territory_type: territory.clone(),
                territory_code: format!("T{i}"),
                period: 2020 + (i as i32 % 2),
                offers: Some(*a),
                jobseekers_a: Some(*b),
                outflow_rate: Some(*a),
                difficult_share: Some(*b),
            })
            .collect();
        let _ = compute(&rows, &(2020..=2020));
    }
}

/// One respondent's answers in a random survey: a territory, and planned
/// hires per métier (absent when the respondent did not answer for it).
fn respondent() -> impl Strategy<Value = (usize, Vec<Option<i64>>)> {
    (
        0usize..5,
        proptest::collection::vec(
            proptest::option::weighted(0.7, prop_oneof![Just(0i64), 0i64..4, 0i64..60]),
            3,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Complementary suppression: whatever the survey, no hidden planned
    /// figure can be computed from what an observer sees (the cells per
    /// territory and the campus-wide total per métier), and no cell hidden
    /// by the primary rule is ever shown.
    #[test]
    fn no_suppressed_survey_cell_is_derivable(respondents in proptest::collection::vec(respondent(), 0..14)) {
        const TERRITORIES: [&str; 5] = ["971", "972", "973", "974", ""];
        const ROMES: [&str; 3] = ["J1501", "K1302", "D1208"];
        let mut answers = Vec::new();
        for (r, (territory, planned)) in respondents.iter().enumerate() {
            for (rome, planned) in ROMES.iter().zip(planned) {
                if let Some(planned) = planned {
                    answers.push(Answer {
                        respondent: r as i64,
                        territory: TERRITORIES[*territory].into(),
                        code_rome: (*rome).into(),
                        planned: *planned,
                        difficult: 0,
                        seasonal: 0,
                        apprentices: 0,
                        tutors: 0,
                    });
                }
            }
        }
        let t = domain::survey::tabulate(&answers);
        prop_assert!(!domain::survey::derivable(&t), "{:?}", t);
        for primary in aggregate(&answers).iter().filter(|c| c.suppressed.is_some()) {
            let shown = t
                .cells
                .iter()
                .find(|c| c.code_rome == primary.code_rome && c.territory == primary.territory);
            prop_assert!(shown.is_some_and(|c| c.suppressed.is_some()));
        }
    }
}

proptest! {
    /// Whatever the levels and weights (zero, huge, subnormal), a weighted
    /// level is a level: 1 to 5, between the smallest and largest given.
    #[test]
    fn weighted_level_stays_within_the_levels_given(
        levels in prop::collection::vec((1i64..=5, prop_oneof![Just(0.0), 0.0f64..1e12]), 0..20)
    ) {
        let got = domain::observatory::weighted_level(&levels);
        prop_assert_eq!(got.is_some(), !levels.is_empty());
        if let Some(l) = got {
            let lo = levels.iter().map(|x| x.0).min().unwrap();
            let hi = levels.iter().map(|x| x.0).max().unwrap();
            prop_assert!((lo..=hi).contains(&i64::from(l)), "{l} not in {lo}..={hi}");
        }
    }

    /// Splitting a formation's places over its métiers keeps its total.
    #[test]
    fn supply_split_keeps_the_places(places in 0i64..100_000, metiers in 1usize..50) {
        let each = domain::observatory::split_supply(Some(places), metiers);
        prop_assert!((each * metiers as f64 - places as f64).abs() < 1e-6);
    }

    /// Coverage never panics on any text, and a skill is covered by its own
    /// label whenever it has a significant word.
    #[test]
    fn a_skill_covers_itself(skill in text(60)) {
        let mut blocs = String::from(" ");
        domain::skills::normalise_into(&skill, &mut blocs);
        let significant = normalise(&skill).split(' ').any(|w| w.len() >= 4);
        prop_assert_eq!(domain::observatory::covers(&blocs, &skill), significant);
    }
}
