//! Reading job postings in the France Travail « offres d'emploi v2 » JSON
//! format: a JSON array of offers, or one offer per line (JSON lines).
//!
//! Only what the observatory uses is kept (see [`Posting`]): the `contact`
//! field (a recruiter's name, e-mail, phone) is never read into memory, the
//! employer's name only feeds the fingerprint that meets the same offer
//! published through two sources. Unknown fields are ignored, missing
//! optional ones tolerated; `id`, `intitule` and `dateCreation` are required.
//!
//! Skills come from the coded `competences` (their `code` is a ROME
//! `code_ogr`; one without a code is looked up by its label) and from the
//! title and description matched against the ROME labels
//! ([`domain::skills::SkillMatcher`]).
//!
//! Files are parsed on every core: the bytes are cut at line ends into one
//! chunk per thread, and each chunk's postings come back in file order.

use std::borrow::Cow;

pub use domain::postings::Posting;
use domain::skills::SkillMatcher;
use serde::Deserialize;

/// One offer as read, with borrowed strings where the JSON has no escapes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPosting<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    intitule: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    date_creation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    date_actualisation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    lieu_travail: Option<RawPlace<'a>>,
    #[serde(borrow, default)]
    rome_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    entreprise: Option<RawCompany<'a>>,
    #[serde(borrow, default)]
    type_contrat: Option<Cow<'a, str>>,
    #[serde(default)]
    nombre_postes: Option<i64>,
    #[serde(borrow, default)]
    competences: Option<Vec<RawSkill<'a>>>,
    #[serde(borrow, default)]
    origine_offre: Option<RawOrigin<'a>>,
    /// Passerelle's own mark on generated offers (`passerelle demo postings`).
    #[serde(default)]
    synthetique: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPlace<'a> {
    #[serde(borrow, default)]
    code_postal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    commune: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawCompany<'a> {
    #[serde(borrow, default)]
    nom: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawSkill<'a> {
    /// A `code_ogr`, written as a string or a number by publishers.
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(borrow, default)]
    libelle: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawOrigin<'a> {
    #[serde(borrow, default)]
    origine: Option<Cow<'a, str>>,
}

use crate::limits::{thousands, MAX_POSTING_BYTES};

/// A posting that cannot be read, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PostingProblem {
    /// 1-based line in the file.
    pub line: usize,
    /// What is wrong, in French.
    pub message: String,
}

/// Most problems listed before the reader stops looking.
const MAX_PROBLEMS: usize = 20;

/// Reads every posting of a file (array or JSON lines). All or nothing: a
/// single bad posting makes the whole file refused, with up to 20 problems.
pub fn read_postings(
    bytes: &[u8],
    matcher: &SkillMatcher,
    threads: usize,
) -> Result<Vec<Posting>, Vec<PostingProblem>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let empty = || {
        Err(vec![PostingProblem {
            line: 1,
            message: "le fichier ne contient aucune offre (fichier vide ou tableau JSON vide) : rien à importer".into(),
        }])
    };
    if bytes.get(start) == Some(&b'[') {
        return match read_array(bytes, matcher) {
            Ok(p) if p.is_empty() => empty(),
            r => r,
        };
    }
    let chunks = split_lines(bytes, threads.max(1));
    let results: Vec<Result<Vec<Posting>, Vec<PostingProblem>>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&(first_line, chunk)| s.spawn(move || read_lines(chunk, first_line, matcher)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a posting reader thread panicked"))
            .collect()
    });
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok(p) => out.extend(p),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        if out.is_empty() {
            return empty();
        }
        Ok(out)
    } else {
        problems.sort_by_key(|p| p.line);
        problems.truncate(MAX_PROBLEMS);
        Err(problems)
    }
}

