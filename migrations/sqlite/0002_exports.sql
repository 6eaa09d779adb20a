-- One-time export jobs (SPEC §4): a queue claimed with leases, so several `outflow serve`
-- processes never run a job twice and a job whose worker died is picked up again.

CREATE TABLE export_jobs (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    requested_by     TEXT NOT NULL,
    requester_email  TEXT,
    data_type        TEXT NOT NULL,
    spec             TEXT NOT NULL,
    range_start      INTEGER NOT NULL,
    range_end        INTEGER NOT NULL,
    timezone         TEXT NOT NULL,
    format           TEXT NOT NULL,
    gzip             INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('REQUESTED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED')),
    rows_written     INTEGER NOT NULL DEFAULT 0,
    size_bytes       INTEGER,
    file_key         TEXT,
    file_name        TEXT,
    error            TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    expires_at       INTEGER
) STRICT;
CREATE INDEX export_jobs_history ON export_jobs (org_id, created_at DESC, id DESC);
CREATE INDEX export_jobs_queue ON export_jobs (state, created_at);
