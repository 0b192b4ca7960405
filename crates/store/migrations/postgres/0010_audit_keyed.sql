-- The keyed audit chain (docs/SECURITY.md, "Audit log"). Entries written
-- from now on are sealed with an HMAC-SHA256 under the server's key
-- (chain_version 2); those written before stay verifiable as unkeyed
-- SHA-256 (chain_version 1).
ALTER TABLE audit_log ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.at IS DISTINCT FROM OLD.at
        OR NEW.actor_user_id IS DISTINCT FROM OLD.actor_user_id OR NEW.action IS DISTINCT FROM OLD.action
        OR NEW.campus_id IS DISTINCT FROM OLD.campus_id OR NEW.entity IS DISTINCT FROM OLD.entity
        OR NEW.entity_id IS DISTINCT FROM OLD.entity_id OR NEW.detail IS DISTINCT FROM OLD.detail
        OR NEW.personal_hash IS DISTINCT FROM OLD.personal_hash OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash
        OR NEW.hash IS DISTINCT FROM OLD.hash OR NEW.chain_version IS DISTINCT FROM OLD.chain_version THEN
        RAISE EXCEPTION 'the audit log is append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- Row triggers do not fire on TRUNCATE: refuse it with a statement trigger.
CREATE FUNCTION audit_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
-- The chain's signed end: the last entry's number and seal, and an HMAC over
-- them under the key. One row, written by the application at its first start
-- with a key, then moved forward in the transaction of every append, so that
-- removing the last entries leaves it naming an entry that is gone.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'the audit head only moves forward';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
