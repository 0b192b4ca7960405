-- Reference data: territories, ROME 4.0, certifications. Replaced as a whole
-- per data set by `passerelle import referentiels`.
CREATE TABLE datasets (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    version TEXT NOT NULL,
    published_on TEXT NOT NULL,
    source TEXT NOT NULL,
    licence TEXT NOT NULL,
    checksum TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE data_quality (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    field TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX data_quality_dataset ON data_quality (dataset);

CREATE TABLE regions (code TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE academies (code TEXT PRIMARY KEY, name TEXT NOT NULL, region_code TEXT NOT NULL);
CREATE TABLE departements (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (code),
    academie_code TEXT
);
CREATE TABLE employment_areas (code TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE communes (
    code_insee TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    departement_code TEXT NOT NULL REFERENCES departements (code),
    region_code TEXT NOT NULL,
    employment_area_code TEXT,
    postcodes TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    population BIGINT
);
CREATE INDEX communes_departement ON communes (departement_code);

CREATE TABLE grands_domaines (code TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE domaines (code TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE occupations (
    code_rome TEXT PRIMARY KEY,
    code_ogr BIGINT NOT NULL,
    label TEXT NOT NULL,
    code_rome_parent TEXT NOT NULL,
    emploi_reglemente BOOLEAN NOT NULL,
    emploi_cadre BOOLEAN NOT NULL,
    definition TEXT,
    access TEXT
);
CREATE INDEX occupations_parent ON occupations (code_rome_parent);
CREATE TABLE occupation_titles (
    code_ogr BIGINT PRIMARY KEY,
    code_rome TEXT NOT NULL REFERENCES occupations (code_rome),
    label TEXT NOT NULL,
    label_short TEXT NOT NULL
);
CREATE INDEX occupation_titles_rome ON occupation_titles (code_rome);
CREATE TABLE skills (
    code_ogr BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    category TEXT
);
CREATE TABLE occupation_skills (
    code_rome TEXT NOT NULL REFERENCES occupations (code_rome),
    code_ogr BIGINT NOT NULL REFERENCES skills (code_ogr),
    core BOOLEAN NOT NULL,
    PRIMARY KEY (code_rome, code_ogr)
);
CREATE TABLE mobilities (
    code_rome TEXT NOT NULL REFERENCES occupations (code_rome),
    target_code_rome TEXT NOT NULL REFERENCES occupations (code_rome),
    rank BIGINT NOT NULL,
    PRIMARY KEY (code_rome, target_code_rome)
);
CREATE TABLE interest_centres (code BIGINT PRIMARY KEY, label TEXT NOT NULL, definition TEXT);
CREATE TABLE occupation_interests (
    interest_code BIGINT NOT NULL REFERENCES interest_centres (code),
    code_rome TEXT NOT NULL REFERENCES occupations (code_rome),
    principal BOOLEAN NOT NULL,
    PRIMARY KEY (interest_code, code_rome)
);

CREATE TABLE certifications (
    code BIGINT PRIMARY KEY,
    label TEXT NOT NULL,
    type_label TEXT,
    level BIGINT,
    formacode TEXT,
    formacode_label TEXT,
    nsf TEXT,
    code_rncp TEXT,
    code_rs TEXT,
    certifier TEXT,
    active BOOLEAN NOT NULL,
    updated_on TEXT
);
CREATE INDEX certifications_rncp ON certifications (code_rncp);
CREATE TABLE certification_romes (
    certification_code BIGINT NOT NULL REFERENCES certifications (code),
    code_rome TEXT NOT NULL,
    PRIMARY KEY (certification_code, code_rome)
);
CREATE INDEX certification_romes_rome ON certification_romes (code_rome);
CREATE TABLE rncp_fiches (
    code_rncp TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    level BIGINT,
    type_code TEXT,
    type_label TEXT,
    valid_until TEXT
);
CREATE TABLE rncp_romes (
    code_rncp TEXT NOT NULL REFERENCES rncp_fiches (code_rncp),
    code_rome TEXT NOT NULL,
    PRIMARY KEY (code_rncp, code_rome)
);
CREATE TABLE rncp_nsf (
    code_rncp TEXT NOT NULL REFERENCES rncp_fiches (code_rncp),
    nsf_code TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (code_rncp, nsf_code)
);
CREATE TABLE rncp_blocs (
    code_bloc TEXT PRIMARY KEY,
    code_rncp TEXT NOT NULL REFERENCES rncp_fiches (code_rncp),
    label TEXT NOT NULL
);
CREATE INDEX rncp_blocs_fiche ON rncp_blocs (code_rncp);
CREATE TABLE rncp_certifiers (
    code_rncp TEXT NOT NULL REFERENCES rncp_fiches (code_rncp),
    name TEXT NOT NULL,
    siret TEXT,
    PRIMARY KEY (code_rncp, name)
);