/// Cuts `bytes` into about `n` chunks at line ends, each with the number of
/// its first line.
fn split_lines(bytes: &[u8], n: usize) -> Vec<(usize, &[u8])> {
    let mut chunks = Vec::with_capacity(n);
    let mut start = 0;
    let mut line = 1;
    for i in 1..=n {
        let mut end = if i == n {
            bytes.len()
        } else {
            (bytes.len() * i / n).max(start)
        };
        if end < bytes.len() {
            end = memchr_newline(&bytes[end..]).map_or(bytes.len(), |p| end + p + 1);
        }
        let chunk = &bytes[start..end];
        chunks.push((line, chunk));
        line += memchr::memchr_iter(b'\n', chunk).count();
        start = end;
        if start >= bytes.len() {
            break;
        }
    }
    chunks
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// The lines of a chunk (without their `\n`), found with SIMD search.
fn lines(chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', chunk);
    std::iter::from_fn(move || {
        if start > chunk.len() {
            return None;
        }
        let end = ends.next().unwrap_or(chunk.len());
        let line = &chunk[start..end];
        start = end + 1;
        Some(line)
    })
}

/// Reads one chunk of JSON lines.
fn read_lines(
    chunk: &[u8],
    first_line: usize,
    matcher: &SkillMatcher,
) -> Result<Vec<Posting>, Vec<PostingProblem>> {
    let mut out = Vec::with_capacity(chunk.len() / 1200 + 1);
    let mut problems = Vec::new();
    let mut scratch = Scratch::default();
    for (i, raw_line) in lines(chunk).enumerate() {
        let line = first_line + i;
        let trimmed = raw_line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.len() > MAX_POSTING_BYTES {
            problems.push(PostingProblem {
                line,
                message: format!(
                    "offre de {} octets, plus que la limite de {} octets par offre",
                    thousands(trimmed.len() as u64),
                    thousands(MAX_POSTING_BYTES as u64)
                ),
            });
            break;
        }
        match serde_json::from_slice::<RawPosting>(trimmed) {
            Ok(raw) => match convert(raw, matcher, &mut scratch) {
                Ok(p) => out.push(p),
                Err(m) => problems.push(PostingProblem { line, message: m }),
            },
            Err(e) => problems.push(PostingProblem {
                line,
                message: format!("JSON illisible (colonne {}) : {e}", e.column()),
            }),
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Reads a JSON array of offers, naming each bad one by its line.
fn read_array(bytes: &[u8], matcher: &SkillMatcher) -> Result<Vec<Posting>, Vec<PostingProblem>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        vec![PostingProblem {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            message: "le texte n'est pas en UTF-8".into(),
        }]
    })?;
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let read = crate::referentiels::source::json_array_bounded(
        "",
        text,
        MAX_POSTING_BYTES,
        |raw: RawPosting, line| {
            match convert(raw, matcher, &mut scratch) {
                Ok(p) => out.push(p),
                Err(message) => problems.push(PostingProblem {
                    line: line as usize,
                    message,
                }),
            }
            Ok(())
        },
    );
    if let Err(crate::referentiels::RefError::Json {
        line,
        column,
        reason,
        ..
    }) = read
    {
        problems.push(PostingProblem {
            line: line as usize,
            message: format!("JSON illisible (colonne {column}) : {reason}"),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.truncate(MAX_PROBLEMS);
        Err(problems)
    }
}

/// Buffers reused from one posting to the next.
#[derive(Default)]
struct Scratch {
    matching: domain::skills::MatchScratch,
    skills: Vec<i64>,
}

fn required<'a>(value: &'a Option<Cow<'a, str>>, field: &str) -> Result<&'a str, String> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("champ « {field} » absent ou vide")),
    }
}

