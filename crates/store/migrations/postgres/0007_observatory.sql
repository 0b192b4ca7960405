-- Observatory (issue #4): published tension indicators, the crosswalks
-- that place them (bassins d'emploi through their communes, FAP → ROME),
-- job postings and the aggregates the observatory pages read. Aggregates
-- are recomputed at import, never per request.

-- Commune → bassin d'emploi (France Travail's own areas, not the INSEE
-- zones d'emploi); codes kept on four digits.
CREATE TABLE basin_communes (
    code_insee TEXT PRIMARY KEY,
    basin_code TEXT NOT NULL
);
CREATE INDEX basin_communes_basin ON basin_communes (basin_code);
-- FAP-2009 family → ROME v3 fiche (DARES table).
CREATE TABLE fap_romes (
    fap_code TEXT NOT NULL,
    code_rome TEXT NOT NULL,
    PRIMARY KEY (fap_code, code_rome)
);
-- One imported file of indicators; replaced as a whole when re-imported.
CREATE TABLE tension_sources (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    file TEXT NOT NULL,
    checksum TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);
-- One value of one indicator (TENSION, INT_EMB, …, OFFRES, DEFM_ABC,
-- BMO_DIFFICILE …) per ROME fiche × territory × period. `level` is the 1–5
-- level when the source gives or implies one.
CREATE TABLE tension_values (
    source TEXT NOT NULL REFERENCES tension_sources (name) ON DELETE CASCADE,
    code_rome TEXT NOT NULL,
    territory_type TEXT NOT NULL,
    territory_code TEXT NOT NULL,
    period TEXT NOT NULL,
    indicator TEXT NOT NULL,
    value DOUBLE PRECISION,
    level BIGINT,
    PRIMARY KEY (source, code_rome, territory_type, territory_code, period, indicator)
);
CREATE INDEX tension_values_place ON tension_values (territory_type, territory_code, indicator);

-- Job postings (France Travail « offres d'emploi v2 »). The `contact`
-- field and the employer's name are not kept; `fingerprint` meets the same
-- offer published through two sources, the later one pointing to the
-- first through `duplicate_of` and left out of the aggregates.
CREATE TABLE postings (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    duplicate_of TEXT,
    origin TEXT,
    code_rome TEXT,
    title TEXT NOT NULL,
    code_insee TEXT,
    employment_area_code TEXT NOT NULL,
    departement_code TEXT NOT NULL,
    month TEXT NOT NULL,
    contract TEXT,
    positions BIGINT NOT NULL,
    skills TEXT NOT NULL,
    synthetic BOOLEAN NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX postings_fingerprint ON postings (fingerprint);
-- Postings and positions per ROME × zone d'emploi × month ('' when the
-- commune is unknown), duplicates left out.
CREATE TABLE posting_demand (
    code_rome TEXT NOT NULL,
    employment_area_code TEXT NOT NULL,
    departement_code TEXT NOT NULL,
    month TEXT NOT NULL,
    postings BIGINT NOT NULL,
    positions BIGINT NOT NULL,
    synthetic BIGINT NOT NULL,
    PRIMARY KEY (code_rome, employment_area_code, month)
);
CREATE INDEX posting_demand_departement ON posting_demand (departement_code);
CREATE INDEX posting_demand_area ON posting_demand (employment_area_code);
-- Postings asking each ROME compétence or savoir, per ROME × département.
CREATE TABLE posting_skill_demand (
    code_rome TEXT NOT NULL,
    departement_code TEXT NOT NULL,
    code_ogr BIGINT NOT NULL,
    postings BIGINT NOT NULL,
    PRIMARY KEY (code_rome, departement_code, code_ogr)
);
CREATE INDEX posting_skill_demand_departement ON posting_skill_demand (departement_code);
