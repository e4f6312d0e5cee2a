-- Mirrors sqlite/0007_write_fences.sql, so both dialects keep the same migration numbers and
-- tables. PostgreSQL's write path checks row counts statement by statement and never writes
-- here; the table stays empty.
CREATE TABLE write_fences (
    dossier_version INTEGER CONSTRAINT dossier_version_moved CHECK (dossier_version IS NULL),
    claim           INTEGER CONSTRAINT claim_taken_over CHECK (claim IS NULL)
);
