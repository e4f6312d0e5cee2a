-- The reporting model's stored tallies (engine/src/report/rollup.rs). One row per level
-- (0 nationwide, 1 province, 2 commune), area code ('' nationwide), procedure id and
-- receipt day (Vietnam time, yyyy-mm-dd): the tally of the dossiers received that day
-- there and closed before the watermark, as JSON; a province row also counts its communes.
CREATE TABLE report_rollups (
    level        BIGINT NOT NULL,
    area         TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    day          TEXT NOT NULL,
    tally        TEXT NOT NULL,
    communes     TEXT NOT NULL,
    PRIMARY KEY (level, area, procedure_id, day)
);

-- Closed dossiers before `closed_before` are in report_rollups; moved with them.
CREATE TABLE report_watermark (
    singleton     BIGINT PRIMARY KEY CHECK (singleton = 1),
    closed_before BIGINT NOT NULL
);


-- A report counts the dossiers carried over into its period (received before it, open at
-- its start) from this index alone; it also serves every read by closing instant, so the
-- index on `closed_at` alone goes.
CREATE INDEX dossiers_carried ON dossiers (closed_at, received_at, province, commune, procedure_hash);
DROP INDEX dossiers_closed;
