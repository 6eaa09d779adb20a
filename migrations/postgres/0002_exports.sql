-- One-time export jobs (SPEC §4): a queue claimed with leases, so several `outflow serve`
-- processes never run a job twice and a job whose worker died is picked up again.

CREATE TABLE export_jobs (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    requested_by     TEXT NOT NULL,
    requester_email  TEXT,
    data_type        TEXT NOT NULL,
    spec             JSONB NOT NULL,
    range_start      TIMESTAMPTZ NOT NULL,
    range_end        TIMESTAMPTZ NOT NULL,
    timezone         TEXT NOT NULL,
    format           TEXT NOT NULL,
    gzip             BOOLEAN NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('REQUESTED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED')),
    rows_written     BIGINT NOT NULL DEFAULT 0,
    size_bytes       BIGINT,
    file_key         TEXT,
    file_name        TEXT,
    error            TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      TIMESTAMPTZ,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    expires_at       TIMESTAMPTZ
);
CREATE INDEX export_jobs_history ON export_jobs (org_id, created_at DESC, id DESC);
CREATE INDEX export_jobs_queue ON export_jobs (state, created_at);
