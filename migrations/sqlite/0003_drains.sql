-- Data drains (SPEC §5), their encrypted destination credentials, and their delivery log.

CREATE TABLE secrets (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('http', 'aws', 'datadog')),
    sealed     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX secrets_org ON secrets (org_id, created_at);

CREATE TABLE drains (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    name              TEXT NOT NULL,
    data_type         TEXT NOT NULL,
    scope             TEXT NOT NULL,
    destination       TEXT NOT NULL,
    secret_id         TEXT NOT NULL REFERENCES secrets (id),
    status            TEXT NOT NULL CHECK (status IN ('active', 'paused', 'error')),
    status_reason     TEXT,
    cursor_pos        INTEGER NOT NULL,
    pending_last      INTEGER,
    failed_cycles     INTEGER NOT NULL DEFAULT 0,
    records_delivered INTEGER NOT NULL DEFAULT 0,
    last_synced_at    INTEGER,
    oldest_pending_at INTEGER,
    start_ts          INTEGER,
    lease_owner       TEXT,
    lease_until       INTEGER,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX drains_org ON drains (org_id, created_at);
CREATE INDEX drains_claim ON drains (status, lease_until);

CREATE TABLE drain_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    drain_id    TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('live', 'replay', 'test')),
    batch_key   TEXT NOT NULL,
    first_pos   INTEGER,
    last_pos    INTEGER,
    records     INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    note        TEXT,
    duration_ms INTEGER NOT NULL,
    bytes       INTEGER,
    attempt     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX drain_deliveries_drain ON drain_deliveries (drain_id, id);
