-- Learners' profiles, consents, the register of GDPR requests, and the lock
-- that lets one server at a time run a background job.
CREATE TABLE learner_profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    campus_id INTEGER NOT NULL REFERENCES campuses (id) ON DELETE CASCADE,
    -- eleve, apprenti, etudiant, demandeur_emploi, salarie, decrocheur, autre
    status TEXT NOT NULL,
    -- European level of the highest diploma, 0 for none.
    level INTEGER,
    code_insee TEXT,
    -- ROME codes the person is interested in, separated by spaces.
    interests TEXT,
    -- Only to tell whether a parent must consent (under 15).
    birth_date TEXT,
    updated_at TEXT NOT NULL
);
-- Consent given for a purpose, and withdrawn; for a learner under 15 the
-- consent of a parent as well (who gave it, when).
CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    given_at TEXT NOT NULL,
    withdrawn_at TEXT,
    parent_name TEXT,
    parent_email TEXT,
    parent_given_at TEXT
);
CREATE INDEX consents_user ON consents (user_id);
-- Requests about personal data (access, rectification, erasure), with the
-- date by which they must be answered (one month).
CREATE TABLE privacy_requests (
    id INTEGER PRIMARY KEY,
    user_id INTEGER,
    kind TEXT NOT NULL CHECK (kind IN ('acces', 'rectification', 'effacement')),
    received_at TEXT NOT NULL,
    due_on TEXT NOT NULL,
    completed_at TEXT,
    channel TEXT NOT NULL
);
CREATE TABLE job_locks (
    name TEXT PRIMARY KEY,
    locked_until TEXT NOT NULL,
    last_run_at TEXT
);
