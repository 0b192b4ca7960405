//! Matching the text of job postings against the ROME 4.0 compétences and
//! savoirs labels.
//!
//! Both the labels and the text go through the same French normalisation
//! ([`normalise_into`]): lower case, accents and ligatures folded, elided
//! articles (`l'`, `d'`, `qu'`…) dropped, plurals reduced (`soins` → `soin`,
//! `généraux` → `general`), every run of other characters turned into one
//! space. A label then matches where its words appear in the text in the
//! same order, as whole words. The labels' words are numbered and the
//! labels stored as a trie over those numbers, so that matching costs about
//! two hash lookups per word of text, whatever the number of labels.
//!
//! The matcher is built once per import and shared by the worker threads.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use unicode_normalization::UnicodeNormalization;

/// Calls `each` with every normalised word of `input`, in order; `word` is
/// a reusable buffer.
pub fn for_each_word(input: &str, word: &mut String, mut each: impl FnMut(&str)) {
    word.clear();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            // The common case, one byte at a time.
            if b.is_ascii_alphanumeric() {
                word.push(char::from(b.to_ascii_lowercase()));
            } else if !word.is_empty() {
                emit(word, &mut each);
            }
            i += 1;
            continue;
        }
        let c = input[i..].chars().next().expect("a char starts here");
        i += c.len_utf8();
        match c {
            // French letters folded directly; others through NFD.
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => word.push('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => word.push('e'),
            'î' | 'ï' | 'Î' | 'Ï' => word.push('i'),
            'ô' | 'ö' | 'Ô' | 'Ö' => word.push('o'),
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => word.push('u'),
            'ç' | 'Ç' => word.push('c'),
            'ÿ' | 'Ÿ' => word.push('y'),
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
            _ if !word.is_empty() => emit(word, &mut each),
            _ => {}
        }
    }
    if !word.is_empty() {
        emit(word, &mut each);
    }
}

/// Appends the normalised words of `input` to `out`, each preceded by a
/// space, and ends with a space: « L'aide aux soins » gives
/// ` aide aux soin `.
pub fn normalise_into(input: &str, out: &mut String) {
    if !out.ends_with(' ') {
        out.push(' ');
    }
    let mut word = String::with_capacity(32);
    for_each_word(input, &mut word, |w| {
        out.push_str(w);
        out.push(' ');
    });
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

/// Passes the word (unless elided) with its plural reduced, then clears it.
fn emit(word: &mut String, each: &mut impl FnMut(&str)) {
    let w: &str = word;
    if !is_elision(w) {
        if w.len() > 4 && w.ends_with("aux") {
            // chevaux → cheval, généraux → general; both sides alike.
            let mut reduced = String::with_capacity(w.len());
            reduced.push_str(&w[..w.len() - 3]);
            reduced.push_str("al");
            each(&reduced);
        } else if w.len() > 3 && (w.ends_with('s') || w.ends_with('x')) && !w.ends_with("ss") {
            each(&w[..w.len() - 1]);
        } else {
            each(w);
        }
    }
    word.clear();
}

/// Buffers a matcher reuses from one text to the next.
#[derive(Debug, Default)]
pub struct MatchScratch {
    word: String,
    ids: Vec<u32>,
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
    /// Word of a label → its number.
    words: FxHashMap<Box<str>, u32>,
    /// Trie: (node, word number) → child node; node 0 is the root.
    edges: FxHashMap<(u32, u32), u32>,
    /// Code of the label ending at each node, if one does.
    ends: Vec<Option<i64>>,
    /// Whether a label starts with the word of this number (saves the
    /// root lookup for the many words that only occur inside labels).
    starts: Vec<bool>,
    /// Labels looked for in text.
    patterns: usize,
    /// Normalised label → code, for the labels of coded skills.
    by_label: HashMap<String, i64>,
}

/// Labels shorter than this (normalised, spaces excluded) are not looked
/// for in free text: two- or three-letter words match everywhere.
const MIN_LABEL_CHARS: usize = 4;

impl SkillMatcher {
    /// Builds the trie over the labels. Labels that normalise to the same
    /// words keep the first code given.
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
        // A stable order, so that node numbers do not depend on hashing.
        patterns.sort_unstable();
        let mut words: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut edges: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        let mut ends: Vec<Option<i64>> = vec![None];
        for (label, code) in &patterns {
            let mut node = 0u32;
            for w in label.split(' ').filter(|w| !w.is_empty()) {
                let next_word = words.len() as u32;
                let id = *words.entry(w.into()).or_insert(next_word);
                let next_node = ends.len() as u32;
                node = *edges.entry((node, id)).or_insert_with(|| {
                    ends.push(None);
                    next_node
                });
            }
            let end = &mut ends[node as usize];
            if end.is_none() {
                *end = Some(*code);
            }
        }
        let mut starts = vec![false; words.len()];
        for &(node, word) in edges.keys() {
            if node == 0 {
                starts[word as usize] = true;
            }
        }
        Self {
            words,
            edges,
            ends,
            starts,
            patterns: patterns.len(),
            by_label,
        }
    }

    /// How many labels are looked for in text.
    pub fn len(&self) -> usize {
        self.patterns
    }

    /// Whether no label is looked for.
    pub fn is_empty(&self) -> bool {
        self.patterns == 0
    }

    /// The code of a label given as is (a posting's `competences[].libelle`
    /// without a code), if it names a known skill.
    pub fn code_of_label(&self, label: &str) -> Option<i64> {
        self.by_label.get(&normalise(label)).copied()
    }

    /// Appends to `found` the codes of every label present in `texts`
    /// (each normalised on the fly; a label does not span two texts); codes
    /// may repeat, and a label inside a longer one is found too.
    pub fn find(&self, texts: &[&str], scratch: &mut MatchScratch, found: &mut Vec<i64>) {
        let MatchScratch { word, ids } = scratch;
        ids.clear();
        for text in texts {
            // Word numbers of the text; `u32::MAX` for words of no label.
            for_each_word(text, word, |w| {
                ids.push(self.words.get(w).copied().unwrap_or(u32::MAX))
            });
            ids.push(u32::MAX);
        }
        for start in 0..ids.len() {
            let first = ids[start];
            if first == u32::MAX || !self.starts[first as usize] {
                continue;
            }
            let mut node = 0u32;
            for &id in &ids[start..] {
                if id == u32::MAX {
                    break;
                }
                match self.edges.get(&(node, id)) {
                    Some(&next) => {
                        node = next;
                        if let Some(code) = self.ends[node as usize] {
                            found.push(code);
                        }
                    }
                    None => break,
                }
            }
        }
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
        m.find(&[text], &mut MatchScratch::default(), &mut out);
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
        assert_eq!(normalise("ÉLÈVE Ñandú Ÿ"), " eleve nandu y ");
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