fn non_empty(value: &Option<Cow<'_, str>>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn convert(
    raw: RawPosting<'_>,
    matcher: &SkillMatcher,
    scratch: &mut Scratch,
) -> Result<Posting, String> {
    let id = required(&raw.id, "id")?.to_owned();
    let title = required(&raw.intitule, "intitule")?.to_owned();
    let created = required(&raw.date_creation, "dateCreation")?;
    let month = month_of(created)
        .ok_or_else(|| format!("dateCreation « {created} » : attendu une date AAAA-MM-JJ…"))?;
    let code_rome = non_empty(&raw.rome_code);
    if let Some(code) = &code_rome {
        if domain::CodeRome::parse(code).is_err() {
            return Err(format!("romeCode « {code} » n'est pas un code ROME"));
        }
    }
    let (code_insee, postcode) = match &raw.lieu_travail {
        Some(p) => (non_empty(&p.commune), non_empty(&p.code_postal)),
        None => (None, None),
    };
    let positions = match raw.nombre_postes {
        None => 1,
        Some(n) if n >= 1 => n,
        Some(n) => return Err(format!("nombrePostes {n} : attendu un entier ≥ 1")),
    };
    // Skills: coded ones, labels without a code, then the free text.
    scratch.skills.clear();
    for s in raw.competences.iter().flatten() {
        let code = match &s.code {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(t)) => t.trim().parse().ok(),
            _ => None,
        };
        if let Some(c) =
            code.or_else(|| s.libelle.as_deref().and_then(|l| matcher.code_of_label(l)))
        {
            scratch.skills.push(c);
        }
    }
    let description_text = raw.description.as_deref().unwrap_or("");
    matcher.find(
        &[&title, description_text],
        &mut scratch.matching,
        &mut scratch.skills,
    );
    scratch.skills.sort_unstable();
    scratch.skills.dedup();

    let company = raw
        .entreprise
        .as_ref()
        .and_then(|e| e.nom.as_deref())
        .unwrap_or("");
    let description = raw.description.as_deref().unwrap_or("");
    let mut fp = Fnv::new();
    for part in [
        domain::skills::normalise(&title).as_str(),
        domain::skills::normalise(company).as_str(),
        code_insee.as_deref().or(postcode.as_deref()).unwrap_or(""),
        code_rome.as_deref().unwrap_or(""),
    ] {
        fp.write(part.as_bytes());
        fp.write(b"\x1f");
    }
    // The description's words, not its spacing or punctuation.
    fp.write(domain::skills::normalise(description).as_bytes());
    let fingerprint = fp.hex();

    let origin = raw
        .origine_offre
        .as_ref()
        .and_then(|o| non_empty(&o.origine));
    let contract = non_empty(&raw.type_contrat);
    for (field, value) in [
        ("id", Some(id.as_str())),
        ("intitule", Some(title.as_str())),
        ("origineOffre.origine", origin.as_deref()),
        ("lieuTravail.commune", code_insee.as_deref()),
        ("lieuTravail.codePostal", postcode.as_deref()),
        ("typeContrat", contract.as_deref()),
    ] {
        if let Some(Err(e)) = value.map(domain::text::check_text) {
            return Err(format!("{field} : {e}"));
        }
    }
    let mut h = Fnv::new();
    h.write(fingerprint.as_bytes());
    for part in [
        id.as_str(),
        month.as_str(),
        origin.as_deref().unwrap_or(""),
        contract.as_deref().unwrap_or(""),
        raw.date_actualisation.as_deref().unwrap_or(""),
        code_insee.as_deref().unwrap_or(""),
        postcode.as_deref().unwrap_or(""),
    ] {
        h.write(part.as_bytes());
        h.write(b"\x1f");
    }
    h.write(&positions.to_le_bytes());
    for s in &scratch.skills {
        h.write(&s.to_le_bytes());
    }
    Ok(Posting {
        id,
        origin,
        code_rome,
        title,
        code_insee,
        postcode,
        month,
        contract,
        positions,
        skills: scratch.skills.clone(),
        synthetic: raw.synthetique.unwrap_or(false),
        content_hash: h.hex(),
        fingerprint,
    })
}

/// `YYYY-MM` of an ISO date or date-time.
fn month_of(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let ok = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b"01".as_slice()..=b"12".as_slice()).contains(&&b[5..7]);
    ok.then(|| date[..7].to_owned())
}

/// FNV-1a 64, enough to tell contents apart (not a security hash).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A counting key: ROME code, zone d'emploi, month, each as short bytes.
type CountKey = ([u8; 5], [u8; 5], [u8; 7]);

fn fixed<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let b = s.as_bytes();
    let n = b.len().min(N);
    out[..n].copy_from_slice(&b[..n]);
    out
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b.split(|c| *c == 0).next().unwrap_or(b)).into_owned()
}

