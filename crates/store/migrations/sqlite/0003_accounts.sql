-- Accounts, roles per campus, sessions, API tokens and sign-in throttling.
-- Secrets are never stored in clear: passwords as Argon2id PHC strings,
-- session identifiers and API tokens as SHA-256 hashes of the random value
-- the client holds.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    -- Lower-cased; the sign-in identifier.
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- TOTP second factor: the shared secret (base32), whether it is
    -- confirmed, and the last time step accepted (no code is accepted twice).
    totp_secret TEXT,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step INTEGER,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);
-- A role held by a person: on one campus (every role but network_admin),
-- and for member editors on one member organisation of that campus.
CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('network_admin', 'campus_manager', 'member_editor', 'observer', 'learner')),
    campus_id INTEGER REFERENCES campuses (id) ON DELETE CASCADE,
    member_id INTEGER REFERENCES members (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    CHECK ((role = 'network_admin') = (campus_id IS NULL)),
    CHECK ((role = 'member_editor') = (member_id IS NOT NULL))
);
CREATE UNIQUE INDEX grants_unique ON grants (user_id, role, COALESCE(campus_id, 0), COALESCE(member_id, 0));
CREATE INDEX grants_campus ON grants (campus_id);
CREATE TABLE auth_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    -- 'ok', or 'totp' / 'enrol' while the second factor is awaited: such a
    -- session grants no rights.
    stage TEXT NOT NULL DEFAULT 'ok' CHECK (stage IN ('ok', 'totp', 'enrol')),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    -- Truncated address (IPv4 /24, IPv6 /48) and browser, shown to the
    -- person in their list of sessions.
    ip_prefix TEXT,
    user_agent TEXT
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    can_write BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
-- Failed sign-ins per key ('account:EMAIL' or 'ip:PREFIX') in the current
-- window. Kept in the database so that the limit holds across servers.
CREATE TABLE auth_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL
);
