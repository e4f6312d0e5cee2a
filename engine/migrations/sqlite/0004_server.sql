-- The server's tables, sqlite dialect. Mirrors postgres/0004_server.sql.
--
-- Where a dossier comes from: the submitting system, and the province and commune it was
-- filed in (agencies and managers may be scoped to them).
ALTER TABLE dossiers ADD COLUMN submitted_by TEXT;
ALTER TABLE dossiers ADD COLUMN province TEXT;
ALTER TABLE dossiers ADD COLUMN commune TEXT;
CREATE INDEX dossiers_scope ON dossiers (province, commune);

-- Each journal row carries SHA-256(previous row's hash, this row): the transitions of a
-- dossier form a hash chain that `lienthong audit verify` walks.
ALTER TABLE journal ADD COLUMN hash TEXT;

-- API keys of systems: only the SHA-256 of the key is kept; the key is shown once.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    agency      TEXT,
    province    TEXT,
    commune     TEXT,
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Staff accounts: argon2id password hashes (PHC strings).
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    agency        TEXT,
    province      TEXT,
    commune       TEXT,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

-- Every API action, append-only: row n carries SHA-256(row n-1's hash, row n).
CREATE TABLE audit_log (
    seq     BIGINT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    source  TEXT NOT NULL,
    outcome BIGINT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL
);

-- Yearly official notices uploaded by administrators (working-day swaps, Tết dates);
-- every node builds its calendar from the built-in notices and these.
CREATE TABLE calendar_notices (
    year        BIGINT PRIMARY KEY,
    notice      TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