/// The counting step alone, for the benchmark against DuckDB: parses the
/// ROME code, commune and month of every line and counts postings per key.
/// `area` places a commune in its zone d'emploi. Keys are fixed-size byte
/// arrays in a hash map per thread, merged at the end.
pub fn count_by_rome_area_month<'m>(
    bytes: &[u8],
    area: &(dyn Fn(&str) -> Option<&'m str> + Sync),
    threads: usize,
) -> std::collections::HashMap<(String, String, String), u64> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Key<'a> {
        #[serde(borrow, default)]
        rome_code: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        date_creation: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        lieu_travail: Option<RawPlace<'a>>,
    }
    let chunks = split_lines(bytes, threads.max(1));
    let partials: Vec<rustc_hash::FxHashMap<CountKey, u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&(_, chunk)| {
                s.spawn(move || {
                    let mut counts: rustc_hash::FxHashMap<CountKey, u64> = Default::default();
                    for line in lines(chunk) {
                        let Ok(k) = serde_json::from_slice::<Key>(line) else {
                            continue;
                        };
                        let commune = k
                            .lieu_travail
                            .as_ref()
                            .and_then(|p| p.commune.as_deref())
                            .unwrap_or("");
                        let key = (
                            fixed(k.rome_code.as_deref().unwrap_or("")),
                            fixed(area(commune).unwrap_or("")),
                            fixed(k.date_creation.as_deref().unwrap_or("")),
                        );
                        *counts.entry(key).or_default() += 1;
                    }
                    counts
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("counting thread"))
            .collect()
    });
    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_default();
    for p in partials {
        for (k, v) in p {
            *total.entry(k).or_default() += v;
        }
    }
    total
        .into_iter()
        .map(|((r, z, m), v)| ((text_of(&r), text_of(&z), text_of(&m)), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::skills::SkillLabel;

    fn matcher() -> SkillMatcher {
        SkillMatcher::new(&[
            SkillLabel {
                code_ogr: 100,
                label: "Techniques de soins".into(),
            },
            SkillLabel {
                code_ogr: 200,
                label: "Gestes d'urgence et de secours".into(),
            },
        ])
    }

    const ONE: &str = r#"{"id":"1A","intitule":"Aide-soignant (H/F)","description":"Vous maîtrisez les gestes d'urgence et de secours.","dateCreation":"2026-03-04T10:00:00.000Z","lieuTravail":{"libelle":"973 - Cayenne","codePostal":"97300","commune":"97302"},"romeCode":"J1501","entreprise":{"nom":"Clinique"},"contact":{"nom":"Jeanne Fictive","courriel":"x@example.org"},"competences":[{"code":"100","libelle":"x","exigence":"E"},{"libelle":"Techniques de soins","exigence":"S"}],"nombrePostes":2,"champInconnu":[1,2]}"#;

    #[test]
    fn reads_json_lines_and_arrays_alike() {
        let m = matcher();
        let lines = format!("{ONE}\n\n{}\n", ONE.replace("\"1A\"", "\"1B\""));
        let a = read_postings(lines.as_bytes(), &m, 2).unwrap();
        let b = read_postings(
            format!("[{ONE},\n{}]", ONE.replace("\"1A\"", "\"1B\"")).as_bytes(),
            &m,
            1,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        let p = &a[0];
        assert_eq!(p.id, "1A");
        assert_eq!(p.month, "2026-03");
        assert_eq!(p.code_insee.as_deref(), Some("97302"));
        assert_eq!(p.positions, 2);
        assert_eq!(p.skills, [100, 200]);
        assert!(!p.synthetic);
        // Same offer, other id: same fingerprint, other content hash.
        assert_eq!(a[0].fingerprint, a[1].fingerprint);
        assert_ne!(a[0].content_hash, a[1].content_hash);
    }

    #[test]
    fn tolerates_missing_optional_fields() {
        let m = matcher();
        let p = read_postings(
            br#"{"id":"9","intitule":"Plombier","dateCreation":"2025-12-01"}"#,
            &m,
            1,
        )
        .unwrap();
        assert_eq!(p[0].code_rome, None);
        assert_eq!(p[0].positions, 1);
        assert!(p[0].skills.is_empty());
    }

    #[test]
    fn refuses_the_file_naming_each_bad_line() {
        let m = matcher();
        let text = format!(
            "{ONE}\n{{\"id\":\"2\",\"dateCreation\":\"2026-01-01\"}}\n{{\"id\":\"3\",\"intitule\":\"x\",\"dateCreation\":\"hier\"}}\n{{oops\n{}\n",
            ONE.replace("J1501", "J15")
        );
        let err = read_postings(text.as_bytes(), &m, 2).unwrap_err();
        let lines: Vec<usize> = err.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{err:?}");
        assert!(err[0].message.contains("intitule"));
        assert!(err[1].message.contains("dateCreation"));
        assert!(err[2].message.contains("JSON"));
        assert!(err[3].message.contains("romeCode"));
        let err = read_postings(format!("[{ONE},\n{{\"id\":5}}]").as_bytes(), &m, 1).unwrap_err();
        assert_eq!(err[0].line, 2, "{err:?}");
    }

    #[test]
    fn chunks_cover_every_line_once() {
        let text = b"a\nb\nc\nd\ne";
        for n in 1..6 {
            let chunks = split_lines(text, n);
            let joined: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect();
            assert_eq!(joined, text);
            let mut line = 1;
            for (first, c) in &chunks {
                assert_eq!(*first, line);
                line += c.iter().filter(|b| **b == b'\n').count();
            }
        }
    }

    #[test]
    fn counts_per_rome_area_and_month() {
        let text = format!("{ONE}\n{ONE}\n{}\n", ONE.replace("2026-03", "2026-04"));
        let area = |c: &str| (c == "97302").then_some("0302");
        let counts = count_by_rome_area_month(text.as_bytes(), &area, 2);
        assert_eq!(
            counts[&("J1501".into(), "0302".into(), "2026-03".into())],
            2
        );
        assert_eq!(
            counts[&("J1501".into(), "0302".into(), "2026-04".into())],
            1
        );
    }
}
