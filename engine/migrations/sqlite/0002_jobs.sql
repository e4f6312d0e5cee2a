-- Periodic jobs, SQLite dialect. Mirrors postgres/0002_jobs.sql.
--
-- One row per claimed schedule tick, written in the same transaction as the claim (the
-- compare-and-set on `schedules.next_at`): `running` until the job ends, then `ran` or
-- `failed`; a tick on a non-working day of a `working_days_only` schedule is `skipped` at once.
-- A row left `running` means the node stopped during the job: ticks run at most once.
CREATE TABLE job_runs (
    name        TEXT NOT NULL,
    job         TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    node        TEXT NOT NULL,
    ran_at      BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('running', 'ran', 'skipped', 'failed')),
    summary     TEXT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (name, due_at)
);
CREATE INDEX job_runs_ran ON job_runs (ran_at);

-- Processing figures per procedure and local day (`daily_figures` job), a JSON document.
CREATE TABLE daily_figures (
    procedure_id TEXT NOT NULL,
    day          TEXT NOT NULL,
    figures      TEXT NOT NULL,
    computed_at  BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, day)
);

-- The figures read the dossiers closed on a day.
CREATE INDEX dossiers_closed ON dossiers (closed_at);
