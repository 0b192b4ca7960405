//! French text normalisation shared by search, skill matching and content
//! keys: lower case, accents folded, ligatures expanded, elisions dropped.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Folds a string for comparison: lower case, no diacritics, `œ` → `oe`,
/// `æ` → `ae`, punctuation turned into single spaces.
pub fn fold(input: &str) -> String {
    // Most cells of an import are ASCII (codes, « oui », « continue »): no
    // decomposition and no combining mark can occur, and this path is
    // several times cheaper than the Unicode one, with the same result.
    if input.is_ascii() {
        let mut out = String::with_capacity(input.len());
        let mut space = true;
        for b in input.bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b.to_ascii_lowercase()));
                space = false;
            } else if !space {
                out.push(' ');
                space = true;
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
        return out;
    }
    fold_unicode(input)
}

/// [`fold`] for any text.
fn fold_unicode(input: &str) -> String {
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

/// Characters that make a spreadsheet read a cell as a formula (or, for tab
/// and carriage return, shift it into one), after OWASP's « CSV injection »
/// guidance, with their full-width forms (`＝＋－＠`), which spreadsheets with
/// an East Asian input method also take as formula starts.
fn is_formula_start(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}'
    )
}

/// A plain decimal number with an optional sign (`-2.5`, `+3`, `-0,75`):
/// a spreadsheet reads it as a number literal, which can neither call a
/// function nor refer to a cell, so it is left as is.
fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match body.split_once(['.', ',']) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Neutralises a free-text cell written to a CSV, XLSX or ODS file so that a
/// spreadsheet never runs it as a formula (OWASP « CSV injection »): a value
/// starting with `=`, `+`, `-`, `@`, a tab, a carriage return or a full-width
/// `＝＋－＠` gets a single quote `'` in front.
///
/// Two choices make the escaping exactly reversible by [`spreadsheet_unescape`]:
/// - a plain decimal number with a sign (`-2.5`, `+33`, `-0,5`: ASCII digits,
///   at most one `.` or `,`, nothing else) is kept as is: a spreadsheet reads
///   it as a number literal, which cannot call a function or refer to a cell,
///   and prefixing it would turn figures into text;
/// - a value that already starts with a quote followed by one of those
///   characters, or by another quote, gets one more quote, so that a name
///   typed as `'=x` comes back as `'=x`.
pub fn spreadsheet_safe(s: &str) -> Cow<'_, str> {
    let mut chars = s.chars();
    let needs_quote = match chars.next() {
        Some('\'') => chars
            .next()
            .is_some_and(|c| c == '\'' || is_formula_start(c)),
        Some(c) => is_formula_start(c) && !is_plain_number(s),
        None => false,
    };
    if needs_quote {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Undoes [`spreadsheet_safe`] on a cell read from a file: drops one leading
/// quote when it is followed by a formula character or by another quote.
/// A quote before anything else (`'t Hooft`, `'0123`) is data and stays.
pub fn spreadsheet_unescape(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(|c: char| c == '\'' || is_formula_start(c)) => rest,
        _ => s,
    }
}

/// Why a free text was refused by [`check_text`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A control character (U+0000 to U+001F other than tab, line feed and
    /// carriage return): PostgreSQL refuses NUL, XML refuses them all, and
    /// none of them is typed on purpose.
    #[error("caractère de contrôle interdit (U+{code:04X}) en position {position}")]
    Control {
        /// Code point of the character.
        code: u32,
        /// Position of the character in the text, counted in characters from 1.
        position: usize,
    },
}

/// Checks a free text (a name, an address, a description, a cell) before it
/// is stored: both databases must accept it and give it back unchanged.
/// Refuses NUL and the other C0 control characters except tab, line feed and
/// carriage return.
pub fn check_text(value: &str) -> Result<(), TextError> {
    let bad = |c: char| c < ' ' && !matches!(c, '\t' | '\n' | '\r');
    if !value.bytes().any(|b| bad(char::from(b))) {
        return Ok(());
    }
    match value.chars().enumerate().find(|(_, c)| bad(*c)) {
        Some((i, c)) => Err(TextError::Control {
            code: u32::from(c),
            position: i + 1,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fold_is_the_unicode_fold() {
        // Every string of one or two ASCII characters, and some words.
        let mut cases: Vec<String> = Vec::new();
        for a in 0u8..128 {
            cases.push(char::from(a).to_string());
            for b in 0u8..128 {
                cases.push([char::from(a), char::from(b)].iter().collect());
            }
        }
        cases.extend(
            [
                "  Aide-Soignant(e)  ",
                "BTS SP3S",
                "l'eau, le feu",
                "x\t\ny",
                "A1;B2",
                "",
            ]
            .map(String::from),
        );
        for c in &cases {
            assert_eq!(fold(c), fold_unicode(c), "{c:?}");
        }
    }

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

    #[test]
    fn spreadsheet_escaping_round_trips() {
        for (raw, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("＝1+1", "'＝1+1"),
            ("-2.5", "-2.5"),
            ("+33", "+33"),
            ("-0,5", "-0,5"),
            ("-", "'-"),
            ("-1e5", "'-1e5"),
            ("'=x", "''=x"),
            ("''", "'''"),
            ("'t Hooft", "'t Hooft"),
            ("Lycée", "Lycée"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(raw), written, "{raw:?}");
            assert_eq!(spreadsheet_unescape(written), raw, "{written:?}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(check_text("Lycée\tpro\r\nligne").is_ok());
        let e = check_text("éb\0c").unwrap_err();
        assert_eq!(
            e,
            TextError::Control {
                code: 0,
                position: 3
            }
        );
        assert!(e.to_string().contains("U+0000"), "{e}");
        assert!(check_text("\u{1b}[31m").is_err());
    }
}
