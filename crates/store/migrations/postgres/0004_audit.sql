-- The audit log: who did what, when (UTC) and from where, each entry
-- chained to the previous one by a SHA-256 so that tampering shows
-- (`passerelle audit verify`). The personal fields (actor_label, ip_prefix)
-- are covered through personal_hash only, so that retention and erasure can
-- clear them without breaking the chain. The application never updates or
-- deletes entries; the trigger below refuses it for every other column.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_label TEXT,
    ip_prefix TEXT,
    -- Random salt of personal_hash, cleared with the personal fields so that
    -- an erased actor cannot be confirmed by hashing guesses.
    personal_salt TEXT,
    action TEXT NOT NULL,
    campus_id BIGINT,
    entity TEXT,
    entity_id TEXT,
    detail TEXT,
    personal_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_campus ON audit_log (campus_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.at IS DISTINCT FROM OLD.at
        OR NEW.actor_user_id IS DISTINCT FROM OLD.actor_user_id OR NEW.action IS DISTINCT FROM OLD.action
        OR NEW.campus_id IS DISTINCT FROM OLD.campus_id OR NEW.entity IS DISTINCT FROM OLD.entity
        OR NEW.entity_id IS DISTINCT FROM OLD.entity_id OR NEW.detail IS DISTINCT FROM OLD.detail
        OR NEW.personal_hash IS DISTINCT FROM OLD.personal_hash OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash
        OR NEW.hash IS DISTINCT FROM OLD.hash THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
