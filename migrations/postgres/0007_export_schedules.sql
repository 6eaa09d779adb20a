-- Scheduled exports (issue 15): a schedule queues one export job per period of its cadence.
-- `export_schedule_runs` holds one row per (schedule, period): its unique key is what makes
-- a period run exactly once across restarts and several `serve` processes.

CREATE TABLE export_schedules (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    export        JSONB NOT NULL,
    cadence       JSONB NOT NULL,
    deliver       JSONB NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('active', 'paused', 'error')),
    state_reason  TEXT,
    failed_runs   INTEGER NOT NULL DEFAULT 0,
    next_run_at   TIMESTAMPTZ,
    covered_until TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX export_schedules_org ON export_schedules (org_id, created_at);
CREATE INDEX export_schedules_due ON export_schedules (state, next_run_at);

CREATE TABLE export_schedule_runs (
    id                TEXT PRIMARY KEY,
    schedule_id       TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    period_start      TIMESTAMPTZ NOT NULL,
    period_end        TIMESTAMPTZ NOT NULL,
    trigger_kind      TEXT NOT NULL CHECK (trigger_kind IN ('schedule', 'manual')),
    export_id         TEXT,
    skipped_reason    TEXT,
    delivery          TEXT NOT NULL CHECK (delivery IN ('none', 'pending', 'done', 'failed')),
    delivered         JSONB NOT NULL,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    delivery_error    TEXT,
    next_delivery_at  TIMESTAMPTZ,
    lease_owner       TEXT,
    lease_until       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    UNIQUE (schedule_id, period_start)
);
CREATE INDEX export_schedule_runs_delivery ON export_schedule_runs (delivery, next_delivery_at);
