//! LHÉO 2.3 export of the offers Passerelle stores.
//!
//! The output validates against `lheo-2.3.xsd`. The schema requires many
//! elements Passerelle does not record; they get neutral values, the ones
//! LHÉO producers use for « not given »:
//!
//! * free texts (`rythme-formation`, `conditions-specifiques`, a missing
//!   objective…) → `-`, which the importer reads back as absent;
//! * `parcours-de-formation` → `1` (en groupe), `code-niveau-entree` → `0`
//!   (non communiqué), `niveau-entree-obligatoire`, `prise-en-charge-frais-possible`
//!   and `modalites-entrees-sorties` → `0`;
//! * `numero-activite` (the provider's declaration number) → `99999999999`,
//!   as in ONISEP's exports;
//! * contacts (`contact-formation`, `contact-organisme`) → empty
//!   `coordonnees`: no personal data leaves Passerelle;
//! * the voie goes into `code-public-vise` (82027 apprentissage, 81061
//!   scolaire, 83056 tout public for the others) and, for apprenticeship,
//!   into `modalites-alternance`, which is what the importer reads;
//! * a session's places go into `<extras info="passerelle"><extra
//!   info="nb-places">`, the schema's extension point, because the native
//!   elements need codes (`modalite-recrutement`, `type-cycle`) Passerelle
//!   does not know;
//! * an action without session gets one session `00000000`–`99999999`
//!   (dates unknown), because the schema requires one.
//!
//! An address needs a postcode and a city: a site without them is left out,
//! and each session's enrolment address (required) is the action's site or
//! else the provider's address. An offer that cannot be written validly
//! (no provider SIRET, no action, no address at all) is skipped and listed
//! in the [`ExportReport`], never written half-valid. Values longer than
//! the schema allows are cut, and lists are cut to the schema's maximum.

use std::io::{self, Write};

use domain::{CodeRome, Level, Modality, Pathway};

use super::extract::{PUBLIC_ALL, PUBLIC_APPRENTICESHIP, PUBLIC_INITIAL};
use super::model::{LheoAddress, LheoCertification, LheoOffer, LheoSession};
use super::NS_2_3;

/// An offer as Passerelle stores it, ready for export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOffer {
    /// Identifier written as `formation@numero`: the idempotence key
    /// ([`LheoOffer::key`]), so a partner re-importing the file updates.
    pub key: String,
    /// Title (at most 255 characters are written).
    pub intitule: String,
    /// Objective.
    pub objectif: Option<String>,
    /// Content.
    pub contenu: Option<String>,
    /// Expected results.
    pub resultats: Option<String>,
    /// Certifications (the first 5 are written); `certifiante` is derived
    /// from their presence.
    pub certifications: Vec<LheoCertification>,
    /// ROME codes (the first 5 are written).
    pub rome_codes: Vec<CodeRome>,
    /// Formacodes (the first 5 well-formed ones are written).
    pub formacodes: Vec<String>,
    /// Level reached (`code-niveau-sortie`, written on the 2019 scale 11–18).
    pub level: Option<Level>,
    /// Responsible body.
    pub provider: ExportProvider,
    /// Actions (at least one is needed).
    pub actions: Vec<ExportAction>,
}

/// The responsible training body of an exported offer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportProvider {
    /// SIRET, 14 digits (required by the schema).
    pub siret: String,
    /// Name, written as `nom-organisme` and `raison-sociale`.
    pub name: String,
    /// Address; written only with a postcode and a city.
    pub address: LheoAddress,
    /// Website.
    pub website: Option<String>,
}

/// One action of an exported offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportAction {
    /// `action@numero`.
    pub numero: Option<String>,
    /// Voie.
    pub pathway: Pathway,
    /// Delivery mode.
    pub modality: Modality,
    /// Training site; written only with a postcode and a city.
    pub site: Option<LheoAddress>,
    /// Total hours (`nombre-heures-total`).
    pub duration_hours: Option<u32>,
    /// Sessions; see the module documentation for an empty list.
    pub sessions: Vec<LheoSession>,
}

