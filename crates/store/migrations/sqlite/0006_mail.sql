-- Password reset links (single use, expiring; only their hash is kept) and
-- the outbox of mail to send (read by `passerelle admin outbox` when no SMTP
-- server is configured).
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
-- Invitations to join a campus as a member editor, and requests from an
-- organisation to join a campus.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    campus_id INTEGER NOT NULL REFERENCES campuses (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT
);
-- An organisation asks to join: what it says of itself, and the contact
-- address to invite once accepted (personal data, cleared by the decision).
CREATE TABLE join_requests (
    id INTEGER PRIMARY KEY,
    campus_id INTEGER NOT NULL REFERENCES campuses (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    siret TEXT,
    uai TEXT,
    code_insee TEXT,
    contact_email TEXT,
    message TEXT,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decision TEXT CHECK (decision IN ('acceptee', 'refusee')),
    member_id INTEGER REFERENCES members (id) ON DELETE SET NULL
);
-- Legal pages as edited by the network admin (the shipped text is used
-- until then).
CREATE TABLE legal_pages (
    slug TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
