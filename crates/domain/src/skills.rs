//! Matching the text of job postings against the ROME 4.0 compétences and
//! savoirs labels.
//!
//! Both the labels and the text go through the same French normalisation
//! ([`normalise_into`]): lower case, accents and ligatures folded, elided
//! articles (`l'`, `d'`, `qu'`…) dropped, plurals reduced (`soins` → `soin`,
//! `généraux` → `general`), every run of other characters turned into one
//! space. A label then matches where its words appear in the text in the
//! same order, as whole words. One Aho-Corasick automaton holds every label,
//! so the cost is one pass over the text whatever the number of labels.
//!
//! The matcher is built once per import and shared by the worker threads.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use unicode_normalization::UnicodeNormalization;

/// Appends the normalised words of `input` to `out`, each preceded by a
/// space, and ends with a space: « L'aide aux soins » gives
/// ` aide aux soin `.
pub fn normalise_into(input: &str, out: &mut String) {
    let mut word = String::with_capacity(32);
    if !out.ends_with(' ') {
        out.push(' ');
    }
    for c in input.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                word.push(c.to_ascii_lowercase());
            } else {
                flush_word(&mut word, out);
            }
            continue;
        }
        match c {
            'œ' | 'Œ' => word.push_str("oe"),
            'æ' | 'Æ' => word.push_str("ae"),
            c if c.is_alphanumeric() => {
                for d in std::iter::once(c).nfd() {
                    if unicode_normalization::char::is_combining_mark(d) {
                        continue;
                    }
                    for l in d.to_lowercase() {
                        word.push(l);
                    }
                }
            }
            _ => flush_word(&mut word, out),
        }
    }
    flush_word(&mut word, out);
}

/// The normalised form of `input` on its own (see [`normalise_into`]).
pub fn normalise(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 2);
    normalise_into(input, &mut out);
    out
}

/// Elided or one-letter words that carry no meaning for matching.
fn is_elision(word: &str) -> bool {
    matches!(
        word,
        "l" | "d" | "j" | "m" | "n" | "s" | "t" | "c" | "qu" | "lorsqu" | "puisqu" | "jusqu"
    )
}

/// Writes the word (if any) with its plural reduced, then clears it.
fn flush_word(word: &mut String, out: &mut String) {
    if word.is_empty() || is_elision(word) {
        word.clear();
        return;
    }
    let w: &str = word;
    let reduced = if w.len() > 4 && w.ends_with("aux") {
        // chevaux → cheval, généraux → general; both sides alike.
        Some(format!("{}al", &w[..w.len() - 3]))
    } else if w.len() > 3 && (w.ends_with('s') || w.ends_with('x')) && !w.ends_with("ss") {
        Some(w[..w.len() - 1].to_owned())
    } else {
        None
    };
    out.push_str(reduced.as_deref().unwrap_or(w));
    out.push(' ');
    word.clear();
}

/// One label to look for, with the code it stands for.
#[derive(Debug, Clone)]
pub struct SkillLabel {
    /// The ROME `code_ogr` of the compétence or savoir.
    pub code_ogr: i64,
    /// Its label as published.
    pub label: String,
}

/// Finds ROME compétences and savoirs in free text.
pub struct SkillMatcher {
    automaton: AhoCorasick,
    /// Code of each pattern, by pattern index.
    codes: Vec<i64>,
    /// Normalised label → code, for the labels of coded skills.
    by_label: HashMap<String, i64>,
}

/// Labels shorter than this (normalised, spaces excluded) are not looked
/// for in free text: two- or three-letter words match everywhere.
const MIN_LABEL_CHARS: usize = 4;

impl SkillMatcher {
    /// Builds the automaton over the labels. Labels that normalise to the
    /// same words keep the first code given.
    pub fn new(labels: &[SkillLabel]) -> Self {
        let mut by_label = HashMap::with_capacity(labels.len());
        for l in labels {
            by_label.entry(normalise(&l.label)).or_insert(l.code_ogr);
        }
        let mut patterns: Vec<(&str, i64)> = by_label
            .iter()
            .filter(|(k, _)| k.chars().filter(|c| *c != ' ').count() >= MIN_LABEL_CHARS)
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        // A stable order, so that pattern indexes do not depend on hashing.
        patterns.sort_unstable();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns.iter().map(|(p, _)| p.as_bytes()))
            .or_else(|_| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(patterns.iter().map(|(p, _)| p.as_bytes()))
            })
            .expect("the labels build an automaton");
        let codes = patterns.iter().map(|(_, c)| *c).collect();
        Self {
            automaton,
            codes,
            by_label,
        }
    }

    /// How many labels are looked for in text.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether no label is looked for.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The code of a label given as is (a posting's `competences[].libelle`
    /// without a code), if it names a known skill.
    pub fn code_of_label(&self, label: &str) -> Option<i64> {
        self.by_label.get(&normalise(label)).copied()
    }

    /// Appends to `found` the codes of every label present in the already
    /// normalised `text` (see [`normalise_into`]); codes may repeat.
    pub fn find_normalised(&self, text: &str, found: &mut Vec<i64>) {
        // Labels begin and end with a space, and adjacent labels share one:
        // overlapping search finds both.
        for m in self.automaton.find_overlapping_iter(text.as_bytes()) {
            found.push(self.codes[m.pattern().as_usize()]);
        }
    }

    /// Normalises `text` into `scratch` and appends the codes found.
    pub fn find(&self, text: &str, scratch: &mut String, found: &mut Vec<i64>) {
        scratch.clear();
        normalise_into(text, scratch);
        self.find_normalised(scratch, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> SkillMatcher {
        SkillMatcher::new(&[
            SkillLabel {
                code_ogr: 1,
                label: "Techniques de soins".into(),
            },
            SkillLabel {
                code_ogr: 2,
                label: "Règles d'hygiène et de sécurité".into(),
            },
            SkillLabel {
                code_ogr: 3,
                label: "Anglais".into(),
            },
            SkillLabel {
                code_ogr: 4,
                label: "Soin".into(),
            },
            SkillLabel {
                code_ogr: 5,
                label: "Art".into(),
            },
        ])
    }

    fn found(m: &SkillMatcher, text: &str) -> Vec<i64> {
        let mut out = Vec::new();
        m.find(text, &mut String::new(), &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn normalises_case_accents_elisions_and_plurals() {
        assert_eq!(normalise("L'aide aux SOINS"), " aide aux soin ");
        assert_eq!(
            normalise("Règles d’hygiène, sécurité."),
            " regle hygiene securite "
        );
        assert_eq!(normalise("Cœur de métier"), " coeur de metier ");
        assert_eq!(normalise("Contrôles généraux"), " controle general ");
        assert_eq!(normalise("classe"), " classe ");
        assert_eq!(normalise(""), " ");
    }

    #[test]
    fn finds_multi_word_labels_whatever_the_form() {
        let m = matcher();
        assert_eq!(
            found(
                &m,
                "Vous maîtrisez les TECHNIQUES DE SOIN et les règles d'hygiène et de sécurité."
            ),
            [1, 2, 4]
        );
        // Whole words only: « anglaise » is not « anglais », « partir » holds no « art ».
        assert_eq!(found(&m, "cuisine anglaise, partir tôt"), Vec::<i64>::new());
        // Adjacent labels sharing a space are both found.
        assert_eq!(found(&m, "anglais soins"), [3, 4]);
        // Too short to be looked for in text, still known by its label.
        assert_eq!(m.code_of_label("ART"), Some(5));
        assert_eq!(m.len(), 4);
    }
}
