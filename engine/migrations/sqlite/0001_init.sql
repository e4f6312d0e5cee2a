-- lienthong schema, SQLite dialect. Mirrors postgres/0001_init.sql; instants are i64 Unix
-- milliseconds, documents are JSON text.
CREATE TABLE procedures (
    hash           TEXT PRIMARY KEY,
    id             TEXT NOT NULL,
    version        BIGINT NOT NULL,
    effective_from TEXT NOT NULL,
    definition     TEXT NOT NULL,
    published_at   BIGINT NOT NULL,
    UNIQUE (id, version)
);

CREATE TABLE dossiers (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    procedure_hash TEXT NOT NULL REFERENCES procedures (hash),
    submission_key TEXT UNIQUE,
    status         TEXT NOT NULL,
    version        BIGINT NOT NULL,
    state          TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    closed_at      BIGINT
);
CREATE INDEX dossiers_status ON dossiers (status);

CREATE TABLE journal (
    dossier_id TEXT NOT NULL,
    version    BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    node       TEXT NOT NULL,
    event      TEXT NOT NULL,
    status     TEXT NOT NULL,
    PRIMARY KEY (dossier_id, version)
);

CREATE TABLE timers (
    dossier_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    step        TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    epoch       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dossier_id, kind, step)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    effect       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    epoch        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_available ON outbox (available_at);

CREATE TABLE tasks (
    dossier_id  TEXT NOT NULL,
    step        TEXT NOT NULL,
    agency      TEXT NOT NULL,
    action      TEXT NOT NULL,
    request     TEXT NOT NULL,
    status      TEXT NOT NULL,
    claimed_by  TEXT,
    claim_until BIGINT,
    opened_at   BIGINT NOT NULL,
    PRIMARY KEY (dossier_id, step)
);
CREATE INDEX tasks_agency ON tasks (agency, status);

CREATE TABLE code_sequences (
    agency_code TEXT NOT NULL,
    day         TEXT NOT NULL,
    last        BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day)
);

CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    next_at     BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    epoch       BIGINT NOT NULL DEFAULT 0
);
