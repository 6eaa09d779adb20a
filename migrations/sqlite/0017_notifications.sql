-- Operational notifications to an HTTP destination (issue 16 item 6): drain errors, failed
-- exports and failed schedules, besides the existing emails.
--
-- `notification_settings`: one destination per organization — an `http` secret of the
-- destination secret store (its URL, authorization and signing secrets), the body format
-- (`outflow`: a signed JSON event; `slack`: `{"text": …}`, still signed) and the event
-- types wanted (a JSON array).
CREATE TABLE notification_settings (
    org_id     TEXT PRIMARY KEY REFERENCES orgs (id),
    secret_id  TEXT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('outflow', 'slack')),
    events     TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- The outbox: one row per occurrence, written in the transaction of the occurrence's audit
-- record where there is one, delivered by the runner (leased, so one node at a time). `id`
-- is the event id and the `webhook-id` of every attempt, so a receiver can drop duplicates.
CREATE TABLE notification_events (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    type            TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX notification_events_due ON notification_events (state, next_attempt_at);
CREATE INDEX notification_events_org ON notification_events (org_id, created_at);
