//! The French text analyzer shared by indexing and querying.
//!
//! Both sides must produce exactly the same terms, so the query parser never
//! builds terms by hand: it runs the user's text through [`french`] too.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter,
    TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Name under which the analyzer is registered in the index.
pub(crate) const FRENCH: &str = "passerelle_fr";

/// Words that carry no meaning for a search in French titles. The list is kept
/// short on purpose: the snowball list also drops words such as « son »
/// (technicien du son) or « été » that are real content in training titles.
/// Entries are folded because the filter runs after ascii folding.
const STOP_WORDS: &[&str] = &[
    "a", "au", "aux", "avec", "chez", "dans", "de", "des", "du", "en", "et", "la", "le", "les",
    "ou", "par", "pour", "sans", "sous", "sur", "un", "une",
];

/// Particles that French writes elided before a vowel (« l'aide », « qu'il »,
/// « jusqu'au »). Compared in lower case, before folding, so the apostrophe
/// check sees the original text.
const ELIDED: &[&str] = &[
    "c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
];

/// Builds the French analyzer: words, elisions dropped, lower case, accents
/// folded, short stop list, snowball French stemmer.
///
/// Folding runs before stemming so that a query typed without accents
/// (`educatrice`) is stemmed exactly like the accented original.
pub(crate) fn french() -> TextAnalyzer {
    TextAnalyzer::builder(ElisionTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .filter(Stemmer::new(Language::French))
        .build()
}

/// Runs `text` through `analyzer` and returns the distinct terms in order of
/// first appearance.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let text = &stream.token().text;
        if !out.iter().any(|t| t == text) {
            out.push(text.clone());
        }
    }
    out
}

/// Splits on anything that is not alphanumeric, like tantivy's simple
/// tokenizer, but drops a French elided particle when an apostrophe follows
/// it. Doing it here rather than with a stop list keeps lone letters that are
/// real words elsewhere (« langage C », « permis B »).
#[derive(Clone, Default)]
pub(crate) struct ElisionTokenizer {
    token: Token,
}

/// Token stream of [`ElisionTokenizer`].
pub(crate) struct ElisionTokenStream<'a> {
    text: &'a str,
    /// Byte offset where the scan resumes.
    cursor: usize,
    token: &'a mut Token,
}

impl Tokenizer for ElisionTokenizer {
    type TokenStream<'a> = ElisionTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ElisionTokenStream<'a> {
        self.token.reset();
        ElisionTokenStream {
            text,
            cursor: 0,
            token: &mut self.token,
        }
    }
}

impl ElisionTokenStream<'_> {
    /// Finds the next alphanumeric run at or after the cursor and moves the
    /// cursor past it.
    fn next_word(&mut self) -> Option<(usize, usize)> {
        let rest = &self.text[self.cursor..];
        let start = self.cursor + rest.find(char::is_alphanumeric)?;
        let end = self.text[start..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(self.text.len(), |i| start + i);
        self.cursor = end;
        Some((start, end))
    }

    fn is_elision(&self, start: usize, end: usize) -> bool {
        let next = self.text[end..].chars().next();
        if !matches!(next, Some('\'' | '’' | 'ʼ')) {
            return false;
        }
        let word = &self.text[start..end];
        // Particles are at most 6 ASCII letters; skip the allocation otherwise.
        word.len() <= 6 && ELIDED.iter().any(|p| p.eq_ignore_ascii_case(word))
    }
}

impl TokenStream for ElisionTokenStream<'_> {
    fn advance(&mut self) -> bool {
        while let Some((start, end)) = self.next_word() {
            if self.is_elision(start, end) {
                continue;
            }
            self.token.text.clear();
            self.token.text.push_str(&self.text[start..end]);
            self.token.offset_from = start;
            self.token.offset_to = end;
            self.token.position = self.token.position.wrapping_add(1);
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str) -> Vec<String> {
        terms(&mut french(), text)
    }

    #[test]
    fn drops_elisions_but_keeps_lone_letters() {
        assert_eq!(analyze("L'aide d’urgence"), analyze("aide urgence"));
        assert_eq!(analyze("jusqu'au langage C"), ["langag", "c"]);
    }

    #[test]
    fn folds_accents_before_stemming() {
        assert_eq!(analyze("Éducatrice"), analyze("educatrice"));
        assert_eq!(analyze("Œuvre"), analyze("oeuvre"));
    }

    #[test]
    fn stems_plurals() {
        assert_eq!(analyze("soins infirmiers"), analyze("soin infirmier"));
    }

    #[test]
    fn removes_stop_words_and_duplicates() {
        assert_eq!(
            analyze("Technicien de la maintenance du son"),
            ["technicien", "mainten", "son"]
        );
        assert_eq!(analyze("soin soins"), ["soin"]);
    }
}
