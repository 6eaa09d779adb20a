-- Data drains (SPEC §5), their encrypted destination credentials, and their delivery log.

CREATE TABLE secrets (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('http', 'aws', 'datadog')),
    sealed     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX secrets_org ON secrets (org_id, created_at);

CREATE TABLE drains (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    name              TEXT NOT NULL,
    data_type         TEXT NOT NULL,
    scope             JSONB NOT NULL,
    destination       JSONB NOT NULL,
    secret_id         TEXT NOT NULL REFERENCES secrets (id),
    status            TEXT NOT NULL CHECK (status IN ('active', 'paused', 'error')),
    status_reason     TEXT,
    cursor_pos        BIGINT NOT NULL,
    pending_last      BIGINT,
    failed_cycles     INTEGER NOT NULL DEFAULT 0,
    records_delivered BIGINT NOT NULL DEFAULT 0,
    last_synced_at    TIMESTAMPTZ,
    oldest_pending_at TIMESTAMPTZ,
    start_ts          TIMESTAMPTZ,
    lease_owner       TEXT,
    lease_until       TIMESTAMPTZ,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX drains_org ON drains (org_id, created_at);
CREATE INDEX drains_claim ON drains (status, lease_until);

CREATE TABLE drain_deliveries (
    id          BIGSERIAL PRIMARY KEY,
    drain_id    TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('live', 'replay', 'test')),
    batch_key   TEXT NOT NULL,
    first_pos   BIGINT,
    last_pos    BIGINT,
    records     INTEGER NOT NULL,
    ok          BOOLEAN NOT NULL,
    status_code INTEGER,
    error       TEXT,
    note        TEXT,
    duration_ms BIGINT NOT NULL,
    bytes       BIGINT,
    attempt     INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX drain_deliveries_drain ON drain_deliveries (drain_id, id);
