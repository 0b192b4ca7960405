//! The streaming pass: reads XML events, tells the dialect from the root,
//! builds one offer tree at a time, and hands it to the structural check and
//! the extraction.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::lines::LineCounter;
use super::model::{
    LheoFormat, LheoImport, LheoOffer, LheoRefused, ParseOptions, Problem, QualityNote, Rejection,
};
use super::tree::Node;
use super::{extract, structure, NS_1_3, NS_2_2, NS_2_3};
use crate::limits::{MAX_TEXT_BYTES, MAX_XML_DEPTH};

/// Character encodings read. quick-xml is built without its `encoding`
/// feature, so the text is decoded here; Latin-1 is still common in old
/// LHÉO exports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    /// ISO-8859-1 read as Windows-1252, its superset: files labelled
    /// Latin-1 by French tools often hold `œ`, `€` or curly quotes.
    Windows1252,
}

/// Windows-1252 characters of bytes 0x80–0x9F (undefined ones kept as the
/// C1 control of the same value).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// An element currently open, for messages about unclosed elements.
struct Open {
    name: String,
    line: u64,
}

/// Where the dialect puts its offers.
struct Layout {
    container: &'static str,
    offer: &'static str,
}

fn layout(format: LheoFormat) -> Layout {
    match format {
        LheoFormat::V1_3 => Layout {
            container: "offres",
            offer: "offre-formation",
        },
        LheoFormat::V2_2 | LheoFormat::V2_3 => Layout {
            container: "offres",
            offer: "formation",
        },
        LheoFormat::Leger => Layout {
            container: "resumes-offres",
            offer: "resume-offre",
        },
    }
}

/// Siblings that may sit next to the offers and are ignored (`extras` in
/// 2.x, `extras-offres` in 1.x, the organisations index of `lheo-index`).
fn ignorable(name: &str) -> bool {
    name.starts_with("extras") || name == "resumes-organismes"
}

struct State<'o> {
    opts: &'o ParseOptions<'o>,
    encoding: Encoding,
    format: Option<LheoFormat>,
    /// Namespace of the root; elements in another namespace are foreign.
    doc_ns: Option<Vec<u8>>,
    /// Version named by the DOCTYPE's DTD, for files that rely on the DTD's
    /// fixed `xmlns` instead of declaring it.
    doctype: Option<LheoFormat>,
    root: Option<Open>,
    root_closed: bool,
    container_seen: bool,
    offers_seen: usize,
    stack: Vec<Open>,
    /// Depth of the element whose subtree is being skipped.
    skip_from: Option<usize>,
    /// Open nodes of the offer being built; empty outside offers.
    building: Vec<Node>,
    /// Problems that refuse the file.
    problems: Vec<Problem>,
    /// Stop reading: the XML is broken or the file is not LHÉO.
    fatal: bool,
    offers: Vec<LheoOffer>,
    rejected: Vec<Rejection>,
    quality: Vec<QualityNote>,
    /// Line of the first offer with each `numero`, to refuse repeats.
    numeros: HashMap<String, u64>,
}

/// Reads a whole file; see [`super::parse_lheo_reader`].
pub(super) fn parse<R: BufRead>(
    input: R,
    opts: &ParseOptions<'_>,
) -> Result<LheoImport, LheoRefused> {
    let mut reader = NsReader::from_reader(LineCounter::new(input));
    {
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
    }
    let mut st = State {
        opts,
        encoding: Encoding::Utf8,
        format: None,
        doc_ns: None,
        doctype: None,
        root: None,
        root_closed: false,
        container_seen: false,
        offers_seen: 0,
        stack: Vec::new(),
        skip_from: None,
        building: Vec::new(),
        problems: Vec::new(),
        fatal: false,
        offers: Vec::new(),
        rejected: Vec::new(),
        quality: Vec::new(),
        numeros: HashMap::new(),
    };
    let mut buf = Vec::new();
    while !st.fatal {
        let pos = reader.buffer_position();
        reader.get_mut().mark(pos);
        let line = reader.get_ref().line_at(pos);
        match reader.read_resolved_event_into(&mut buf) {
            Err(e) => {
                let at = reader.get_ref().line_at(reader.error_position());
                let message = st.describe(&e);
                st.fail(at, message);
            }
            Ok((ns, Event::Start(e))) => {
                let ns = owned_ns(&ns);
                st.start(ns, &e, line);
            }
            Ok((ns, Event::Empty(e))) => {
                let ns = owned_ns(&ns);
                st.start(ns, &e, line);
                st.end();
            }
            Ok((_, Event::End(_))) => st.end(),
            Ok((_, Event::Text(t))) => {
                let raw = t.into_inner();
                st.text(&raw, true, line);
            }
            Ok((_, Event::CData(c))) => {
                let raw = c.into_inner();
                st.text(&raw, false, line);
            }
            Ok((_, Event::Decl(d))) => st.declaration(&d, line),
            Ok((_, Event::DocType(d))) => st.doctype = doctype_version(&d),
            Ok((_, Event::Eof)) => {
                st.eof(line);
                break;
            }
            Ok(_) => {}
        }
        buf.clear();
    }
    st.finish()
}

