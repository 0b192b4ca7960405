//! French text normalisation shared by search, skill matching and content
//! keys: lower case, accents folded, ligatures expanded, elisions dropped.

use unicode_normalization::UnicodeNormalization;

/// Folds a string for comparison: lower case, no diacritics, `œ` → `oe`,
/// `æ` → `ae`, punctuation turned into single spaces.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut space = true;
    for c in input.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let lower = c.to_lowercase();
        for l in lower {
            match l {
                'œ' => out.push_str("oe"),
                'æ' => out.push_str("ae"),
                c if c.is_alphanumeric() => {
                    out.push(c);
                    space = false;
                }
                _ => {
                    if !space {
                        out.push(' ');
                        space = true;
                    }
                }
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Splits folded text into words, dropping French elisions (`l'`, `d'`,
/// `qu'`…) so that « l'aide-soignant » gives `aide` and `soignant`.
pub fn words(input: &str) -> Vec<String> {
    let folded = fold(&input.replace(['\'', '’'], "' "));
    folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .filter(|w| !matches!(*w, "l" | "d" | "j" | "m" | "n" | "s" | "t" | "c" | "qu"))
        .map(str::to_owned)
        .collect()
}

/// Builds a URL slug from a title: folded words joined by dashes.
pub fn slug(input: &str) -> String {
    words(input).join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_ligatures() {
        assert_eq!(fold("Éducatrice spécialisée"), "educatrice specialisee");
        assert_eq!(fold("Cœur de métier — Œuvre"), "coeur de metier oeuvre");
        assert_eq!(fold("  Aide-soignant(e) "), "aide soignant e");
    }

    #[test]
    fn drops_elisions() {
        assert_eq!(
            words("L'aide à l’enfance d'abord"),
            ["aide", "a", "enfance", "abord"]
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("BTS Économie sociale familiale"),
            "bts-economie-sociale-familiale"
        );
    }
}
