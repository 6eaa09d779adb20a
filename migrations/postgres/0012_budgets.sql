-- Credit budgets and their alerts (issue 14 item 4). `budget_alerts` holds one row per
-- (budget, period, threshold): its unique key is the claim that makes an alert fire exactly
-- once across concurrent evaluations, restarts and several `serve` processes. `sent_at` stays
-- NULL until every notification went out, so a crash between claim and send leaves a row the
-- runner delivers later (leased, so one node at a time).

CREATE TABLE budgets (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    team_id       TEXT,
    period        TEXT NOT NULL CHECK (period IN ('month', 'billing_period')),
    limit_micros  BIGINT NOT NULL,
    thresholds    JSONB NOT NULL,
    notify        JSONB NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX budgets_org ON budgets (org_id, created_at);

CREATE TABLE budget_alerts (
    id              TEXT PRIMARY KEY,
    budget_id       TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    period_start    TIMESTAMPTZ NOT NULL,
    period_end      TIMESTAMPTZ NOT NULL,
    threshold       BIGINT  NOT NULL,
    spent_micros    BIGINT NOT NULL,
    limit_micros    BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    delivered       JSONB NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    UNIQUE (budget_id, period_start, threshold)
);
CREATE INDEX budget_alerts_due ON budget_alerts (state, next_attempt_at);
