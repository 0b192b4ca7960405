//! ROME 4.0 (France Travail), version v460: fiches métiers, appellations,
//! compétences and savoirs, mobilités, centres d'intérêt.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use domain::refdata::{
    DatasetInfo, DomaineProfessionnel, GrandDomaine, InterestCentre, Mobility, Occupation,
    OccupationInterest, OccupationSkill, OccupationTitle, QualityIssue, Skill, SkillKind,
};

use super::source::{clean_text, non_empty, Checksum, GzFile, Table};
use super::RefError;

/// The ROME version the shipped files carry in their names.
const ROME_VERSION: &str = "v460";

const GRAND_DOMAINE: &str = "rome4/unix_grand_domaine_v460_utf8.csv.gz";
const DOMAINE: &str = "rome4/unix_domaine_professionnel_v460_utf8.csv.gz";
const CODE_ROME: &str = "rome4/unix_referentiel_code_rome_v460_utf8.csv.gz";
const TEXTE: &str = "rome4/unix_texte_v460_utf8.csv.gz";
const APPELLATION: &str = "rome4/unix_referentiel_appellation_v460_utf8.csv.gz";
const COMPETENCE: &str = "rome4/unix_referentiel_competence_v460_utf8.csv.gz";
const SAVOIR: &str = "rome4/unix_referentiel_savoir_v460_utf8.csv.gz";
const COHERENCE: &str = "rome4/unix_coherence_item_v460_utf8.csv.gz";
const MOBILITE: &str = "rome4/unix_rubrique_mobilite_v460_utf8.csv.gz";
const CENTRE_INTERET: &str = "rome4/unix_centre_interet_v460_utf8.csv.gz";
const ARBO_CENTRE_INTERET: &str = "rome4/unix_arborescence_centre_interet_v460_utf8.csv.gz";

/// The ROME 4.0 data set.
#[derive(Debug, Clone)]
pub struct Rome {
    /// Provenance (`rome4`, version `v460`).
    pub info: DatasetInfo,
    /// The 14 grands domaines.
    pub grands_domaines: Vec<GrandDomaine>,
    /// The domaines professionnels.
    pub domaines: Vec<DomaineProfessionnel>,
    /// The 1 584 fiches; the 532 whose `code_rome_parent` is their own code
    /// are the ROME v3 codes that RNCP, Certif Info and tension data use.
    /// Définition and accès are the sentences of `unix_texte`, one per line.
    pub occupations: Vec<Occupation>,
    /// Appellations.
    pub titles: Vec<OccupationTitle>,
    /// Compétences (savoir-faire, savoir-être, macro-compétences; category
    /// `cat_comp`) and savoirs (category `categorie_savoir`).
    pub skills: Vec<Skill>,
    /// Fiche ↔ compétence or savoir, from `unix_coherence_item`; `core` when
    /// `coeur_metier` is filled (`Principale` or `Émergente`).
    pub occupation_skills: Vec<OccupationSkill>,
    /// Number of `unix_coherence_item` rows left out because their item is
    /// neither a compétence nor a savoir (they are contextes de travail).
    pub other_item_links: usize,
    /// Mobilités from a fiche to another, with their rank.
    pub mobilities: Vec<Mobility>,
    /// Centres d'intérêt.
    pub interests: Vec<InterestCentre>,
    /// Centre d'intérêt ↔ fiche.
    pub occupation_interests: Vec<OccupationInterest>,
    /// Rows whose link could not be made.
    pub issues: Vec<QualityIssue>,
}

impl Rome {
    /// Every ROME 4.0 code, parent or child fiche, the set that Certif Info
    /// and RNCP links are checked against.
    pub fn known_codes(&self) -> HashSet<String> {
        self.occupations
            .iter()
            .map(|o| o.code_rome.clone())
            .collect()
    }
}

