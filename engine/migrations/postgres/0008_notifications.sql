-- Timer firings that changed nothing in their dossier and only sent notifications (deadline
-- warnings): kept here, beside the journal, instead of as new dossier versions. `version` is
-- the dossier's version the timer fired at; the journal's replay property is untouched, since
-- none of these changed a state.
CREATE TABLE notifications (
    dossier_id TEXT NOT NULL,
    version    BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    node       TEXT NOT NULL,
    event      TEXT NOT NULL,
    PRIMARY KEY (dossier_id, version, event)
);

CREATE INDEX notifications_at ON notifications (at);
