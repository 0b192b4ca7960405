-- Imports of national size: a member without SIRET or UAI is found by its
-- name (`Tx::upsert_members`, the LHÉO provider look-up), which scanned the
-- campus' members once per row without this index.
CREATE INDEX members_name ON members (campus_id, name);
-- A postings import finds each fingerprint's holder (its smallest id) for
-- the whole table at its end: with the id in the index, from the index alone.
DROP INDEX postings_fingerprint;
CREATE INDEX postings_fingerprint ON postings (fingerprint, id);
-- Digest of a formation's fields, ROME links, sessions and notes
-- (`store::bulk`): a re-import tells an unchanged row from its key and
-- digest without reading it back. NULL for rows written before it: those
-- are compared field by field, and get their digest then.
ALTER TABLE formations ADD COLUMN digest TEXT;
