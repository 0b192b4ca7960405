-- The keyed audit chain (docs/SECURITY.md, "Audit log"). Entries written
-- from now on are sealed with an HMAC-SHA256 under the server's key
-- (chain_version 2); those written before stay verifiable as unkeyed
-- SHA-256 (chain_version 1).
ALTER TABLE audit_log ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;
DROP TRIGGER audit_log_no_rewrite;
CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OF seq, at, actor_user_id, action, campus_id, entity, entity_id, detail, personal_hash, prev_hash, hash, chain_version ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- The chain's signed end: the last entry's number and seal, and an HMAC over
-- them under the key. One row, written by the application at its first start
-- with a key, then moved forward in the transaction of every append, so that
-- removing the last entries leaves it naming an entry that is gone. SQLite
-- has no TRUNCATE: a DELETE without WHERE fires the row triggers.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves forward');
END;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.id IS NOT OLD.id OR NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves forward');
END;
