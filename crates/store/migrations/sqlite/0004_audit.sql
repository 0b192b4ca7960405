-- The audit log: who did what, when (UTC) and from where, each entry
-- chained to the previous one by a SHA-256 so that tampering shows
-- (`passerelle audit verify`). The personal fields (actor_label, ip_prefix)
-- are covered through personal_hash only, so that retention and erasure can
-- clear them without breaking the chain. The application never updates or
-- deletes entries; the triggers below refuse it for every other column.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_label TEXT,
    ip_prefix TEXT,
    -- Random salt of personal_hash, cleared with the personal fields so that
    -- an erased actor cannot be confirmed by hashing guesses.
    personal_salt TEXT,
    action TEXT NOT NULL,
    campus_id INTEGER,
    entity TEXT,
    entity_id TEXT,
    detail TEXT,
    personal_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_campus ON audit_log (campus_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OF seq, at, actor_user_id, action, campus_id, entity, entity_id, detail, personal_hash, prev_hash, hash ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
