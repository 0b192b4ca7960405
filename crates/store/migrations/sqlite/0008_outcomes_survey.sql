-- Observatory, continued (issue #4): the CFD of certifications (the key
-- of InserJeunes), the BCN nomenclatures that name InserJeunes' codes,
-- graduate outcomes per formation × région and per establishment, and the
-- campus needs survey.
ALTER TABLE certifications ADD COLUMN cfd TEXT;
CREATE INDEX certifications_cfd ON certifications (cfd);
-- Reload Certif Info at the next import so that the new column is filled.
UPDATE datasets SET checksum = 'avant-cfd' WHERE name = 'certifinfo';

-- BCN: formation diplôme (CFD) with its label and level, and MEFSTAT11 → CFD.
CREATE TABLE bcn_formations (
    cfd TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    short_label TEXT NOT NULL,
    level_code TEXT NOT NULL,
    -- Qualification level of the RNCP nomenclature (3 = CAP … 8), when known.
    rncp_level BIGINT
);
CREATE TABLE bcn_levels (
    level_code TEXT PRIMARY KEY,
    rncp_level BIGINT
);
CREATE TABLE bcn_mefs (
    mefstat11 TEXT PRIMARY KEY,
    cfd TEXT NOT NULL
);
-- One imported outcome file; replaced as a whole.
CREATE TABLE outcome_sources (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    file TEXT NOT NULL,
    checksum TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);
-- InserJeunes per formation × région (INSEE code, not `code_region_ij`)
-- × voie × millésime, with the rates and the quadrant computed at import.
CREATE TABLE outcomes_region (
    millesime TEXT NOT NULL,
    region_code TEXT NOT NULL,
    voie TEXT NOT NULL,
    formation_key TEXT NOT NULL,
    cfd TEXT,
    mefstat11 TEXT,
    label TEXT,
    rncp_level BIGINT,
    final_year BIGINT,
    leavers BIGINT,
    employed_6m BIGINT,
    employed_12m BIGINT,
    further_study BIGINT,
    rate_employed_6m DOUBLE PRECISION,
    rate_employed_12m DOUBLE PRECISION,
    rate_further_study DOUBLE PRECISION,
    rate_favourable DOUBLE PRECISION,
    quadrant TEXT,
    PRIMARY KEY (millesime, region_code, voie, formation_key)
);
CREATE INDEX outcomes_region_cfd ON outcomes_region (cfd);
-- InserJeunes per establishment (lycées professionnels, CFA).
CREATE TABLE outcomes_establishment (
    millesime TEXT NOT NULL,
    uai TEXT NOT NULL,
    voie TEXT NOT NULL,
    subset TEXT NOT NULL,
    label TEXT NOT NULL,
    region_name TEXT NOT NULL,
    rate_further_study DOUBLE PRECISION,
    rate_employed_6m DOUBLE PRECISION,
    rate_expected DOUBLE PRECISION,
    value_added DOUBLE PRECISION,
    PRIMARY KEY (millesime, uai, voie, subset)
);

-- The campus needs survey: campaigns with dates, and the answers of member
-- employers per ROME métier.
CREATE TABLE survey_campaigns (
    id INTEGER PRIMARY KEY,
    campus_id INTEGER NOT NULL REFERENCES campuses (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE survey_answers (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES survey_campaigns (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    code_rome TEXT NOT NULL,
    code_insee TEXT,
    planned BIGINT NOT NULL,
    difficult BIGINT NOT NULL,
    seasonal BIGINT NOT NULL,
    apprentices BIGINT NOT NULL,
    tutors BIGINT NOT NULL,
    comment TEXT,
    answered_at TEXT NOT NULL,
    UNIQUE (campaign_id, member_id, code_rome)
);
CREATE INDEX survey_answers_campaign ON survey_answers (campaign_id);

-- A campus' own sector → ROME domains mapping; none: its filière's defaults.
CREATE TABLE campus_rome_domains (
    campus_id BIGINT NOT NULL REFERENCES campuses (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (campus_id, domain)
);
