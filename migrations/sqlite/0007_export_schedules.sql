-- Scheduled exports (issue 15): a schedule queues one export job per period of its cadence.
-- `export_schedule_runs` holds one row per (schedule, period): its unique key is what makes
-- a period run exactly once across restarts and several `serve` processes.

CREATE TABLE export_schedules (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    export        TEXT NOT NULL,
    cadence       TEXT NOT NULL,
    deliver       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('active', 'paused', 'error')),
    state_reason  TEXT,
    failed_runs   INTEGER NOT NULL DEFAULT 0,
    next_run_at   INTEGER,
    covered_until INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX export_schedules_org ON export_schedules (org_id, created_at);
CREATE INDEX export_schedules_due ON export_schedules (state, next_run_at);

CREATE TABLE export_schedule_runs (
    id                TEXT PRIMARY KEY,
    schedule_id       TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    period_start      INTEGER NOT NULL,
    period_end        INTEGER NOT NULL,
    trigger_kind      TEXT NOT NULL CHECK (trigger_kind IN ('schedule', 'manual')),
    export_id         TEXT,
    skipped_reason    TEXT,
    delivery          TEXT NOT NULL CHECK (delivery IN ('none', 'pending', 'done', 'failed')),
    delivered         TEXT NOT NULL,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    delivery_error    TEXT,
    next_delivery_at  INTEGER,
    lease_owner       TEXT,
    lease_until       INTEGER,
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    UNIQUE (schedule_id, period_start)
) STRICT;
CREATE INDEX export_schedule_runs_delivery ON export_schedule_runs (delivery, next_delivery_at);
