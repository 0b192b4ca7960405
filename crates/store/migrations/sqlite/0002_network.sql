-- Campus data: campuses, members, contacts, formations, sessions, and the
-- change log that keeps every server's search index current. Campus data
-- refers to reference codes without foreign keys on purpose: a new version
-- of a reference data set may drop a code, and that must not block its
-- import; the application validates codes when they are written.
CREATE TABLE campuses (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    theme TEXT,
    description TEXT,
    label_start TEXT,
    label_end TEXT,
    support_member_id BIGINT,
    time_zone TEXT NOT NULL,
    website TEXT
);
-- Territorial perimeter: départements, zones d'emploi or communes.
CREATE TABLE campus_territories (
    campus_id BIGINT NOT NULL REFERENCES campuses (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (campus_id, kind, code)
);
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    campus_id BIGINT NOT NULL REFERENCES campuses (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    siret TEXT,
    uai TEXT,
    code_insee TEXT,
    address TEXT,
    postcode TEXT,
    website TEXT,
    description TEXT,
    joined_on TEXT,
    left_on TEXT,
    status TEXT NOT NULL,
    invented BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX members_siret ON members (campus_id, siret);
CREATE UNIQUE INDEX members_uai ON members (campus_id, uai);
CREATE INDEX members_campus ON members (campus_id, status);
-- Contacts hold personal data: never shown on public pages.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT,
    email TEXT,
    phone TEXT,
    invented BOOLEAN NOT NULL
);
CREATE INDEX contacts_member ON contacts (member_id);
CREATE TABLE formations (
    id INTEGER PRIMARY KEY,
    campus_id BIGINT NOT NULL REFERENCES campuses (id),
    external_key TEXT NOT NULL,
    title TEXT NOT NULL,
    certification_code BIGINT,
    level BIGINT,
    pathway TEXT NOT NULL,
    modality TEXT NOT NULL,
    provider_id BIGINT NOT NULL REFERENCES members (id),
    site_code_insee TEXT,
    capacity BIGINT,
    duration_hours BIGINT,
    description TEXT,
    status TEXT NOT NULL,
    invented BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX formations_key ON formations (campus_id, external_key);
CREATE INDEX formations_provider ON formations (provider_id);
CREATE INDEX formations_certification ON formations (certification_code);
CREATE TABLE formation_romes (
    formation_id BIGINT NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    code_rome TEXT NOT NULL,
    derived BOOLEAN NOT NULL,
    PRIMARY KEY (formation_id, code_rome)
);
CREATE INDEX formation_romes_rome ON formation_romes (code_rome);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    formation_id BIGINT NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    places BIGINT
);
CREATE INDEX sessions_formation ON sessions (formation_id);
-- Data-quality notes left by imports, shown to campus staff.
CREATE TABLE formation_notes (
    id INTEGER PRIMARY KEY,
    formation_id BIGINT NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX formation_notes_formation ON formation_notes (formation_id);
-- Every write of indexed data appends here, in the same transaction; each
-- server's search index follows it by sequence number.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at TEXT NOT NULL
);
