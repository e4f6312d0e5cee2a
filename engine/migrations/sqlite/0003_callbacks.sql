-- Agency callbacks, sqlite dialect. Mirrors postgres/0003_callbacks.sql.
--
-- Every accepted callback signature is recorded once: a signature seen again is a replay
-- and is refused, on whichever node it arrives.
CREATE TABLE callback_receipts (
    signature   TEXT PRIMARY KEY,
    agency      TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX callback_receipts_received ON callback_receipts (received_at);