impl From<&LheoOffer> for ExportOffer {
    /// Keeps what Passerelle stores of an imported offer. The modality
    /// defaults to présentiel when the file did not give it, sessions
    /// without any date nor places are dropped (they are what the export
    /// writes for « no session »), the first site of each action is kept,
    /// and the level is the exit level.
    fn from(o: &LheoOffer) -> Self {
        ExportOffer {
            key: o.key(),
            intitule: o.intitule.clone(),
            objectif: o.objectif.clone(),
            contenu: o.contenu.clone(),
            resultats: o.resultats_attendus.clone(),
            certifications: o.certifications.clone(),
            rome_codes: o.rome_codes.clone(),
            formacodes: o.formacodes.clone(),
            level: o.niveau_sortie,
            provider: ExportProvider {
                siret: o.provider.siret.clone().unwrap_or_default(),
                name: o.provider.name.clone(),
                address: o.provider.address.clone(),
                website: o.provider.website.clone(),
            },
            actions: o
                .actions
                .iter()
                .map(|a| ExportAction {
                    numero: a.numero.clone(),
                    pathway: a.pathway,
                    modality: a.modality.unwrap_or(Modality::OnSite),
                    site: a.sites.first().cloned(),
                    duration_hours: a.nombre_heures_total,
                    sessions: a
                        .sessions
                        .iter()
                        .filter(|s| s.start.is_some() || s.end.is_some() || s.places.is_some())
                        .cloned()
                        .collect(),
                })
                .collect(),
        }
    }
}

/// An offer the export left out, and why (in French).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedOffer {
    /// The offer's key.
    pub key: String,
    /// Why it cannot be written as valid LHÉO 2.3.
    pub reason: String,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportReport {
    /// Number of offers written.
    pub written: usize,
    /// Offers left out.
    pub skipped: Vec<SkippedOffer>,
}

/// Why an export failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum LheoExportError {
    /// Writing failed.
    #[error("écriture de l'export LHÉO impossible : {0}")]
    Io(#[from] io::Error),
    /// No offer could be written; LHÉO requires at least one, so nothing
    /// was written.
    #[error("aucune offre exportable en LHÉO 2.3 ({} écartée(s))", skipped.len())]
    NothingToExport {
        /// Every offer, with the reason it was left out.
        skipped: Vec<SkippedOffer>,
    },
}

/// Writes `offers` as an LHÉO 2.3 document (namespace `http://lheo.gouv.fr/2.3`)
/// that validates against `lheo-2.3.xsd`. Offers that cannot be written
/// validly are skipped and reported; nothing is written when none can.
pub fn write_lheo_23(
    offers: &[ExportOffer],
    out: &mut impl Write,
) -> Result<ExportReport, LheoExportError> {
    let mut report = ExportReport::default();
    let mut writable = Vec::new();
    for o in offers {
        match plan(o) {
            Ok(p) => writable.push((o, p)),
            Err(reason) => report.skipped.push(SkippedOffer {
                key: o.key.clone(),
                reason,
            }),
        }
    }
    if writable.is_empty() {
        return Err(LheoExportError::NothingToExport {
            skipped: report.skipped,
        });
    }
    let mut x = Xml { out, depth: 0 };
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    x.open("lheo", &[("xmlns", NS_2_3)])?;
    x.open("offres", &[])?;
    for (o, p) in &writable {
        formation(&mut x, o, p)?;
        report.written += 1;
    }
    x.close("offres")?;
    x.close("lheo")?;
    x.out.flush()?;
    Ok(report)
}

/// A postal address the schema accepts: postcode (5 characters) and city.
#[derive(Clone)]
struct Postal {
    postcode: String,
    city: String,
    code_insee: Option<String>,
}