/// The LHÉO DTDs declare the namespace as a fixed attribute, so a file
/// validated by DTD may omit `xmlns`; the DTD's address then tells the
/// version (`…/2.3/lheo.dtd`).
fn doctype_version(d: &[u8]) -> Option<LheoFormat> {
    let d = String::from_utf8_lossy(d);
    if !d.contains("lheo") {
        return None;
    }
    [
        ("2.3", LheoFormat::V2_3),
        ("2.2", LheoFormat::V2_2),
        ("1.3", LheoFormat::V1_3),
    ]
    .into_iter()
    .find(|(v, _)| d.contains(v))
    .map(|(_, f)| f)
}

/// Namespace of an element: `Ok(None)` when unbound, `Err(prefix)` for an
/// undeclared prefix.
fn owned_ns(ns: &ResolveResult<'_>) -> Result<Option<Vec<u8>>, String> {
    match ns {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(n) => Ok(Some(n.as_ref().to_vec())),
        ResolveResult::Unknown(p) => Err(String::from_utf8_lossy(p).into_owned()),
    }
}

impl State<'_> {
    fn fail(&mut self, line: u64, message: String) {
        self.problems.push(Problem { line, message });
        self.fatal = true;
    }

    fn problem(&mut self, line: u64, message: String) {
        self.problems.push(Problem { line, message });
    }

    /// Turns a quick-xml error into a French message naming the elements.
    fn describe(&self, e: &XmlError) -> String {
        let detail = match e {
            XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                let opened = self
                    .stack
                    .last()
                    .map(|o| format!(" (ouvert ligne {})", o.line))
                    .unwrap_or_default();
                format!(
                    "balise fermante </{found}> inattendue : <{expected}>{opened} n'est pas fermé"
                )
            }
            XmlError::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
                format!("balise fermante </{name}> sans balise ouvrante")
            }
            XmlError::Syntax(SyntaxError::UnclosedTag) => {
                "balise non terminée (« > » manquant)".to_owned()
            }
            XmlError::Syntax(SyntaxError::UnclosedComment) => "commentaire non terminé".to_owned(),
            XmlError::Syntax(SyntaxError::UnclosedCData) => "section CDATA non terminée".to_owned(),
            XmlError::Syntax(s) => format!("erreur de syntaxe ({s})"),
            XmlError::InvalidAttr(a) => format!("attribut invalide ({a})"),
            other => other.to_string(),
        };
        format!("XML mal formé : {detail}")
    }

    /// The XML declaration chooses the decoding of text.
    fn declaration(&mut self, d: &quick_xml::events::BytesDecl<'_>, line: u64) {
        let Some(Ok(label)) = d.encoding() else {
            return;
        };
        let label = String::from_utf8_lossy(&label).to_ascii_lowercase();
        match label.as_str() {
            "utf-8" | "utf8" => self.encoding = Encoding::Utf8,
            "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "windows-1252" | "cp1252" => {
                self.encoding = Encoding::Windows1252;
            }
            other => self.fail(
                line,
                format!("encodage « {other} » non pris en charge (UTF-8 ou ISO-8859-1 attendu)"),
            ),
        }
    }

    fn decode<'b>(&self, raw: &'b [u8]) -> Result<Cow<'b, str>, String> {
        match self.encoding {
            Encoding::Utf8 => std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|_| "octets invalides en UTF-8 (encodage déclaré erroné ?)".to_owned()),
            Encoding::Windows1252 => Ok(Cow::Owned(
                raw.iter()
                    .map(|&b| match b {
                        0x80..=0x9f => CP1252_HIGH[usize::from(b - 0x80)],
                        _ => char::from(b),
                    })
                    .collect(),
            )),
        }
    }

    /// Decodes and unescapes character data or an attribute value.
    fn decode_text(&self, raw: &[u8], escaped: bool) -> Result<String, String> {
        let s = self.decode(raw)?;
        if !escaped {
            return Ok(s.into_owned());
        }
        quick_xml::escape::unescape(&s)
            .map(Cow::into_owned)
            .map_err(|e| format!("XML mal formé : {e}"))
    }

    fn attributes(&mut self, e: &BytesStart<'_>, line: u64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = match a {
                Ok(a) => a,
                Err(err) => {
                    self.fail(line, format!("XML mal formé : attribut invalide ({err})"));
                    break;
                }
            };
            let key = a.key.as_ref();
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                continue;
            }
            let name = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            match self.decode_text(&a.value, true) {
                Ok(v) => out.push((name, v)),
                Err(m) => {
                    self.fail(line, m);
                    break;
                }
            }
        }
        out
    }

    fn skip(&mut self) {
        self.skip_from = Some(self.stack.len() - 1);
    }

    fn start(&mut self, ns: Result<Option<Vec<u8>>, String>, e: &BytesStart<'_>, line: u64) {
        let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let depth = self.stack.len();
        if depth >= MAX_XML_DEPTH {
            // Deeper than any LHÉO file: refuse before the tree (and its
            // recursive checks) grows with it.
            return self.fail(
                line,
                format!(
                    "éléments imbriqués sur plus de {MAX_XML_DEPTH} niveaux (limite de profondeur XML ; un fichier LHÉO en compte une dizaine)"
                ),
            );
        }
        self.stack.push(Open {
            name: qname.clone(),
            line,
        });
        let ns = match ns {
            Ok(ns) => ns,
            Err(prefix) => {
                return self.fail(
                    line,
                    format!("XML mal formé : préfixe d'espace de noms « {prefix} » non déclaré"),
                )
            }
        };
        if self.skip_from.is_some() {
            return;
        }
        if depth == 0 {
            return self.root(ns, local, line);
        }
        let Some(format) = self.format else { return };
        let ours = ns == self.doc_ns;
        let layout = layout(format);
        match depth {
            _ if !ours => self.skip(),
            1 if local == layout.container => self.container_seen = true,
            1 | 2 if ignorable(&local) => self.skip(),
            1 => {
                let root_name = self.root.as_ref().map_or("", |r| r.name.as_str());
                let message = format!(
                    "élément <{local}> inattendu dans <{root_name}> : <{}> attendu",
                    layout.container
                );
                self.problem(line, message);
                self.skip();
            }
            2 if local == layout.offer => {
                self.offers_seen += 1;
                let attrs = self.attributes(e, line);
                self.building.push(Node {
                    name: local,
                    line,
                    attrs,
                    ..Node::default()
                });
            }
            2 => {
                self.problem(
                    line,
                    format!(
                        "élément <{local}> inattendu dans <{}> : seules des offres <{}> y sont permises",
                        layout.container, layout.offer
                    ),
                );
                self.skip();
            }
            _ => {
                let attrs = self.attributes(e, line);
                self.building.push(Node {
                    name: local,
                    line,
                    attrs,
                    ..Node::default()
                });
            }
        }
    }

    /// The root tells the dialect.
    fn root(&mut self, ns: Option<Vec<u8>>, local: String, line: u64) {
        if self.root.is_some() {
            return self.fail(
                line,
                format!("XML mal formé : second élément racine <{local}> après la fin du document"),
            );
        }
        let uri = ns
            .as_deref()
            .map(|n| String::from_utf8_lossy(n).into_owned());
        let format = match (local.as_str(), uri.as_deref()) {
            ("lheo", Some(NS_1_3)) => Some(LheoFormat::V1_3),
            ("lheo", Some(NS_2_2)) => Some(LheoFormat::V2_2),
            ("lheo", Some(NS_2_3)) => Some(LheoFormat::V2_3),
            ("lheo", None) => self.doctype.filter(|f| *f != LheoFormat::Leger),
            ("lheo-leger" | "lheo-index", None | Some(NS_1_3 | NS_2_2 | NS_2_3)) => {
                Some(LheoFormat::Leger)
            }
            _ => None,
        };
        self.root = Some(Open {
            name: local.clone(),
            line,
        });
        match format {
            Some(f) => {
                self.format = Some(f);
                self.doc_ns = ns;
            }
            None if matches!(local.as_str(), "lheo" | "lheo-leger" | "lheo-index") => {
                let what = match uri {
                    Some(u) => format!("espace de noms « {u} » inconnu pour <{local}>"),
                    None => format!("<{local}> sans espace de noms (xmlns) ni DOCTYPE LHÉO"),
                };
                self.fail(
                    line,
                    format!("{what} : attendu {NS_1_3}, {NS_2_2} ou {NS_2_3}"),
                );
            }
            None => self.fail(
                line,
                format!("élément racine <{local}> inconnu : <lheo> ou <lheo-leger> attendu"),
            ),
        }
    }

    fn end(&mut self) {
        let Some(_closed) = self.stack.pop() else {
            return;
        };
        let depth = self.stack.len();
        if let Some(from) = self.skip_from {
            if depth == from {
                self.skip_from = None;
            }
            return;
        }
        if depth == 0 {
            self.root_closed = true;
            return self.root_end();
        }
        if let Some(node) = self.building.pop() {
            match self.building.last_mut() {
                Some(parent) => parent.children.push(node),
                None => self.offer_end(node),
            }
        }
    }

    /// Checks, at the end of the root, that the file held offers.
    fn root_end(&mut self) {
        let Some(format) = self.format else { return };
        let line = self.root.as_ref().map_or(1, |r| r.line);
        let layout = layout(format);
        if !self.container_seen {
            self.problem(
                line,
                format!("élément obligatoire <{}> absent", layout.container),
            );
        } else if self.offers_seen == 0 {
            self.problem(
                line,
                format!("le fichier ne contient aucune offre <{}>", layout.offer),
            );
        }
    }

    fn offer_end(&mut self, node: Node) {
        let Some(format) = self.format else { return };
        // Two offers with the same numero would be merged into one on
        // import: refuse the file, as spreadsheets refuse repeated keys.
        if let Some(numero) = extract::numero(&node, format) {
            match self.numeros.get(&numero) {
                Some(&first) => self.problem(
                    node.line,
                    format!(
                        "offre numéro « {numero} » en double : déjà présente ligne {first} (et ici ligne {})",
                        node.line
                    ),
                ),
                None => {
                    self.numeros.insert(numero, node.line);
                }
            }
        }
        let reasons = structure::check(&node, format);
        if !reasons.is_empty() {
            if self.opts.skip_invalid {
                self.rejected.push(Rejection {
                    line: node.line,
                    numero: extract::numero(&node, format),
                    reasons,
                });
            } else {
                self.problems.extend(reasons);
            }
            return;
        }
        // Once the file is refused, offers are still checked (to list every
        // problem) but no longer extracted.
        if !self.problems.is_empty() {
            return;
        }
        let (offer, notes) = extract::offer(&node, format, self.opts);
        self.offers.push(offer);
        self.quality.extend(notes);
    }

    fn text(&mut self, raw: &[u8], escaped: bool, line: u64) {
        if self.skip_from.is_some() {
            return;
        }
        if !self.building.is_empty() {
            match self.decode_text(raw, escaped) {
                Ok(t) => {
                    if let Err(e) = domain::text::check_text(&t) {
                        self.problem(line, e.to_string());
                    }
                    if let Some(node) = self.building.last_mut() {
                        if node.text.len().saturating_add(t.len()) > MAX_TEXT_BYTES {
                            let message = format!(
                                "texte de <{}> de plus de {} Mo (limite par élément)",
                                node.name,
                                MAX_TEXT_BYTES / (1024 * 1024)
                            );
                            return self.fail(line, message);
                        }
                        node.text.push_str(&t);
                    }
                }
                Err(m) => self.fail(line, m),
            }
        } else if self.stack.is_empty() && !raw.iter().all(u8::is_ascii_whitespace) {
            self.fail(
                line,
                "XML mal formé : texte en dehors de l'élément racine".into(),
            );
        }
        // Stray text between LHÉO elements outside offers carries no data;
        // it is ignored.
    }

    fn eof(&mut self, line: u64) {
        if self.root.is_none() {
            return self.fail(
                line,
                "aucun élément racine : le fichier est vide ou n'est pas du XML".into(),
            );
        }
        // quick-xml stops at the end of input without complaining about
        // elements left open; each one is a well-formedness error.
        let open: Vec<(String, u64)> = self
            .stack
            .iter()
            .map(|o| (o.name.clone(), o.line))
            .collect();
        for (name, opened) in open.into_iter().rev() {
            self.problem(
                opened,
                format!("XML mal formé : <{name}> ouvert ligne {opened} n'est jamais fermé (fin de fichier ligne {line})"),
            );
            self.fatal = true;
        }
    }

    fn finish(mut self) -> Result<LheoImport, LheoRefused> {
        if !self.problems.is_empty() {
            self.problems.sort_by_key(|p| p.line);
            return Err(LheoRefused {
                problems: self.problems,
            });
        }
        let Some(format) = self.format else {
            return Err(LheoRefused {
                problems: vec![Problem {
                    line: 1,
                    message: "aucun élément racine LHÉO reconnu".into(),
                }],
            });
        };
        Ok(LheoImport {
            format,
            offers: self.offers,
            rejected: self.rejected,
            quality: self.quality,
        })
    }
}