/// Loads `rome4/` from the data directory.
pub fn load_rome(dir: &Path) -> Result<Rome, RefError> {
    let mut sum = Checksum::new();
    let names = [
        GRAND_DOMAINE,
        DOMAINE,
        CODE_ROME,
        TEXTE,
        APPELLATION,
        COMPETENCE,
        SAVOIR,
        COHERENCE,
        MOBILITE,
        CENTRE_INTERET,
        ARBO_CENTRE_INTERET,
    ];
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        files.push(GzFile::open(dir, name, &mut sum)?);
    }
    let [gd_f, dp_f, code_f, texte_f, app_f, comp_f, sav_f, coh_f, mob_f, ci_f, arbo_f]: [GzFile;
        11] = match files.try_into() {
        Ok(f) => f,
        Err(_) => unreachable!("one file per name"),
    };

    let mut issues = Vec::new();
    let grands_domaines = read_grands_domaines(&gd_f)?;
    let domaines = read_domaines(&dp_f, &grands_domaines, &mut issues)?;
    let mut occupations = read_occupations(&code_f, &mut issues)?;
    let index: HashMap<String, usize> = occupations
        .iter()
        .enumerate()
        .map(|(i, o)| (o.code_rome.clone(), i))
        .collect();
    read_texts(&texte_f, &mut occupations, &index, &mut issues)?;
    let titles = read_titles(&app_f, &index, &mut issues)?;
    let mut skills = Vec::with_capacity(34_000);
    let mut skill_lines: HashMap<i64, (&'static str, u64)> = HashMap::with_capacity(34_000);
    read_competences(&comp_f, &mut skills, &mut skill_lines)?;
    read_savoirs(&sav_f, &mut skills, &mut skill_lines)?;
    let (occupation_skills, other_item_links) =
        read_coherence(&coh_f, &index, &skill_lines, &mut issues)?;
    let mobilities = read_mobilities(&mob_f, &index, &mut issues)?;
    let interests = read_interests(&ci_f)?;
    let occupation_interests = read_occupation_interests(&arbo_f, &interests, &index, &mut issues)?;

    Ok(Rome {
        info: DatasetInfo {
            name: "rome4".to_owned(),
            title: "ROME 4.0 — Répertoire opérationnel des métiers et des emplois".to_owned(),
            version: ROME_VERSION.to_owned(),
            published_on: "2025-11-13".to_owned(),
            source: "France Travail, « Toutes les données du ROME » (CSV unix_*), via github.com/tomjoy75/code_rome 2c4b4c6 et github.com/PSID-miage/guide-carriere 44601dc"
                .to_owned(),
            licence: "Licence Ouverte / Etalab 2.0 (France Travail – ROME)".to_owned(),
            checksum: sum.finish(),
        },
        grands_domaines,
        domaines,
        occupations,
        titles,
        skills,
        occupation_skills,
        other_item_links,
        mobilities,
        interests,
        occupation_interests,
        issues,
    })
}

fn read_grands_domaines(file: &GzFile) -> Result<Vec<GrandDomaine>, RefError> {
    let (mut t, [c_code, c_label]) =
        Table::open(file, b',', ["code_grand_domaine", "libelle_grand_domaine"])?;
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    while t.next()? {
        let code = t.get(c_code);
        if code.len() != 1 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(t.invalid(c_code, "une lettre de grand domaine"));
        }
        if let Some(&first) = seen.get(code) {
            return Err(t.duplicate(c_code, first));
        }
        seen.insert(code.to_owned(), t.line());
        out.push(GrandDomaine {
            code: code.to_owned(),
            label: t.get(c_label).to_owned(),
        });
    }
    Ok(out)
}

fn read_domaines(
    file: &GzFile,
    grands: &[GrandDomaine],
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<DomaineProfessionnel>, RefError> {
    let (mut t, [c_code, c_label]) = Table::open(
        file,
        b',',
        [
            "code_domaine_professionnel",
            "libelle_domaine_professionnel",
        ],
    )?;
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    while t.next()? {
        let code = t.get(c_code);
        let b = code.as_bytes();
        if b.len() != 3 || !b[0].is_ascii_uppercase() || !b[1..].iter().all(u8::is_ascii_digit) {
            return Err(t.invalid(
                c_code,
                "un code de domaine professionnel (lettre et 2 chiffres)",
            ));
        }
        if let Some(&first) = seen.get(code) {
            return Err(t.duplicate(c_code, first));
        }
        if !grands.iter().any(|g| g.code == code[..1]) {
            issues.push(t.issue(c_code, format!("grand domaine « {} » inconnu", &code[..1])));
        }
        seen.insert(code.to_owned(), t.line());
        out.push(DomaineProfessionnel {
            code: code.to_owned(),
            label: t.get(c_label).to_owned(),
        });
    }
    Ok(out)
}

/// `O` (oui) means yes; `N` and an empty field mean no.
fn yes(flag: &str) -> bool {
    flag.eq_ignore_ascii_case("O")
}

fn valid_rome(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5 && (b'A'..=b'N').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit)
}

