-- Staff sessions ended before their expiry (signed out): their tokens are refused until
-- `until`, the token's own expiry, after which the row may go.
CREATE TABLE ended_sessions (
    id    TEXT PRIMARY KEY,
    until BIGINT NOT NULL
);
