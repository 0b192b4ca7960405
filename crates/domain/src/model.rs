//! Closed vocabularies of the network and the training offer. Each value has
//! a stable code (stored in the database, used in the API and in files) and a
//! French label (shown to people).

use serde::{Deserialize, Serialize};

/// Declares a closed vocabulary with its stored codes and French labels.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code stored in the database and used in files and the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The French label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Reads a stored code, or a label typed by a person (accents and
            /// case ignored).
            pub fn parse(input: &str) -> Option<Self> {
                let folded = crate::text::fold(input);
                Self::ALL.iter().copied().find(|v| {
                    v.code() == input.trim() || crate::text::fold(v.label()) == folded
                        || crate::text::fold(v.code()) == folded
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

vocabulary! {
    /// The 12 national filières of the CMQ label.
    Sector {
        Agrifood = "agroalimentaire", "Alimentaire, agroalimentaire";
        Chemistry = "chimie-biotechnologies", "Chimie et biotechnologies";
        Design = "creation-design-audiovisuel", "Création, design, audiovisuel";
        Construction = "batiment-eco-construction", "Infrastructures, bâtiment, éco-construction";
        Materials = "materiaux", "Matériaux, matériaux innovants";
        Mobility = "mobilite-transports", "Mobilité, aéronautique, transports terrestres et maritimes";
        Digital = "numerique-telecommunications", "Numérique, télécommunications";
        PersonalServices = "services-personne-bien-etre", "Services à la personne, bien-être";
        BusinessServices = "services-entreprises-logistique", "Services aux entreprises, logistique";
        Mechatronics = "systemes-innovants-mecatronique", "Systèmes innovants, mécatronique";
        Tourism = "tourisme-gastronomie", "Tourisme, gastronomie";
        Energy = "transition-energetique", "Transition énergétique, éco-industrie";
    }
}

vocabulary! {
    /// What kind of organisation a member is.
    MemberKind {
        Lycee = "lycee", "Lycée";
        University = "universite", "Université, école supérieure";
        Cfa = "cfa", "Centre de formation d'apprentis";
        TrainingBody = "organisme-formation", "Organisme de formation";
        Employer = "employeur", "Employeur";
        Hospital = "etablissement-sante", "Établissement de santé";
        SocialCare = "etablissement-medico-social", "Établissement social et médico-social";
        PublicEmployment = "service-public-emploi", "France Travail";
        MissionLocale = "mission-locale", "Mission locale";
        Research = "recherche", "Laboratoire de recherche";
        Branch = "branche-professionnelle", "Branche, organisation professionnelle";
        Public = "collectivite", "Collectivité, administration";
        Association = "association", "Association";
        /// A provider met in an import that has not joined the campus.
        Outside = "exterieur", "Organisation extérieure";
    }
}

vocabulary! {
    /// Voie de formation.
    Pathway {
        School = "scolaire", "Scolaire";
        Apprenticeship = "apprentissage", "Apprentissage";
        Continuing = "continue", "Formation continue";
        Vae = "vae", "VAE";
    }
}

vocabulary! {
    /// How a formation is delivered.
    Modality {
        OnSite = "presentiel", "Présentiel";
        Distance = "distanciel", "À distance";
        Hybrid = "hybride", "Hybride";
    }
}

vocabulary! {
    /// Whether a record is visible on the public pages.
    PublicationStatus {
        Draft = "brouillon", "Brouillon";
        Published = "publie", "Publié";
    }
}

/// Level on the European qualifications framework, 1 to 8 (niveau 3 = CAP,
/// 4 = bac, 5 = bac+2, 6 = licence, 7 = master, 8 = doctorat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Level(u8);

impl Level {
    /// Builds a level from its number, refusing values outside 1–8.
    pub fn new(n: u8) -> Option<Self> {
        (1..=8).contains(&n).then_some(Self(n))
    }

    /// Reads `4`, `niveau4`, `Niveau 4`, `NIV4`.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        digits.parse().ok().and_then(Self::new)
    }

    /// The number.
    pub fn get(self) -> u8 {
        self.0
    }

    /// French label with the usual equivalent.
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "Niveau 1",
            2 => "Niveau 2",
            3 => "Niveau 3 (CAP, BEP)",
            4 => "Niveau 4 (bac)",
            5 => "Niveau 5 (bac + 2)",
            6 => "Niveau 6 (bac + 3, licence)",
            7 => "Niveau 7 (bac + 5, master)",
            _ => "Niveau 8 (doctorat)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_sectors_round_trip() {
        assert_eq!(Sector::ALL.len(), 12);
        for s in Sector::ALL {
            assert_eq!(Sector::parse(s.code()), Some(*s));
            assert_eq!(Sector::parse(&s.label().to_uppercase()), Some(*s));
        }
    }

    #[test]
    fn vocabularies_parse_labels() {
        assert_eq!(
            Pathway::parse("apprentissage"),
            Some(Pathway::Apprenticeship)
        );
        assert_eq!(Modality::parse("a distance"), Some(Modality::Distance));
        assert_eq!(Modality::parse("sur la lune"), None);
    }

    #[test]
    fn levels() {
        assert_eq!(Level::parse("niveau4").map(Level::get), Some(4));
        assert_eq!(Level::parse("NIV 6").map(Level::get), Some(6));
        assert!(Level::parse("9").is_none());
        assert!(Level::parse("").is_none());
    }
}

impl Sector {
    /// The ROME 4.0 domains (professional domains like `K11`, or whole
    /// grand domains like `F`) whose métiers belong to the filière by
    /// default; a campus edits its own list (`docs/OBSERVATORY.md`).
    pub fn default_rome_domains(self) -> &'static [&'static str] {
        match self {
            Sector::Agrifood => &["A14", "H21", "H33", "D11"],
            Sector::Chemistry => &["H23", "H15", "H13", "H12"],
            Sector::Design => &["B", "E11", "E12", "E13", "E14", "L13", "L15"],
            Sector::Construction => &["F"],
            Sector::Materials => &["H22", "H28", "H29", "H31", "H32", "H34"],
            Sector::Mobility => &["N", "I16"],
            Sector::Digital => &["M18", "I14", "H26"],
            Sector::PersonalServices => &["J", "K11", "K12", "K13", "D12"],
            Sector::BusinessServices => &[
                "M11", "M12", "M13", "M14", "M15", "M16", "M17", "N11", "N12", "N13", "K22", "K25",
            ],
            Sector::Mechatronics => &["H12", "H14", "H25", "H26", "H29", "I13"],
            Sector::Tourism => &["G", "D11"],
            Sector::Energy => &["H27", "K23", "A12", "H13", "I13"],
        }
    }
}

/// Whether a ROME code falls in one of `domains` (a grand domain letter or
/// a professional domain): `K1302` is in `K`, `K13` and not in `K12`.
pub fn in_rome_domains(code_rome: &str, domains: &[&str]) -> bool {
    domains
        .iter()
        .any(|d| !d.is_empty() && code_rome.starts_with(d))
}

#[cfg(test)]
mod sector_domain_tests {
    use super::*;

    #[test]
    fn every_filiere_has_domains_and_prefixes_match() {
        for s in Sector::ALL {
            assert!(!s.default_rome_domains().is_empty(), "{s:?}");
        }
        let care = Sector::PersonalServices.default_rome_domains();
        assert!(in_rome_domains("K1302", care), "aide à domicile");
        assert!(in_rome_domains("J1501", care), "aide-soignant");
        assert!(!in_rome_domains("F1703", care), "maçonnerie");
        assert!(in_rome_domains(
            "F1703",
            Sector::Construction.default_rome_domains()
        ));
        assert!(!in_rome_domains("K1302", &["K12"]));
    }
}