fn postal(a: &LheoAddress) -> Option<Postal> {
    let postcode = a.postcode.as_deref()?.trim();
    let city = a.city.as_deref()?.trim();
    (postcode.chars().count() == 5 && !city.is_empty()).then(|| Postal {
        postcode: postcode.to_owned(),
        city: city.to_owned(),
        code_insee: a
            .code_insee
            .as_deref()
            .map(str::trim)
            .filter(|c| c.chars().count() == 5)
            .map(str::to_owned),
    })
}

/// What an offer needs to be written: the SIRET and, per action, its site
/// and its enrolment address.
struct Plan {
    siret: String,
    provider_address: Option<Postal>,
    actions: Vec<(Option<Postal>, Postal)>,
}

fn plan(o: &ExportOffer) -> Result<Plan, String> {
    let siret: String = o
        .provider
        .siret
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if siret.chars().count() != 14 {
        return Err("SIRET du responsable absent ou mal formé (14 chiffres exigés)".into());
    }
    if clean(&o.intitule).is_none() {
        return Err("intitulé vide".into());
    }
    if o.actions.is_empty() {
        return Err("aucune action (LHÉO exige au moins une action)".into());
    }
    let provider_address = postal(&o.provider.address);
    let actions = o
        .actions
        .iter()
        .map(|a| {
            let site = a.site.as_ref().and_then(postal);
            let enrolment = site
                .clone()
                .or_else(|| provider_address.clone())
                .ok_or_else(|| {
                    "ni le lieu de formation ni l'organisme n'ont de code postal et de ville \
                 (LHÉO exige une adresse d'inscription par session)"
                        .to_owned()
                })?;
            Ok((site, enrolment))
        })
        .collect::<Result<_, String>>()?;
    Ok(Plan {
        siret,
        provider_address,
        actions,
    })
}

/// A certification code the schema accepts (1 to 10 characters).
fn certification_code(v: &Option<String>) -> Option<&str> {
    v.as_deref()
        .and_then(clean)
        .filter(|v| v.chars().count() <= 10)
}