fn read_occupations(
    file: &GzFile,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<Occupation>, RefError> {
    let (mut t, [c_code, c_ogr, c_label, c_regl, c_cadre, c_parent]) = Table::open(
        file,
        b',',
        [
            "code_rome",
            "code_ogr",
            "libelle_rome",
            "emploi_reglemente",
            "emploi_cadre",
            "code_rome_parent",
        ],
    )?;
    let mut out = Vec::with_capacity(1_600);
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(1_600);
    let mut parent_lines = Vec::with_capacity(1_600);
    while t.next()? {
        let code = t.get(c_code);
        if !valid_rome(code) {
            return Err(t.invalid(c_code, "un code ROME (lettre A à N et 4 chiffres)"));
        }
        if let Some(&first) = seen.get(code) {
            return Err(t.duplicate(c_code, first));
        }
        let parent = t.get(c_parent);
        let parent = if parent.is_empty() { code } else { parent };
        if !valid_rome(parent) {
            return Err(t.invalid(c_parent, "un code ROME (lettre A à N et 4 chiffres)"));
        }
        seen.insert(code.to_owned(), t.line());
        parent_lines.push(t.line());
        out.push(Occupation {
            code_rome: code.to_owned(),
            code_ogr: t.int(c_ogr)?,
            label: t.get(c_label).to_owned(),
            code_rome_parent: parent.to_owned(),
            emploi_reglemente: yes(t.get(c_regl)),
            emploi_cadre: yes(t.get(c_cadre)),
            definition: None,
            access: None,
        });
    }
    // Parents are checked once all fiches are known, as a child may come
    // before its parent.
    for (o, line) in out.iter().zip(parent_lines) {
        if !seen.contains_key(&o.code_rome_parent) {
            issues.push(QualityIssue {
                file: file.name.clone(),
                line,
                field: "code_rome_parent".to_owned(),
                message: format!(
                    "la fiche {} a pour parent {}, qui n'est pas une fiche",
                    o.code_rome, o.code_rome_parent
                ),
            });
        }
    }
    Ok(out)
}

/// Définition and accès: one row per sentence, put back in order and joined
/// with line breaks so that each sentence stays a line of its own.
fn read_texts(
    file: &GzFile,
    occupations: &mut [Occupation],
    index: &HashMap<String, usize>,
    issues: &mut Vec<QualityIssue>,
) -> Result<(), RefError> {
    let (mut t, [c_code, c_type, c_pos, c_text]) = Table::open(
        file,
        b',',
        [
            "code_rome",
            "libelle_type_texte",
            "position_phrase",
            "libelle_texte",
        ],
    )?;
    // (fiche, is access) → (position, sentence)
    let mut parts: HashMap<(usize, bool), Vec<(i64, String)>> = HashMap::with_capacity(3_200);
    while t.next()? {
        let code = t.get(c_code);
        let Some(&i) = index.get(code) else {
            issues.push(t.issue(c_code, format!("texte d'une fiche inconnue « {code} »")));
            continue;
        };
        let access = match t.get(c_type) {
            "definition" => false,
            "acces_metier" => true,
            // Other kinds of text are not used by the project.
            _ => continue,
        };
        let pos = t.int(c_pos)?;
        let text = clean_text(t.get(c_text));
        if !text.is_empty() {
            parts.entry((i, access)).or_default().push((pos, text));
        }
    }
    for ((i, access), mut sentences) in parts {
        sentences.sort_by_key(|(pos, _)| *pos);
        let joined = sentences
            .into_iter()
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("\n");
        if access {
            occupations[i].access = Some(joined);
        } else {
            occupations[i].definition = Some(joined);
        }
    }
    Ok(())
}

fn read_titles(
    file: &GzFile,
    index: &HashMap<String, usize>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<OccupationTitle>, RefError> {
    let (mut t, [c_ogr, c_long, c_short, c_code]) = Table::open(
        file,
        b',',
        [
            "code_ogr",
            "libelle_appellation_long",
            "libelle_appellation_court",
            "code_rome",
        ],
    )?;
    let mut out = Vec::with_capacity(14_000);
    let mut seen: HashMap<i64, u64> = HashMap::with_capacity(14_000);
    while t.next()? {
        let ogr = t.int(c_ogr)?;
        if let Some(&first) = seen.get(&ogr) {
            return Err(t.duplicate(c_ogr, first));
        }
        seen.insert(ogr, t.line());
        let code = t.get(c_code);
        if !index.contains_key(code) {
            issues.push(t.issue(
                c_code,
                format!("appellation {ogr} d'une fiche inconnue « {code} »"),
            ));
            continue;
        }
        let label = t.get(c_long).to_owned();
        let short = t.get(c_short);
        out.push(OccupationTitle {
            code_ogr: ogr,
            code_rome: code.to_owned(),
            label_short: if short.is_empty() {
                label.clone()
            } else {
                short.to_owned()
            },
            label,
        });
    }
    Ok(out)
}

/// Compétences and savoirs share the `code_ogr` numbering, so one map of
/// first lines catches a code used by both files.
type SkillLines = HashMap<i64, (&'static str, u64)>;

fn add_skill(
    t: &Table<'_>,
    c_ogr: usize,
    skill: Skill,
    skills: &mut Vec<Skill>,
    lines: &mut SkillLines,
    file: &'static str,
) -> Result<(), RefError> {
    if let Some(&(first_file, first_line)) = lines.get(&skill.code_ogr) {
        if first_file != file {
            return Err(RefError::DuplicateKey {
                file: t.file().to_owned(),
                line: t.line(),
                field: t.column_name(c_ogr),
                key: format!("{}, déjà présente dans {first_file}", skill.code_ogr),
                first_line,
            });
        }
        return Err(t.duplicate(c_ogr, first_line));
    }
    lines.insert(skill.code_ogr, (file, t.line()));
    skills.push(skill);
    Ok(())
}

fn read_competences(
    file: &GzFile,
    skills: &mut Vec<Skill>,
    lines: &mut SkillLines,
) -> Result<(), RefError> {
    let (mut t, [c_ogr, c_label, c_cat]) =
        Table::open(file, b',', ["code_ogr", "libelle_competence", "cat_comp"])?;
    while t.next()? {
        let skill = Skill {
            code_ogr: t.int(c_ogr)?,
            kind: SkillKind::Competence,
            label: t.get(c_label).to_owned(),
            category: non_empty(t.get(c_cat)),
        };
        add_skill(&t, c_ogr, skill, skills, lines, COMPETENCE)?;
    }
    Ok(())
}

fn read_savoirs(
    file: &GzFile,
    skills: &mut Vec<Skill>,
    lines: &mut SkillLines,
) -> Result<(), RefError> {
    let (mut t, [c_ogr, c_label, c_cat]) = Table::open(
        file,
        b',',
        ["code_ogr_savoir", "libelle_savoir", "categorie_savoir"],
    )?;
    while t.next()? {
        let skill = Skill {
            code_ogr: t.int(c_ogr)?,
            kind: SkillKind::Savoir,
            label: t.get(c_label).to_owned(),
            category: non_empty(t.get(c_cat)),
        };
        add_skill(&t, c_ogr, skill, skills, lines, SAVOIR)?;
    }
    Ok(())
}

fn read_coherence(
    file: &GzFile,
    index: &HashMap<String, usize>,
    skills: &SkillLines,
    issues: &mut Vec<QualityIssue>,
) -> Result<(Vec<OccupationSkill>, usize), RefError> {
    let (mut t, [c_code, c_ogr, c_core]) =
        Table::open(file, b',', ["code_rome", "code_ogr", "coeur_metier"])?;
    let mut out = Vec::with_capacity(100_000);
    let mut seen: HashSet<(usize, i64)> = HashSet::with_capacity(100_000);
    let mut others = 0usize;
    while t.next()? {
        let code = t.get(c_code);
        let Some(&i) = index.get(code) else {
            issues.push(t.issue(c_code, format!("lien d'une fiche inconnue « {code} »")));
            continue;
        };
        let ogr = t.int(c_ogr)?;
        if !skills.contains_key(&ogr) {
            others += 1;
            continue;
        }
        if !seen.insert((i, ogr)) {
            continue;
        }
        out.push(OccupationSkill {
            code_rome: code.to_owned(),
            code_ogr: ogr,
            core: !t.get(c_core).is_empty(),
        });
    }
    Ok((out, others))
}

fn read_mobilities(
    file: &GzFile,
    index: &HashMap<String, usize>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<Mobility>, RefError> {
    let (mut t, [c_from, c_to, c_rank]) =
        Table::open(file, b',', ["code_rome", "code_rome_cible", "numero_ordre"])?;
    let mut out = Vec::with_capacity(15_000);
    let mut seen: HashSet<(usize, usize)> = HashSet::with_capacity(15_000);
    while t.next()? {
        let (from, to) = (t.get(c_from), t.get(c_to));
        let Some(&i) = index.get(from) else {
            issues.push(t.issue(
                c_from,
                format!("mobilité depuis une fiche inconnue « {from} »"),
            ));
            continue;
        };
        let Some(&j) = index.get(to) else {
            issues.push(t.issue(c_to, format!("mobilité vers une fiche inconnue « {to} »")));
            continue;
        };
        let rank = t.int(c_rank)?;
        if seen.insert((i, j)) {
            out.push(Mobility {
                code_rome: from.to_owned(),
                target_code_rome: to.to_owned(),
                rank,
            });
        }
    }
    Ok(out)
}

fn read_interests(file: &GzFile) -> Result<Vec<InterestCentre>, RefError> {
    let (mut t, [c_code, c_label, c_def]) = Table::open(
        file,
        b',',
        [
            "code_centre_interet",
            "libelle_centre_interet",
            "definition_centre_interet",
        ],
    )?;
    let mut out = Vec::new();
    let mut seen: HashMap<i64, u64> = HashMap::new();
    while t.next()? {
        let code = t.int(c_code)?;
        if let Some(&first) = seen.get(&code) {
            return Err(t.duplicate(c_code, first));
        }
        seen.insert(code, t.line());
        out.push(InterestCentre {
            code,
            label: t.get(c_label).to_owned(),
            definition: non_empty(t.get(c_def)),
        });
    }
    Ok(out)
}

fn read_occupation_interests(
    file: &GzFile,
    interests: &[InterestCentre],
    index: &HashMap<String, usize>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<OccupationInterest>, RefError> {
    let (mut t, [c_interest, c_code, c_principal]) = Table::open(
        file,
        b',',
        ["code_centre_interet", "code_rome", "principal"],
    )?;
    let known: HashSet<i64> = interests.iter().map(|i| i.code).collect();
    let mut out = Vec::with_capacity(4_500);
    let mut seen: HashSet<(i64, usize)> = HashSet::with_capacity(4_500);
    while t.next()? {
        let interest = t.int(c_interest)?;
        if !known.contains(&interest) {
            issues.push(t.issue(
                c_interest,
                format!("centre d'intérêt inconnu « {interest} »"),
            ));
            continue;
        }
        let code = t.get(c_code);
        let Some(&i) = index.get(code) else {
            issues.push(t.issue(
                c_code,
                format!("centre d'intérêt lié à une fiche inconnue « {code} »"),
            ));
            continue;
        };
        if seen.insert((interest, i)) {
            out.push(OccupationInterest {
                interest_code: interest,
                code_rome: code.to_owned(),
                principal: t.get(c_principal).eq_ignore_ascii_case("oui"),
            });
        }
    }
    Ok(out)
}
