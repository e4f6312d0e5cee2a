-- Fences of SQLite's one-round-trip write path (engine/src/store/sqlite_write.rs). After a statement
-- that must touch exactly one row, `INSERT INTO write_fences (<fence>) SELECT 1 WHERE
-- changes() <> 1` adds a row only when it did not; that row breaks the fence's named CHECK
-- constraint, which fails the whole write. The table therefore stays empty.
CREATE TABLE write_fences (
    dossier_version INTEGER CONSTRAINT dossier_version_moved CHECK (dossier_version IS NULL),
    claim           INTEGER CONSTRAINT claim_taken_over CHECK (claim IS NULL)
);