/// Trimmed text, `None` when empty.
fn clean(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// Text for a required element: the value cut to `max` characters, or `-`.
fn required_text(v: Option<&str>, max: usize) -> String {
    v.and_then(clean)
        .map_or_else(|| "-".to_owned(), |t| cut(t, max))
}

fn cut(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn date(d: Option<domain::network::chrono_free::Date>, sentinel: &str) -> String {
    d.map_or_else(
        || sentinel.to_owned(),
        |d| {
            let (y, m, day) = d.ymd();
            format!("{y:04}{m:02}{day:02}")
        },
    )
}

fn formation<W: Write>(x: &mut Xml<'_, W>, o: &ExportOffer, p: &Plan) -> io::Result<()> {
    x.open("formation", &[("numero", &o.key)])?;
    let formacodes: Vec<&str> = o
        .formacodes
        .iter()
        .map(|f| f.trim())
        .filter(|f| f.len() == 5 && f.bytes().all(|b| b.is_ascii_digit()))
        .take(5)
        .collect();
    if formacodes.is_empty() && o.rome_codes.is_empty() {
        x.empty("domaine-formation")?;
    } else {
        x.open("domaine-formation", &[])?;
        for f in formacodes {
            x.leaf("code-FORMACODE", &[], f)?;
        }
        for r in o.rome_codes.iter().take(5) {
            x.leaf("code-ROME", &[], r.as_str())?;
        }
        x.close("domaine-formation")?;
    }
    x.leaf("intitule-formation", &[], &cut(o.intitule.trim(), 255))?;
    x.leaf(
        "objectif-formation",
        &[],
        &required_text(o.objectif.as_deref(), 3000),
    )?;
    x.leaf(
        "resultats-attendus",
        &[],
        &required_text(o.resultats.as_deref(), 3000),
    )?;
    x.leaf(
        "contenu-formation",
        &[],
        &required_text(o.contenu.as_deref(), 3000),
    )?;
    let certifications: Vec<(Option<&str>, Option<&str>)> = o
        .certifications
        .iter()
        .map(|c| {
            (
                certification_code(&c.rncp),
                certification_code(&c.certifinfo),
            )
        })
        .filter(|(r, c)| r.is_some() || c.is_some())
        .take(5)
        .collect();
    x.leaf(
        "certifiante",
        &[],
        if certifications.is_empty() { "0" } else { "1" },
    )?;
    x.open("contact-formation", &[])?;
    x.empty("coordonnees")?;
    x.close("contact-formation")?;
    x.leaf("parcours-de-formation", &[], "1")?;
    x.leaf("code-niveau-entree", &[], "0")?;
    for (rncp, certifinfo) in certifications {
        x.open("certification", &[])?;
        if let Some(r) = rncp {
            x.leaf("code-RNCP", &[], r)?;
        }
        if let Some(c) = certifinfo {
            x.leaf("code-CERTIFINFO", &[], c)?;
        }
        x.close("certification")?;
    }
    if let Some(l) = o.level {
        x.leaf("code-niveau-sortie", &[], &(10 + l.get()).to_string())?;
    }
    for (a, (site, enrolment)) in o.actions.iter().zip(&p.actions) {
        action(x, a, site.as_ref(), enrolment)?;
    }
    provider(x, o, p)?;
    x.close("formation")
}

fn action<W: Write>(
    x: &mut Xml<'_, W>,
    a: &ExportAction,
    site: Option<&Postal>,
    enrolment: &Postal,
) -> io::Result<()> {
    match a.numero.as_deref().and_then(clean) {
        Some(n) => x.open("action", &[("numero", n)])?,
        None => x.open("action", &[])?,
    }
    x.leaf("rythme-formation", &[], "-")?;
    let public = match a.pathway {
        Pathway::Apprenticeship => PUBLIC_APPRENTICESHIP,
        Pathway::School => PUBLIC_INITIAL,
        Pathway::Continuing | Pathway::Vae => PUBLIC_ALL,
    };
    x.leaf("code-public-vise", &[("ref", "V10")], public)?;
    x.leaf("niveau-entree-obligatoire", &[], "0")?;
    let alternance = if a.pathway == Pathway::Apprenticeship {
        "Contrat d'apprentissage"
    } else {
        "-"
    };
    x.leaf("modalites-alternance", &[], alternance)?;
    let enseignement = match a.modality {
        Modality::OnSite => "0",
        Modality::Hybrid => "1",
        Modality::Distance => "2",
    };
    x.leaf("modalites-enseignement", &[], enseignement)?;
    x.leaf("conditions-specifiques", &[], "-")?;
    x.leaf("prise-en-charge-frais-possible", &[], "0")?;
    if let Some(s) = site {
        x.open("lieu-de-formation", &[])?;
        x.open("coordonnees", &[])?;
        address(x, s)?;
        x.close("coordonnees")?;
        x.close("lieu-de-formation")?;
    }
    x.leaf("modalites-entrees-sorties", &[], "0")?;
    let unknown = LheoSession {
        numero: None,
        start: None,
        end: None,
        places: None,
    };
    let sessions: Vec<&LheoSession> = if a.sessions.is_empty() {
        vec![&unknown]
    } else {
        a.sessions.iter().collect()
    };
    for s in sessions {
        match s.numero.as_deref().and_then(clean) {
            Some(n) => x.open("session", &[("numero", n)])?,
            None => x.open("session", &[])?,
        }
        x.open("periode", &[])?;
        x.leaf("debut", &[], &date(s.start, "00000000"))?;
        x.leaf("fin", &[], &date(s.end, "99999999"))?;
        x.close("periode")?;
        x.open("adresse-inscription", &[])?;
        address(x, enrolment)?;
        x.close("adresse-inscription")?;
        if let Some(n) = s.places {
            x.open("extras", &[("info", "passerelle")])?;
            x.leaf("extra", &[("info", "nb-places")], &n.to_string())?;
            x.close("extras")?;
        }
        x.close("session")?;
    }
    if let Some(h) = a.duration_hours {
        x.leaf("nombre-heures-total", &[], &h.to_string())?;
    }
    x.close("action")
}

fn address<W: Write>(x: &mut Xml<'_, W>, a: &Postal) -> io::Result<()> {
    x.open("adresse", &[])?;
    // No street is stored; the city stands in for the required address line.
    x.leaf("ligne", &[], &cut(&a.city, 50))?;
    x.leaf("codepostal", &[], &a.postcode)?;
    x.leaf("ville", &[], &cut(&a.city, 50))?;
    if let Some(c) = &a.code_insee {
        x.leaf("code-INSEE-commune", &[], c)?;
    }
    x.close("adresse")
}

fn provider<W: Write>(x: &mut Xml<'_, W>, o: &ExportOffer, p: &Plan) -> io::Result<()> {
    let name = required_text(Some(&o.provider.name), 250);
    x.open("organisme-formation-responsable", &[])?;
    x.leaf("numero-activite", &[], "99999999999")?;
    x.open("SIRET-organisme-formation", &[])?;
    x.leaf("SIRET", &[], &p.siret)?;
    x.close("SIRET-organisme-formation")?;
    x.leaf("nom-organisme", &[], &name)?;
    x.leaf("raison-sociale", &[], &name)?;
    x.open("coordonnees-organisme", &[])?;
    let website = o
        .provider
        .website
        .as_deref()
        .and_then(clean)
        .filter(|w| (3..=400).contains(&w.chars().count()));
    if p.provider_address.is_none() && website.is_none() {
        x.empty("coordonnees")?;
    } else {
        x.open("coordonnees", &[])?;
        if let Some(a) = &p.provider_address {
            address(x, a)?;
        }
        if let Some(w) = website {
            x.open("web", &[])?;
            x.leaf("urlweb", &[], w)?;
            x.close("web")?;
        }
        x.close("coordonnees")?;
    }
    x.close("coordonnees-organisme")?;
    x.open("contact-organisme", &[])?;
    x.empty("coordonnees")?;
    x.close("contact-organisme")?;
    x.close("organisme-formation-responsable")
}

/// A minimal indenting XML writer; every value goes through [`escape`].
struct Xml<'w, W> {
    out: &'w mut W,
    depth: usize,
}

impl<W: Write> Xml<'_, W> {
    fn raw(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())
    }

    fn indent(&mut self) -> io::Result<()> {
        for _ in 0..self.depth {
            self.out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        write!(self.out, "<{name}")?;
        for (k, v) in attrs {
            write!(self.out, " {k}=\"{}\"", escape(v, true))?;
        }
        Ok(())
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.indent()?;
        self.tag(name, attrs)?;
        self.out.write_all(b">\n")?;
        self.depth += 1;
        Ok(())
    }

    fn close(&mut self, name: &str) -> io::Result<()> {
        self.depth -= 1;
        self.indent()?;
        writeln!(self.out, "</{name}>")
    }

    fn empty(&mut self, name: &str) -> io::Result<()> {
        self.indent()?;
        writeln!(self.out, "<{name}/>")
    }

    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.indent()?;
        self.tag(name, attrs)?;
        writeln!(self.out, ">{}</{name}>", escape(text, false))
    }
}

/// Escapes markup characters, drops characters XML 1.0 forbids (control
/// characters pasted from office documents would make the file unreadable),
/// and writes carriage returns (and, in attributes, tabs and newlines) as
/// character references so that parsers do not normalise them away.
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a<b>&\"c\"\u{1}\r", false),
            "a&lt;b&gt;&amp;\"c\"&#13;"
        );
        assert_eq!(escape("x\"y\nz", true), "x&quot;y&#10;z");
    }

    #[test]
    fn cutting_counts_characters() {
        assert_eq!(cut("éléphant", 3), "élé");
        assert_eq!(required_text(Some("  "), 10), "-");
        assert_eq!(required_text(None, 10), "-");
    }
}
