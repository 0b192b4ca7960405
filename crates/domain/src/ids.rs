//! Validated French identifiers. Each newtype can only be built through its
//! `parse` function, so a value of that type is known to be well-formed.

use std::fmt;

/// Why an identifier typed by a person or read from a file was refused.
/// The message is in French because it is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Wrong number of characters.
    #[error("{kind} doit comporter {expected} caractères, {found} trouvés")]
    Length {
        kind: &'static str,
        expected: usize,
        found: usize,
    },
    /// A character that is not allowed at that place.
    #[error("{kind} ne doit contenir que des chiffres{extra}")]
    NotDigits {
        kind: &'static str,
        extra: &'static str,
    },
    /// The control key does not match.
    #[error("la clé de contrôle du {kind} est fausse ({detail})")]
    BadKey { kind: &'static str, detail: String },
    /// The value does not follow the expected shape.
    #[error("{kind} mal formé : {detail}")]
    Format { kind: &'static str, detail: String },
}

/// Strips the spaces people put in identifiers (`130 005 481 00010`).
fn compact(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '.')
        .collect()
}

/// Luhn checksum over a string of ASCII digits.
fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// SIREN of La Poste. Its establishments are too numerous for the Luhn key,
/// so INSEE numbers them with another rule: the digits of the SIRET sum to a
/// multiple of 5. This is the one documented exception.
const LA_POSTE_SIREN: &str = "356000000";

/// A SIRET: 14 digits, SIREN (9) + NIC (5), with a Luhn key over the whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret(String);

impl Siret {
    /// Parses and validates a SIRET, ignoring spaces.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = compact(input);
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::NotDigits {
                kind: "le SIRET",
                extra: "",
            });
        }
        if s.len() != 14 {
            return Err(IdError::Length {
                kind: "Le SIRET",
                expected: 14,
                found: s.len(),
            });
        }
        let ok = if s.starts_with(LA_POSTE_SIREN) {
            let sum: u32 = s.bytes().map(|b| u32::from(b - b'0')).sum();
            sum.is_multiple_of(5)
        } else {
            luhn_ok(&s) && luhn_ok(&s[..9])
        };
        if !ok {
            return Err(IdError::BadKey {
                kind: "SIRET",
                detail: "le numéro ne respecte pas l'algorithme de Luhn".into(),
            });
        }
        Ok(Self(s))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SIREN, the first 9 digits.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Letters used by the UAI check key (I, O and Q are left out).
const UAI_KEYS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A UAI (unité administrative immatriculée, ex-RNE): 7 digits and a check
/// letter equal to `UAI_KEYS[n mod 23]` where `n` is the 7 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uai(String);

impl Uai {
    /// Parses and validates a UAI; the letter may be typed in lower case.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = compact(input).to_ascii_uppercase();
        if s.chars().count() != 8 {
            return Err(IdError::Length {
                kind: "L'UAI",
                expected: 8,
                found: s.chars().count(),
            });
        }
        // Eight characters may be more than eight bytes: check the digits
        // by character before anything is cut at a byte offset.
        if !s.chars().take(7).all(|c| c.is_ascii_digit()) {
            return Err(IdError::NotDigits {
                kind: "l'UAI",
                extra: " suivis d'une lettre",
            });
        }
        let b = s.as_bytes();
        let n = b[..7]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        let expected = UAI_KEYS[(n % 23) as usize] as char;
        if !s[7..].starts_with(expected) {
            return Err(IdError::BadKey {
                kind: "UAI",
                detail: format!("la lettre attendue est {expected}"),
            });
        }
        Ok(Self(s))
    }

    /// The 8 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A ROME code: a letter A–N, then four digits (`J1506`). Used for both ROME
/// v3 codes and ROME 4.0 fiches, whose parent codes are the v3 ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeRome(String);

impl CodeRome {
    /// Parses a ROME code; it says why a truncated or pseudo code is refused.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let well_formed =
            b.len() == 5 && (b'A'..=b'N').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(IdError::Format {
                kind: "code ROME",
                detail: format!("« {s} » n'est pas une lettre suivie de 4 chiffres"),
            });
        }
        if s.ends_with("00") {
            return Err(IdError::Format {
                kind: "code ROME",
                detail: format!("« {s} » est un pseudo-code de domaine, pas une fiche"),
            });
        }
        Ok(Self(s))
    }

    /// The five characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CodeRome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An INSEE commune code (code officiel géographique): five characters,
/// digits except `2A`/`2B` for Corsica, `97x` overseas.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeInsee(String);

impl CodeInsee {
    /// Parses the shape of a commune code; whether it exists is a question for
    /// the reference data.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        // Compared as bytes: five bytes need not be five characters.
        let ok = b.len() == 5
            && (b[..2].iter().all(u8::is_ascii_digit) || &b[..2] == b"2A" || &b[..2] == b"2B")
            && b[2..].iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(IdError::Format {
                kind: "code commune INSEE",
                detail: format!("« {s} » n'a pas la forme 5 chiffres (ou 2A/2B + 3 chiffres)"),
            });
        }
        Ok(Self(s))
    }

    /// The five characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Département code of the commune (`973`, `2A`, `75`).
    pub fn departement(&self) -> &str {
        if self.0.starts_with("97") || self.0.starts_with("98") {
            &self.0[..3]
        } else {
            &self.0[..2]
        }
    }
}

impl fmt::Display for CodeInsee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siret_luhn() {
        // SIRET of INSEE's head office, public.
        assert!(Siret::parse("120 027 016 00050").is_ok());
        assert!(matches!(
            Siret::parse("12002701600051"),
            Err(IdError::BadKey { .. })
        ));
        assert!(matches!(
            Siret::parse("1200270160005"),
            Err(IdError::Length { found: 13, .. })
        ));
        assert!(matches!(
            Siret::parse("1200270160005A"),
            Err(IdError::NotDigits { .. })
        ));
    }

    #[test]
    fn siret_la_poste_exception() {
        // La Poste: the digits sum to a multiple of 5, Luhn does not hold.
        let s = "35600000000010";
        assert!(!luhn_ok(s));
        assert!(Siret::parse(s).is_ok());
        assert!(Siret::parse("35600000000011").is_err());
    }

    #[test]
    fn uai_key() {
        assert_eq!(Uai::parse("9730235t").unwrap().as_str(), "9730235T");
        let e = Uai::parse("9730235A").unwrap_err();
        assert!(e.to_string().contains("lettre attendue est T"), "{e}");
        assert!(Uai::parse("973023T").is_err());
        // Multi-byte characters at every place: refused, never a panic.
        for s in ["012345é7", "0123456é", "é1234567", "0123456\u{301}"] {
            assert!(Uai::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn rome_codes() {
        assert!(CodeRome::parse("j1506").is_ok());
        assert!(CodeRome::parse("J15").is_err());
        assert!(CodeRome::parse("J1500").is_err());
        assert!(CodeRome::parse("Z1506").is_err());
    }

    #[test]
    fn insee_codes() {
        assert_eq!(CodeInsee::parse("97311").unwrap().departement(), "973");
        assert_eq!(CodeInsee::parse("2A004").unwrap().departement(), "2A");
        assert!(CodeInsee::parse("9731").is_err());
        for s in ["2é12", "é123", "12é4", "2A\u{301}1"] {
            assert!(CodeInsee::parse(s).is_err(), "{s}");
        }
    }
}
